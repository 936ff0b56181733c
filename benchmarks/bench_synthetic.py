"""Time the synthetic data generator: 3 animals x 24 h (64 800 epochs x 3 x 512 float32).

Prints the wall-clock seconds of each repeat (target: under 10 s on a 2-core machine) and,
unless ``--no-write`` is given, records them in ``docs/benchmarks.md``.

Usage: python benchmarks/bench_synthetic.py [--recordings 3] [--hours 24] [--repeat 3] [--no-write]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _report import table, write_section

from sleepstage.data import make_synthetic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=3)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="only print the numbers")
    args = parser.parse_args(argv)

    wall, cpu = [], []
    for seed in range(args.repeat):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        data = make_synthetic(args.recordings, args.hours, random_state=seed)
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
        print(f"repeat {seed}: {wall[-1]:.2f} s wall, {cpu[-1]:.2f} s CPU "
              f"for X of shape {data.X.shape} ({data.X.nbytes / 2**20:.0f} MiB)")

    rows = []
    for rec, details in data.info["recordings"].items():
        fractions = details["stage_fractions"]
        rows.append({
            "recording": rec,
            "WAKE": fractions["WAKE"],
            "NREM": fractions["NREM"],
            "REM": fractions["REM"],
            "transitions/h": details["transitions_per_hour"],
            "mixed epochs": details["n_mixed_epochs"],
            "artefact epochs": details["n_artefact_epochs"],
        })
    stages = pd.DataFrame(rows)
    summary = (
        f"make_synthetic({args.recordings}, {args.hours:g}): {data.n_epochs} epochs x 3 x "
        f"{data.n_samples} float32; best {min(wall):.2f} s, median {np.median(wall):.2f} s "
        f"wall ({np.median(cpu):.2f} s CPU) over {args.repeat} seeds."
    )
    print(summary)
    print(stages.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if not args.no_write:
        body = (f"{summary}\n\nLast seed's recordings (label fractions, true transitions per "
                f"hour of the continuous hypnogram):\n\n{table(stages, '.3f')}\n")
        write_section("synthetic", "Synthetic data generation", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
