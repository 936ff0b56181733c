"""Peak memory of fitting the default pipeline, and of batched feature extraction.

Every measurement runs in a fresh process (``multiprocessing`` spawn), which first builds
or loads its input, then resets the kernel's peak-RSS counter (``/proc/self/clear_refs``,
Linux) and runs the measured call; the figure reported is the peak resident set size
during the call minus the resident size just before it ("extra"). Resident memory counts
everything the process touches (NumPy buffers, LightGBM's C++ allocations, OpenMP thread
stacks), unlike ``tracemalloc``, which misses allocations outside Python's allocator.

1. ``fit_with_groups(make_staging_pipeline(), X, y, groups)`` with X of shape (64 800, 1536)
   float32 (3 synthetic animals x 24 h; 398 MB). Target: extra <= 3x the input array.
2. ``extract_features`` (EpochFeatures in batches of ``batch_size``) on growing random
   inputs: with batches the working memory (extra minus the output array) stays flat;
   with a single batch (``batch_size = n_epochs``) it grows with the data.

Usage::

    python benchmarks/bench_memory.py [--hours 24] [--no-write]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import save_training_set, wait_passively
from _report import publish, table

TARGET_RATIO = 3.0
MB = 1e6


# -- measuring in a child process -------------------------------------------------------------
def _status() -> dict[str, float]:
    """Current and peak resident set size of this process, in MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024 / MB
    return values


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak RSS (VmHWM) to the current RSS


def _child(task: Callable[..., tuple[Callable[[], Any], dict]], kwargs: dict, conn) -> None:
    try:
        run, info = task(**kwargs)
        gc.collect()
        _reset_peak()
        before = _status()["VmRSS"]
        start, cpu = time.perf_counter(), time.process_time()
        result = run()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        peak = _status()["VmHWM"]
        if isinstance(result, np.ndarray):
            info.setdefault("output_mb", result.nbytes / MB)
        conn.send({**info, "seconds": seconds, "cpu_seconds": cpu, "rss_before_mb": before,
                   "peak_rss_mb": peak, "extra_mb": peak - before})
    except BaseException as exc:  # report, do not hang the parent
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        conn.close()


def measure(task: Callable[..., tuple[Callable[[], Any], dict]], **kwargs) -> dict:
    """Run ``task(**kwargs)()`` in a fresh process; time and peak memory of the call.

    ``task`` is a module-level function that prepares the input (not measured) and returns
    ``(run, info)``: the call to measure and a dict of figures to report with it.
    """
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(task, kwargs, child))
    process.start()
    child.close()
    try:
        result = parent.recv()
    except EOFError:
        result = {"error": f"the measuring process died (exit code {process.exitcode})"}
    process.join()
    if "error" in result:
        raise RuntimeError(f"{task.__name__}({kwargs}) failed: {result['error']}")
    return result


def supported() -> bool:
    """Whether peak memory can be measured (Linux's /proc); if not, says so on stderr."""
    if Path("/proc/self/clear_refs").exists():
        return True
    print("SKIPPED: needs Linux (/proc/self/clear_refs) to measure peak memory", file=sys.stderr)
    return False


# -- tasks (run in the child) -------------------------------------------------------------------
def fit_task(folder: str) -> tuple[Callable[[], Any], dict]:
    from sleepstage.pipelines import fit_with_groups, make_staging_pipeline

    X = np.load(Path(folder) / "X.npy")
    y = np.load(Path(folder) / "y.npy", allow_pickle=True)
    groups = np.load(Path(folder) / "groups.npy", allow_pickle=True)
    def run() -> None:
        fit_with_groups(make_staging_pipeline(), X, y, groups)

    return run, {"input_mb": X.nbytes / MB, "epochs": X.shape[0]}


def random_epochs(n_epochs: int, seed: int = 0) -> np.ndarray:
    """Random float32 epochs (n, 3, 512) at EEG scale, generated in chunks."""
    rng = np.random.default_rng(seed)
    X = np.empty((n_epochs, 3, 512), dtype=np.float32)
    for start in range(0, n_epochs, 16384):
        chunk = X[start:start + 16384]
        rng.standard_normal(chunk.shape, dtype=np.float32, out=chunk)
        chunk *= np.float32(1e-4)
    return X


def features_task(n_epochs: int, batch_size: int) -> tuple[Callable[[], Any], dict]:
    from sleepstage.data import EpochData
    from sleepstage.parallel import extract_features

    X = random_epochs(n_epochs)
    data = EpochData(X, None, np.zeros(n_epochs, dtype=np.int64), 128.0,
                     ("eeg1", "eeg2", "emg"), ("eeg", "eeg", "emg"), 4.0)
    return (lambda: extract_features(data, batch_size=batch_size)[0],
            {"input_mb": X.nbytes / MB, "epochs": n_epochs, "batch_size": batch_size})


# -- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="hours per animal (fit)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[16384, 65536, 262144],
                        help="epochs for the batched feature extraction")
    parser.add_argument("--single-batch-max", type=int, default=65536,
                        help="largest size also run as a single batch")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = parser.parse_args(argv)
    omp_wait_policy = wait_passively()
    if not supported():
        return 0

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sleepstage-bench-") as folder:
        save_training_set(folder, args.hours)  # the measuring process reads the files
        fit = measure(fit_task, folder=folder)
    print(f"fit: {fit}", file=sys.stderr)

    rows = []
    for n in args.sizes:
        batches = [args.batch_size] + ([n] if args.batch_size < n <= args.single_batch_max
                                       else [])
        for batch in batches:
            result = measure(features_task, n_epochs=n, batch_size=batch)
            print(f"features: {result}", file=sys.stderr)
            rows.append({
                "epochs": n,
                "batch_size": batch if batch != n else f"{batch} (one batch)",
                "input (MB)": result["input_mb"],
                "output (MB)": result["output_mb"],
                "extra peak (MB)": result["extra_mb"],
                "working memory = extra - output (MB)": result["extra_mb"] - result["output_mb"],
                "seconds": result["seconds"],
            })
    load_after = os.getloadavg()[0]

    ratio = fit["extra_mb"] / fit["input_mb"]
    fit_frame = pd.DataFrame([{
        "epochs": fit["epochs"],
        "input X (MB)": fit["input_mb"],
        "RSS before fit (MB)": fit["rss_before_mb"],
        "peak RSS during fit (MB)": fit["peak_rss_mb"],
        "extra peak (MB)": fit["extra_mb"],
        "extra / input": ratio,
        "(input + extra) / input": 1 + ratio,
        "fit seconds": fit["seconds"],
    }])
    verdict = (f"Target: extra memory of fit <= {TARGET_RATIO:g}x the input array: "
               f"{ratio:.2f}x -> " + ("met" if ratio <= TARGET_RATIO else "NOT met"))
    body = (
        "Peak resident memory (RSS, which includes LightGBM's and OpenMP's allocations) "
        "of the measured call beyond the resident memory just before it, each call in a "
        "fresh process whose input was built beforehand (peak counter reset through "
        "`/proc/self/clear_refs`). "
        f"Load average {load_before:.1f} before, {load_after:.1f} after; "
        f"OMP_WAIT_POLICY={omp_wait_policy}.\n\n"
        f"**Fit** `fit_with_groups(make_staging_pipeline(), X, y, groups)`, "
        f"X = 3 synthetic animals "
        f"x {args.hours:g} h, flat float32:\n\n{table(fit_frame, floatfmt='.2f')}\n\n"
        f"{verdict}\n\n"
        f"**Feature extraction** `extract_features(data, batch_size=...)` on random float32 "
        f"epochs (3 x 512): with batches of {args.batch_size} the working memory stays flat "
        f"as the input grows; in one batch it grows with it.\n\n"
        f"{table(pd.DataFrame(rows), floatfmt='.1f')}\n"
    )
    publish("memory", "Peak memory of fit and of batched feature extraction", body,
            write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
