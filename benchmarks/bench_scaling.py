"""How time and memory grow with the number of epochs and of recordings.

1. **Epochs** (1k, 10k, 100k, 500k by default): feature extraction
   (``EpochFeatures().transform``), scoring (``predict_with_groups`` with the default
   pipeline, from raw epochs to the decoded hypnogram) and fitting the default pipeline
   (up to ``--fit-max`` epochs). The inputs are 24-h synthetic recordings (21 600 epochs
   each, ids passed as ``groups``) repeated as needed; each call runs in a fresh process
   with its input built beforehand, and reports wall time and peak RSS beyond the
   resident memory before the call (see ``bench_memory.py``).
2. **Recordings** (1-16 recordings of 24 h): ``extract_features`` over a list of
   recordings, serially, with 2 worker processes (joblib's loky backend, which memory-maps
   each recording to the workers) and with 2 threads (threading backend).

Linear growth shows as a constant time per epoch.

Usage::

    python benchmarks/bench_scaling.py [--sizes 1000 10000 100000 500000]
        [--fit-max 100000] [--recordings 1 2 4 8 16] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from _common import save_training_set, wait_passively
from _report import publish, table
from bench_memory import measure, supported

EPOCHS_PER_DAY = 21600


def tiled(folder: str, n_epochs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_epochs`` epochs of the stored recordings, repeated; one id per 24 h."""
    base = np.load(Path(folder) / "X.npy", mmap_mode="r")
    y_base = np.load(Path(folder) / "y.npy", allow_pickle=True)
    index = np.arange(n_epochs) % base.shape[0]
    X = np.empty((n_epochs, base.shape[1]), dtype=np.float32)
    for start in range(0, n_epochs, 65536):
        X[start:start + 65536] = base[index[start:start + 65536]]
    groups = np.arange(n_epochs) // EPOCHS_PER_DAY
    return X, y_base[index], groups


def features_task(folder: str, n_epochs: int) -> tuple[Any, dict]:
    from sleepstage.features import EpochFeatures

    X, _, _ = tiled(folder, n_epochs)
    feats = EpochFeatures().fit(X[:1])
    return (lambda: feats.transform(X)), {"input_mb": X.nbytes / 1e6}


def score_task(folder: str, n_epochs: int) -> tuple[Any, dict]:
    from sleepstage.pipelines import predict_with_groups

    X, _, groups = tiled(folder, n_epochs)
    pipeline = joblib.load(Path(folder) / "pipeline.joblib")
    predict_with_groups(pipeline, X[:500], groups[:500])  # warm up
    return (lambda: predict_with_groups(pipeline, X, groups)), {"input_mb": X.nbytes / 1e6}


def fit_task(folder: str, n_epochs: int) -> tuple[Any, dict]:
    from sleepstage.pipelines import fit_with_groups, make_staging_pipeline

    X, y, groups = tiled(folder, n_epochs)

    def run() -> None:
        fit_with_groups(make_staging_pipeline(), X, y, groups)

    return run, {"input_mb": X.nbytes / 1e6}


def recordings_rows(folder: str, counts: list[int]) -> list[dict]:
    """extract_features over 1..16 recordings, serial / 2 processes / 2 threads."""
    from sleepstage.data import EpochData
    from sleepstage.parallel import extract_features

    rows = []
    warm = EpochData(np.zeros((8, 3, 512), np.float32), None, np.arange(8) // 4, 128.0,
                     ("eeg1", "eeg2", "emg"), ("eeg", "eeg", "emg"), 4.0)
    extract_features(warm, n_jobs=2)  # start the loky workers before timing
    for count in counts:
        X, _, _ = tiled(folder, count * EPOCHS_PER_DAY)
        X = X.reshape(-1, 3, 512)
        recordings = [
            EpochData(X[k * EPOCHS_PER_DAY:(k + 1) * EPOCHS_PER_DAY], None,
                      np.full(EPOCHS_PER_DAY, k), 128.0, ("eeg1", "eeg2", "emg"),
                      ("eeg", "eeg", "emg"), 4.0)
            for k in range(count)
        ]
        reference = None
        for label, n_jobs, backend in (("serial", 1, None), ("2 processes (loky)", 2, "loky"),
                                       ("2 threads", 2, "threading")):
            with joblib.parallel_config(backend=backend) if backend else nullcontext():
                start = time.perf_counter()
                features, _ = extract_features(recordings, n_jobs=n_jobs)
                seconds = time.perf_counter() - start
            if reference is None:
                reference = features
            same = bool(np.array_equal(features, reference))
            rows.append({"recordings": count, "epochs": count * EPOCHS_PER_DAY,
                         "workers": label, "seconds": seconds,
                         "us per epoch": seconds / (count * EPOCHS_PER_DAY) * 1e6,
                         "equal to serial": "yes" if same else "NO"})
            print(rows[-1], file=sys.stderr)
        del recordings, X
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000, 500000])
    parser.add_argument("--fit-max", type=int, default=100000,
                        help="largest size at which the pipeline is also fitted")
    parser.add_argument("--recordings", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--train-hours", type=float, default=24.0,
                        help="hours per animal of the 3 synthetic animals used as data")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = parser.parse_args(argv)
    omp_wait_policy = wait_passively()
    if not supported():
        return 0

    from sleepstage.pipelines import fit_with_groups, make_staging_pipeline

    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="sleepstage-bench-") as folder:
        data = save_training_set(folder, args.train_hours)
        pipeline = fit_with_groups(make_staging_pipeline(), data.flat(), data.y, data.groups)
        joblib.dump(pipeline, Path(folder) / "pipeline.joblib")
        del data

        for n in args.sizes:
            tasks = [("feature extraction", features_task), ("scoring", score_task)]
            if n <= args.fit_max:
                tasks.append(("fit", fit_task))
            for name, task in tasks:
                result = measure(task, folder=folder, n_epochs=n)
                rows.append({"task": name, "epochs": n, "input (MB)": result["input_mb"],
                             "seconds": result["seconds"],
                             "CPU seconds": result["cpu_seconds"],
                             "us per epoch": result["seconds"] / n * 1e6,
                             "CPU us per epoch": result["cpu_seconds"] / n * 1e6,
                             "extra peak RSS (MB)": result["extra_mb"],
                             "extra / input": result["extra_mb"] / result["input_mb"]})
                print(rows[-1], file=sys.stderr)
        recording_rows = recordings_rows(folder, args.recordings)
    load_after = os.getloadavg()[0]

    frame = pd.DataFrame(rows).sort_values(["task", "epochs"], kind="stable")
    growth = []
    for name, part in frame.groupby("task", sort=False):
        part = part[part["epochs"] >= 10000]
        if len(part) >= 2:
            first, last = part.iloc[0], part.iloc[-1]
            growth.append(
                f"{name}: {last['epochs'] / first['epochs']:.0f}x the epochs -> "
                f"{last['seconds'] / first['seconds']:.1f}x the time, "
                f"{last['extra peak RSS (MB)'] / max(first['extra peak RSS (MB)'], 1):.1f}x "
                "the extra memory"
            )
    body = (
        "Inputs: 3 synthetic 24-h animals (64 800 epochs, 3 x 512 float32), repeated to the "
        f"size, one recording id per 21 600 epochs. Scoring uses the default pipeline fitted "
        f"on the 3 animals. Each row runs in a fresh process (time and peak RSS of the call "
        f"beyond the memory before it). Load average {load_before:.1f} before, "
        f"{load_after:.1f} after (2-core machine shared with other jobs); "
        f"OMP_WAIT_POLICY={omp_wait_policy}.\n\n"
        f"**By number of epochs**\n\n{table(frame, floatfmt='.2f')}\n\n"
        + "".join(f"- {line}\n" for line in growth)
        + "\n**By number of recordings** (`extract_features` over a list of 24-h "
        "recordings)\n\n"
        f"{table(pd.DataFrame(recording_rows), floatfmt='.2f')}\n"
    )
    publish("scaling", "Scaling with epochs and recordings", body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
