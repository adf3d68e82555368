"""The per-epoch history, written as JSON and CSV (atomically) after every epoch."""
import csv
import io
import json
from pathlib import Path

from mnist.atomic import atomic_write

COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "train_seconds")


def write_history(out_dir, history: list) -> None:
    out_dir = Path(out_dir)
    with atomic_write(out_dir / "history.json", "w") as file:
        json.dump(history, file, indent=1)
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    with atomic_write(out_dir / "history.csv", "w") as file:
        file.write(table.getvalue())
