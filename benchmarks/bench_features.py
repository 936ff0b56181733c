"""Time `EpochFeatures` on the reference training-set size (64 800 x 3 x 512 float32).

The floor is one bare ``scipy.fft.rfft(X, axis=-1, workers=-1)`` of the same array, timed
in the same run: the least any spectral feature extractor must spend. The target is at
most 2 s and at most 8x the floor. Wall times are the best of ``--repeat`` runs, timed
alternately (floor, features, floor, ...) so that load from other processes hits both
alike; process CPU time (all threads) is also reported, as the steadier figure on a shared
machine; the CPU ratio (ours / floor, all threads) is the figure least disturbed by
other processes. Peak memory is measured in a separate run with ``tracemalloc`` (NumPy reports
its buffers to it), beyond the input and output arrays.

Usage::

    python benchmarks/bench_features.py                  # full size, n_jobs=-1 and 1
    python benchmarks/bench_features.py --n-epochs 10000 --repeat 3
    python benchmarks/bench_features.py --write          # also update docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.fft

from sleepstage.features import EpochFeatures

TARGET_SECONDS = 2.0
TARGET_RATIO = 8.0


def make_epochs(n_epochs: int, seed: int = 0) -> np.ndarray:
    """Random float32 epochs in the flat reference layout, at EEG scale (~1e-4 V)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_epochs, 3 * 512), dtype=np.float32)
    X *= np.float32(1e-4)
    return X


def timed(func) -> tuple[float, float]:
    """(wall, process CPU) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_memory(func) -> float:
    """Peak MB allocated (tracemalloc) during one call, beyond what existed before."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - before) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-epochs", type=int, default=64800)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (best is reported)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="EpochFeatures batch_size (default: the class default)")
    parser.add_argument("--write", action="store_true",
                        help="also write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)

    X = make_epochs(args.n_epochs)
    X3 = X.reshape(args.n_epochs, 3, 512)
    settings = {} if args.batch_size is None else {"batch_size": args.batch_size}
    rows = []
    for n_jobs in (-1, 1):
        feats = EpochFeatures(n_jobs=n_jobs, **settings).fit(X[:10])
        feats.transform(X[:2000])  # warm up (imports, FFT plans)
        floors, ours = [], []
        for _ in range(args.repeat):
            floors.append(timed(lambda: scipy.fft.rfft(X3, axis=-1, workers=-1)))
            ours.append(timed(lambda feats=feats: feats.transform(X)))
        floor_wall = min(w for w, _ in floors)
        floor_cpu = min(c for _, c in floors)
        wall, cpu = min(ours)
        out = feats.transform(X)
        if not np.isfinite(out).all():
            print("FAILED: non-finite features", file=sys.stderr)
            return 1
        peak = peak_memory(lambda feats=feats: feats.transform(X))
        rows.append({
            "n_jobs": n_jobs,
            "epochs": args.n_epochs,
            "features": out.shape[1],
            "floor rfft (s)": floor_wall,
            "EpochFeatures wall (s)": wall,
            "ratio to floor": wall / floor_wall,
            "floor CPU (s)": floor_cpu,
            "EpochFeatures CPU (s)": cpu,
            "CPU ratio": cpu / floor_cpu,
            "peak extra memory (MB)": peak,
            "runs (s)": " ".join(f"{w:.2f}" for w, _ in ours),
        })
        print(
            f"n_jobs={n_jobs}: floor rfft {floor_wall:.3f} s wall ({floor_cpu:.2f} s CPU), "
            f"EpochFeatures {wall:.3f} s wall ({cpu:.2f} s CPU), ratio {wall / floor_wall:.1f} "
            f"(CPU {cpu / floor_cpu:.1f}), peak +{peak:.0f} MB "
            f"(input {X.nbytes / 1e6:.0f} MB, output {out.nbytes / 1e6:.0f} MB)",
            file=sys.stderr,
        )
    frame = pd.DataFrame(rows)
    best = frame.iloc[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    verdict = (
        f"Target: <= {TARGET_SECONDS:g} s and <= {TARGET_RATIO:g}x the floor with all cores: "
        f"{best['EpochFeatures wall (s)']:.2f} s, {best['ratio to floor']:.1f}x (CPU ratio "
        f"{best['CPU ratio']:.1f}x) -> "
        + ("met" if best["EpochFeatures wall (s)"] <= TARGET_SECONDS
           and best["ratio to floor"] <= TARGET_RATIO else "NOT met")
        + f". Load average at the end of the run: {load:.1f} on {os.cpu_count()} cores."
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _report import table, write_section

    body = (
        f"`EpochFeatures().transform(X)` on X of shape ({args.n_epochs}, 1536) float32 "
        f"(3 channels x 512 samples, 128 Hz); floor = one `scipy.fft.rfft(X, axis=-1, "
        f"workers=-1)` of the same array, timed alternately in the same run; best of "
        f"{args.repeat}. Peak memory: extra bytes allocated during one call (tracemalloc).\n\n"
        f"{table(frame)}\n\n{verdict}\n"
    )
    print(body)
    if args.write:
        write_section("features", "Feature extraction speed", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
