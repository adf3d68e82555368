"""The per-epoch history, written as JSON and CSV (atomically) after every epoch."""
import csv
import io
import json
from pathlib import Path

from mnist.atomic import atomic_write

COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "train_seconds")
HISTORY_NAMES = ("history.json", "history.csv")


def write_history(out_dir, history: list) -> None:
    out_dir = Path(out_dir)
    json_name, csv_name = HISTORY_NAMES
    with atomic_write(out_dir / json_name, "w") as file:
        json.dump(history, file, indent=1)
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    with atomic_write(out_dir / csv_name, "w") as file:
        file.write(table.getvalue())
