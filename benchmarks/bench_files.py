"""Reading long rodent EDF files: peak memory and time of MNE's preload, read_edf and iter_edf.

A rodent recording (``make_synthetic``: 2 EEG + 1 EMG, 4-s epochs, generated at 128 Hz and
upsampled to ``--sfreq``, 1 kHz by default) is written as a plain EDF of 16-bit samples in
1-s data records, an hour at a time, into a temporary folder that is deleted afterwards.
Each reading then runs in a fresh process (``multiprocessing`` spawn) that imports the
libraries, notes its resident memory, reads the file and reports the peak resident set size
of its whole life from the operating system (``VmHWM`` of ``/proc/self/status``, Linux; not
:func:`resource.getrusage`, whose ``ru_maxrss`` keeps, across the ``exec`` of a spawned
process, the resident size of the parent it was forked from):

- ``mne preload``: ``mne.io.read_raw_edf(path, preload=True)``;
- ``read_edf``: :func:`sleepstage.data.read_edf`, every epoch in memory at once;
- ``iter_edf``: :func:`sleepstage.data.iter_edf` in chunks of ``--chunk-hours`` of epochs,
  each chunk dropped before the next is read (nothing else is computed);

at the file's rate and resampled to 128 Hz (the rate of the default models).

Usage::

    python benchmarks/bench_files.py [--hours 12] [--sfreq 1000] [--chunk-hours 1] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=12.0, help="length of the recording")
    parser.add_argument("--sfreq", type=int, default=1000, help="rate of the file (Hz)")
    parser.add_argument("--chunk-hours", type=float, default=1.0,
                        help="epochs per chunk of iter_edf, in hours")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = parser.parse_args(argv)
    chunk_epochs = round(args.chunk_hours * 3600 / EPOCH)

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_files-") as folder:
        path = Path(folder) / "rodent.edf"
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
    frame = pd.DataFrame(rows)
    body = (
        f"A {args.hours:g}-h rodent EDF ({len(LABELS)} channels, {args.sfreq} Hz, 16-bit; "
        f"{size:.0f} MB), read in a fresh process per row; peak RSS is the process's whole "
        "life (imports included), as the operating system reports it.\n\n"
        + table(frame, floatfmt=".1f")
    )
    publish("files", "Reading long EDF files in bounded memory", body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
