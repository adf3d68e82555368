"""Everything that defines a training run, so a checkpoint can rebuild and resume it."""
from dataclasses import asdict, dataclass, fields

from mnist.model import DEFAULT_LAYER_SIZES

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine")


@dataclass
class TrainConfig:
    layer_sizes: tuple = DEFAULT_LAYER_SIZES
    activation: str = "relu"
    dropout: float = 0.0
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    step_size: int = 5
    gamma: float = 0.1
    validation_size: int = 5000
    standardize: bool = False
    seed: int = 0
    data_dir: str = None
    train_limit: int = None  # use only the first N training images (quick runs, tests)
    test_limit: int = None

    def to_dict(self) -> dict:
        record = asdict(self)
        record["layer_sizes"] = list(self.layer_sizes)
        return record

    @classmethod
    def from_dict(cls, record: dict) -> "TrainConfig":
        known = {field.name for field in fields(cls)}
        config = cls(**{key: value for key, value in record.items() if key in known})
        config.layer_sizes = tuple(config.layer_sizes)
        return config
