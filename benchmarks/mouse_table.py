"""Write the real mouse of ``$SLEEPSTAGE_DATA_DIR/mouse-bandpower`` as feature tables.

One table per condition, in the format ``sleepstage features`` writes and
``--feature-table`` reads (``recording``, ``epoch``, ``onset``, ``stage``, then the
features of ``benchmarks/_mouse.py``: log band powers, log EMG, relative band powers, log
theta/delta): ``mouse_baseline.csv`` (recording ``Baseline``, 24 h) and
``mouse_recovery.csv`` (recording ``Recovery``, 17.8 h after sleep deprivation). Onsets are
seconds from the first epoch of the condition, read from the clock times; the five unscored
``M`` epochs have an empty stage.

Usage::

    python benchmarks/mouse_table.py -o mouse/            # then, e.g.:
    sleepstage fit --feature-table mouse/mouse_baseline.csv -o mouse.joblib
    sleepstage predict mouse.joblib --feature-table mouse/mouse_recovery.csv -o scored/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _mouse, also when imported

from _mouse import load_mouse

from sleepstage.io import write_table

#: File written for each condition.
FILES = {"Baseline": "mouse_baseline", "Recovery": "mouse_recovery"}


def mouse_tables(path: Path | None = None) -> dict[str, pd.DataFrame]:
    """``{"Baseline": table, "Recovery": table}`` in the feature-table format."""
    tables = {}
    for condition, part in load_mouse(path).items():
        time = pd.to_datetime(part["time"])
        onset = (time - time[0]).total_seconds().to_numpy()
        meta = pd.DataFrame({
            "recording": condition,
            "epoch": np.arange(len(onset)),
            "onset": onset,
            "stage": pd.Series(part["y"], dtype=object),  # None: unscored (written empty)
        })
        tables[condition] = pd.concat([meta, part["X"]], axis=1)
    return tables


def write_mouse_tables(out_dir: str | Path, *, path: Path | None = None,
                       suffix: str = ".csv", force: bool = False) -> dict[str, Path]:
    """Write one feature table per condition into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for condition, table in mouse_tables(path).items():
        written[condition] = write_table(table, out_dir / f"{FILES[condition]}{suffix}",
                                         force=force)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--out-dir", default=".", help="folder (default: current)")
    parser.add_argument("--parquet", action="store_true", help="write .parquet, not .csv")
    parser.add_argument("--force", action="store_true", help="overwrite existing tables")
    args = parser.parse_args()
    paths = write_mouse_tables(args.out_dir, suffix=".parquet" if args.parquet else ".csv",
                               force=args.force)
    for condition, path in paths.items():
        print(f"{condition}: {path}")


if __name__ == "__main__":
    main()
