"""Long EDF files: reading them in bounded memory, and ``sleepstage predict`` end to end.

A rodent recording (``make_synthetic``: 2 EEG + 1 EMG, 4-s epochs, generated at 128 Hz and
upsampled to ``--sfreq``, 1 kHz by default) is written as a plain EDF of 16-bit samples in
1-s data records, an hour at a time, into a temporary folder that is deleted afterwards.
Every measurement runs in a fresh process that reports the peak resident set size of its
whole life from the operating system (``VmHWM`` of ``/proc/self/status``, Linux; not
:func:`resource.getrusage`, whose ``ru_maxrss`` keeps, across the ``exec`` of a spawned
process, the resident size of the parent it was forked from). Four parts (``--only``),
each writing its own section of ``docs/benchmarks.md``:

``reads``
    MNE's preload (``mne.io.read_raw_edf(path, preload=True)``), :func:`read_edf` (every
    epoch in memory) and :func:`iter_edf` (chunks of ``--chunk-hours``, each dropped before
    the next is read) of one ``--hours`` file, at the file's rate and resampled to 128 Hz.
``files``
    ``sleepstage predict`` end to end (process start to outputs written: imports, model,
    reading and resampling to the model's 128 Hz, features, scoring, CSV) on files of each
    of ``--sizes`` hours, against MNE's preload of the same file in a process of its own
    (``import mne`` included), both timed from outside the process; ratio = predict / MNE.
``sc4001``
    The same on Sleep-EDF SC4001 (22 h, 100 Hz), with a model fitted on it (the demo's
    channels: EEG Fpz-Cz, EEG Pz-Oz, EMG submental), when ``SLEEPSTAGE_DATA_DIR`` holds it.
``many``
    ``--n-many`` recordings of ``--many-hours`` scored by one command: serially, with
    ``--n-jobs 2`` and on a two-worker Dask ``LocalCluster`` (``--dask-scheduler``); the
    three runs must write identical hypnograms.

The model of the rodent parts is the default pipeline fitted on two synthetic 3-h mice.

Usage::

    python benchmarks/bench_files.py [--only reads,files,sc4001,many] [--sizes 6 12 24 48]
        [--hours 12] [--sfreq 1000] [--n-many 16] [--many-hours 4] [--repeats 1] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _report import publish, table

MB = 1e6
EPOCH = 4.0  # s
LABELS = ("EEG eeg1", "EEG eeg2", "EMG emg")


# -- writing the file -----------------------------------------------------------------------
def _field(value, width: int) -> bytes:
    return str(value).ljust(width)[:width].encode("ascii")


def write_rodent_edf(path: Path, hours: float, sfreq: int, *, random_state: int = 0) -> Path:
    """Write ``hours`` of synthetic rodent EEG/EMG at ``sfreq`` Hz as an EDF, an hour at a time.

    The header follows the EDF specification (https://www.edfplus.info/specs/edf.html);
    samples are 16-bit integers over a physical range of +-1.5 times the largest value.
    Only the 128-Hz recording and one upsampled hour are in memory at once.
    """
    from scipy.signal import resample_poly

    from sleepstage.data import make_synthetic

    data = make_synthetic(n_recordings=1, hours=hours, sfreq=128.0, epoch_length=EPOCH,
                          random_state=random_state)
    signal = data.X.transpose(1, 0, 2).reshape(len(LABELS), -1)  # volts, continuous
    del data
    n_records = signal.shape[1] // 128
    phys = 1.5 * np.abs(signal).max(axis=1) * 1e6  # uV
    start = datetime.datetime(2024, 1, 1, 19, 0, 0)
    n = len(LABELS)
    header = b"".join([
        _field(0, 8), _field("X X X X", 80), _field("Startdate X X X X", 80),
        _field(start.strftime("%d.%m.%y"), 8), _field(start.strftime("%H.%M.%S"), 8),
        _field(256 * (n + 1), 8), _field("", 44), _field(n_records, 8), _field(1, 8),
        _field(n, 4), *[_field(label, 16) for label in LABELS], *[_field("", 80)] * n,
        *[_field("uV", 8)] * n, *[_field(f"{-p:.1f}", 8) for p in phys],
        *[_field(f"{p:.1f}", 8) for p in phys], *[_field(-32768, 8)] * n,
        *[_field(32767, 8)] * n, *[_field("", 80)] * n, *[_field(sfreq, 8)] * n,
        *[_field("", 32)] * n,
    ])
    scale = (32767 / phys)[:, None] * 1e6
    with open(path, "wb") as out:
        out.write(header)
        for first in range(0, n_records, 3600):
            block = signal[:, first * 128 : min(first + 3600, n_records) * 128]
            upsampled = resample_poly(block, sfreq, 128, axis=1) * scale
            digital = np.clip(np.round(upsampled), -32768, 32767).astype("<i2")
            n_block = digital.shape[1] // sfreq
            # one data record = 1 s of each signal in turn
            records = digital.reshape(n, n_block, sfreq).transpose(1, 0, 2)
            out.write(np.ascontiguousarray(records).tobytes())
    return path


# -- reading it in a fresh process ----------------------------------------------------------
def _status_mb(key: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024 / MB
    raise RuntimeError(f"{key} not found in /proc/self/status")


def _child(how: str, path: str, resample: float | None, chunk_epochs: int, conn) -> None:
    try:
        import mne

        from sleepstage.data import iter_edf, read_edf

        baseline = _status_mb("VmRSS")
        start = time.perf_counter()
        if how == "mne preload":
            mne.io.read_raw_edf(path, preload=True, verbose="error")
            n_epochs = None
        elif how == "read_edf":
            n_epochs = read_edf(path, epoch_length=EPOCH, resample=resample).n_epochs
        else:
            n_epochs = 0
            for chunk in iter_edf(path, epoch_length=EPOCH, resample=resample,
                                  chunk_epochs=chunk_epochs):
                n_epochs += chunk.n_epochs
                del chunk
        seconds = time.perf_counter() - start
        peak = _status_mb("VmHWM")
        conn.send({"seconds": seconds, "rss_after_imports_mb": baseline, "peak_rss_mb": peak,
                   "n_epochs": n_epochs})
    except BaseException as exc:  # report, do not hang the parent
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        conn.close()


def measure(how: str, path: Path, resample: float | None, chunk_epochs: int) -> dict:
    """Run one reading in a fresh process and return what it reports."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child,
                              args=(how, str(path), resample, chunk_epochs, child))
    process.start()
    child.close()
    result = parent.recv()
    process.join()
    if "error" in result:
        raise RuntimeError(f"{how}: {result['error']}")
    return result


# -- whole commands in a fresh process ------------------------------------------------------
#: Runs ``code`` (Python source) and then writes the process's VmHWM (kB) to ``peak_file``.
_PEAK_WRAPPER = """
import sys
peak_file, code = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
try:
    exec(compile(code, "<bench>", "exec"), {"__name__": "__main__"})
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(peak_file, "w") as out:
        out.write(peak)
"""
_PREDICT = ("import sys\nfrom sleepstage.cli import main\n"
            "status = main(sys.argv[1:])\nif status:\n    raise SystemExit(status)\n")
_MNE_PRELOAD = ("import sys, mne\n"
                "mne.io.read_raw_edf(sys.argv[1], preload=True, verbose='error')\n")


def run_process(code: str, *args: str, folder: Path) -> dict:
    """Run ``code`` with ``args`` in a fresh Python; wall seconds (from outside) and peak MB."""
    peak_file = folder / "peak.txt"
    command = [sys.executable, "-c", _PEAK_WRAPPER, str(peak_file), code, *map(str, args)]
    before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return {"seconds": seconds, "peak_mb": int(peak_file.read_text()) * 1024 / MB,
            "cpu_seconds": _children_cpu() - before}


def _children_cpu() -> float:
    """User + system CPU seconds of every child process waited for so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sleepstage(*args, folder: Path) -> dict:
    """``sleepstage ARGS`` end to end in a fresh process (see :func:`run_process`)."""
    return run_process(_PREDICT, *args, folder=folder)


def fit_rodent_model(folder: Path) -> Path:
    """The default pipeline fitted on two synthetic 3-h mice (channels eeg1, eeg2, emg)."""
    path = folder / "rodent.joblib"
    start = time.perf_counter()
    sleepstage("fit", "--synthetic", "2", "--hours", "3", "--quiet", "-o", path, folder=folder)
    print(f"fitted {path.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


#: The EDF labels of write_rodent_edf mapped onto the model's channel names.
RENAMES = [a for label in LABELS for a in ("--rename", f"{label}={label.split()[-1]}")]


def _median_run(code_or_args, folder: Path, repeats: int, *, predict: bool) -> dict:
    runs = [(sleepstage(*code_or_args, folder=folder) if predict
             else run_process(_MNE_PRELOAD, *code_or_args, folder=folder))
            for _ in range(repeats)]
    return {key: float(np.median([r[key] for r in runs])) for key in runs[0]}


def part_files(args, folder: Path, model: Path) -> str:
    """``predict`` end to end against MNE's preload, for each size."""
    rows = []
    for hours in args.sizes:
        path = folder / f"rodent-{hours:g}h.edf"
        write_rodent_edf(path, hours, args.sfreq)
        size = path.stat().st_size / MB
        out = folder / "out"
        mne_run = _median_run([path], folder, args.repeats, predict=False)
        predict = _median_run(["predict", model, "--edf", path, *RENAMES, "-o", out,
                               "--force", "--quiet"], folder, args.repeats, predict=True)
        path.unlink()
        rows.append({
            "hours": f"{hours:g}", "file (MB)": round(size),
            "MNE preload (s)": mne_run["seconds"], "predict (s)": predict["seconds"],
            "predict / MNE": predict["seconds"] / mne_run["seconds"],
            "MNE peak (MB)": mne_run["peak_mb"], "predict peak (MB)": predict["peak_mb"],
        })
        print(rows[-1], file=sys.stderr)
    frame = pd.DataFrame(rows)
    peaks = frame["predict peak (MB)"]
    flat = (f" From {rows[0]['hours']} h to {rows[-1]['hours']} h the peak of predict changes by "
            f"{(peaks.iloc[-1] / peaks.iloc[0] - 1):+.0%}." if len(rows) > 1 else "")
    return (
        f"`sleepstage predict` on rodent EDFs ({len(LABELS)} channels at {args.sfreq} Hz, "
        "16-bit, resampled to the model's 128 Hz; default pipeline), end to end in a fresh "
        "process (imports, model, reading, features, scoring, CSV), against MNE's preload "
        "of the same file (`import mne` and `read_raw_edf(preload=True)` in a process of its "
        f"own); times from outside the process, median of {args.repeats} run(s); peak RSS "
        "from the operating system. predict reads the file a chunk of epochs at a time "
        "(8 MB of samples per chunk): the samples in memory do not grow with the recording, "
        "what grows are the rows the per-recording steps keep (the feature rows, their "
        "scaled copy, the classifier's probabilities; the temporal context and the "
        "classifier run a block of rows at a time). Targets: at 12 h, predict <= 1.5x MNE's "
        f"preload time and peak <= 600 MB; peak flat within 20 % from 6 h to 48 h.{flat}"
        "\n\n" + table(frame, floatfmt=".2f")
    )


def part_sc4001(args, folder: Path) -> str | None:
    """``predict`` end to end on SC4001 with a model fitted on it."""
    root = Path(os.environ.get("SLEEPSTAGE_DATA_DIR", "../shared/data"))
    psg = root / "physionet-sleep-data" / "SC4001E0-PSG.edf"
    if not psg.is_file():
        print(f"skipping sc4001: {psg} not found (set SLEEPSTAGE_DATA_DIR)", file=sys.stderr)
        return None
    model = folder / "sc4001.joblib"
    sleepstage("fit", "--sleep-edf", "0", "--data-dir", root, "--quiet", "-o", model,
               folder=folder)
    mne_run = _median_run([psg], folder, args.repeats, predict=False)
    predict = _median_run(["predict", model, "--edf", psg, "-o", folder / "out", "--force",
                           "--quiet"], folder, args.repeats, predict=True)
    frame = pd.DataFrame([{
        "file (MB)": round(psg.stat().st_size / MB),
        "MNE preload (s)": mne_run["seconds"], "predict (s)": predict["seconds"],
        "predict / MNE": predict["seconds"] / mne_run["seconds"],
        "MNE peak (MB)": mne_run["peak_mb"], "predict peak (MB)": predict["peak_mb"],
    }])
    return (
        "`sleepstage predict` on Sleep-EDF SC4001E0-PSG.edf (22 h; EEG Fpz-Cz, EEG Pz-Oz at "
        "100 Hz and the 1-Hz EMG submental envelope, 30-s epochs; 2650 epochs scored) with "
        "a model fitted on that night (`sleepstage fit --sleep-edf 0`), measured as above "
        f"(median of {args.repeats} run(s)).\n\n" + table(frame, floatfmt=".2f")
    )


def _warm_worker() -> None:
    """Import what scoring needs, as a long-running cluster's workers already have."""
    import importlib

    for name in ("mne", "lightgbm", "skops.io", "sleepstage.cli._predict",
                 "sleepstage.cli._stream", "sleepstage.features", "sleepstage.pipelines"):
        importlib.import_module(name)


def part_many(args, folder: Path, model: Path) -> str:
    """``--n-many`` recordings: serial, --n-jobs 2, a two-worker Dask LocalCluster."""
    import distributed

    edf_dir = folder / "many"
    edf_dir.mkdir()
    for k in range(args.n_many):
        write_rodent_edf(edf_dir / f"rodent-{k:02d}.edf", args.many_hours, args.sfreq,
                         random_state=k)
    common = ["predict", model, "--edf", edf_dir / "*.edf", *RENAMES, "--force", "--quiet"]
    runs = {"serial": [], "--n-jobs 2": ["--n-jobs", "2"]}
    results, outputs = [], {}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        runs["Dask LocalCluster (2 workers)"] = ["--dask-scheduler", cluster.scheduler_address]
        with distributed.Client(cluster) as client:  # the workers import the libraries first
            client.run(_warm_worker)
        for name, extra in runs.items():
            out = folder / f"many-out-{len(outputs)}"
            result = sleepstage(*common, "-o", out, *extra, folder=folder)
            outputs[name] = {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}
            # the Dask workers' CPU time is not the command's: only the local runs have one
            cpu = result["cpu_seconds"] if "--dask-scheduler" not in extra else float("nan")
            results.append({"run": name, "time (s)": result["seconds"], "CPU (s)": cpu,
                            "cores busy": cpu / result["seconds"],
                            "peak RSS (MB)": result["peak_mb"]})
            print(results[-1], file=sys.stderr)
    serial = outputs["serial"]
    assert len(serial) == args.n_many, f"{len(serial)} hypnograms written"
    frame = pd.DataFrame(results)
    frame["speed-up"] = frame["time (s)"].iloc[0] / frame["time (s)"]
    frame["same hypnograms as serial"] = ["yes" if outputs[r] == serial else "NO"
                                          for r in runs]
    return (
        f"{args.n_many} rodent recordings of {args.many_hours:g} h ({args.sfreq} Hz EDF, "
        "3 channels) scored by one `sleepstage predict --edf 'many/*.edf'` command end to "
        "end; the Dask row's peak is that of the client process (the two worker processes, "
        "started and having imported the package before the command, are not included). "
        "CPU is the command's user + system time over all its threads, and *cores busy* "
        "that time over the wall time: the serial run already keeps that many of the 2 "
        "cores busy (the channels of a recording are resampled on threads; LightGBM "
        "predicts on threads), so `--n-jobs 2` cannot be faster than 2 / cores busy of "
        "the serial run. "
        "Speed-up against the serial run (target: >= 1.7x with --n-jobs 2); "
        "the hypnogram CSVs of every run are compared byte for byte with the serial run's."
        "\n\n" + table(frame, floatfmt=".2f")
    )


def part_reads(args, folder: Path) -> str:
    """MNE preload, read_edf and iter_edf of one file, in fresh processes."""
    chunk_epochs = round(args.chunk_hours * 3600 / EPOCH)
    rows = []
    path = folder / "rodent.edf"
    start = time.perf_counter()
    write_rodent_edf(path, args.hours, args.sfreq)
    size = path.stat().st_size / MB
    print(f"wrote {path.name}: {size:.0f} MB in {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    runs = [("mne preload", None)] + [
        (how, rate) for rate in (None, 128.0) for how in ("read_edf", "iter_edf")
    ]
    for how, rate in runs:
        result = measure(how, path, rate, chunk_epochs)
        rows.append({
            "reading": how if how != "iter_edf" else f"iter_edf ({args.chunk_hours:g} h)",
            "rate (Hz)": args.sfreq if rate is None else int(rate),
            "epochs": result["n_epochs"] if result["n_epochs"] is not None else "",
            "time (s)": result["seconds"],
            "RSS after imports (MB)": result["rss_after_imports_mb"],
            "peak RSS (MB)": result["peak_rss_mb"],
        })
        print(rows[-1], file=sys.stderr)
    path.unlink()
    return (
        f"A {args.hours:g}-h rodent EDF ({len(LABELS)} channels, {args.sfreq} Hz, 16-bit; "
        f"{size:.0f} MB), read in a fresh process per row; peak RSS is the process's whole "
        "life (imports included), as the operating system reports it.\n\n"
        + table(pd.DataFrame(rows), floatfmt=".1f")
    )


PARTS = ("reads", "files", "sc4001", "many")
TITLES = {
    "reads": "Reading long EDF files in bounded memory",
    "files": "sleepstage predict on long EDF files: time and peak memory",
    "sc4001": "sleepstage predict on Sleep-EDF SC4001: time and peak memory",
    "many": "Scoring many recordings: serial, --n-jobs 2, Dask",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run, of {', '.join(PARTS)} (default all)")
    parser.add_argument("--sizes", type=float, nargs="+", default=[6.0, 12.0, 24.0, 48.0],
                        help="hours of the files of the 'files' part")
    parser.add_argument("--hours", type=float, default=12.0,
                        help="length of the recording of the 'reads' part")
    parser.add_argument("--sfreq", type=int, default=1000, help="rate of the files (Hz)")
    parser.add_argument("--chunk-hours", type=float, default=1.0,
                        help="epochs per chunk of iter_edf in the 'reads' part, in hours")
    parser.add_argument("--n-many", type=int, default=16, help="recordings of the 'many' part")
    parser.add_argument("--many-hours", type=float, default=4.0,
                        help="hours of each recording of the 'many' part (at least the "
                             "scaler's 3 h, so that each recording is normalised as in use)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each timing (the median is reported)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"--only: unknown part(s) {unknown}; choose from {list(PARTS)}")

    with tempfile.TemporaryDirectory(prefix="bench_files-") as name:
        folder = Path(name)
        model = fit_rodent_model(folder) if {"files", "many"} & set(parts) else None
        for part in parts:
            start = time.perf_counter()
            if part == "reads":
                body = part_reads(args, folder)
            elif part == "files":
                body = part_files(args, folder, model)
            elif part == "sc4001":
                body = part_sc4001(args, folder)
            else:
                body = part_many(args, folder, model)
            print(f"part {part}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
            if body is not None:
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                body += (f"\n\nLoad average of the machine when the part ended (1, 5, 15 min): "
                         f"{load} (other work on the machine slows every row alike).")
                publish(f"files_{part}" if part != "reads" else "files", TITLES[part], body,
                        write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
