"""Time `load_task4_csv` on full-size files (3 channels x 64 800 epochs x 512 samples).

The files are written to a temporary folder with `write_task4_csv` from random float32
values at EEG scale (~1e-4 V); each value takes 10-16 characters, a little more than in
the real files (~1 GB for the three), so the timing is conservative. Wall time and
process CPU time (all threads) are reported: on a shared machine the CPU time is the
steadier figure.

Usage::

    python benchmarks/bench_load_task4.py                    # full size, both parsers
    python benchmarks/bench_load_task4.py --engine c         # pandas' C parser only
    python benchmarks/bench_load_task4.py --n-epochs 10000   # smaller
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sleepstage.data import EpochData, load_task4_csv, write_task4_csv


def make_data(n_epochs: int, seed: int = 0) -> EpochData:
    """Random float32 epochs in the reference layout, with random 1/2/3 labels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_epochs, 3, 512), dtype=np.float32) * np.float32(1e-4)
    y = rng.choice(np.array(["WAKE", "NREM", "REM"]), size=n_epochs)
    return EpochData(X, y, np.zeros(n_epochs, dtype=int), 128.0, ("eeg1", "eeg2", "emg"),
                     ("eeg", "eeg", "emg"), 4.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-epochs", type=int, default=64800)
    parser.add_argument("--engine", default="all", choices=("all", "auto", "c", "pyarrow"))
    parser.add_argument("--repeat", type=int, default=2, help="timed loads (best is reported)")
    args = parser.parse_args(argv)

    data = make_data(args.n_epochs)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        files = write_task4_csv(data, folder)
        write_s = time.perf_counter() - start
        size_mb = sum(Path(f).stat().st_size for f in files) / 1e6
        print(f"wrote {len(files)} files, {size_mb:.0f} MB, in {write_s:.1f} s", file=sys.stderr)
        engines = ("c", "pyarrow") if args.engine == "all" else (args.engine,)
        for engine in engines:
            walls, cpus = [], []
            for _ in range(args.repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                loaded = load_task4_csv(folder, engine=engine)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            if not np.array_equal(loaded.X, data.X) or not np.array_equal(loaded.y, data.y):
                print("round trip FAILED: loaded values differ from those written", file=sys.stderr)
                return 1
            del loaded
            print(
                f"load_task4_csv(engine={engine!r}): {args.n_epochs} epochs x 3 channels, "
                f"{size_mb:.0f} MB of text: best {min(walls):.2f} s wall, {min(cpus):.2f} s CPU "
                f"(runs: {', '.join(f'{w:.1f}' for w in walls)} s wall)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
