"""Files users can trust: atomic output writing and model files with metadata.

Every file the package writes (CSV, JSON, PNG, model files, EDF+ annotations) goes through
:func:`atomic_write`: the content is written to a temporary file in the destination folder and
renamed over the destination only once it is complete, so a crash never leaves a half-written
output, and an existing output is never overwritten unless ``force=True``.

Model files are zip archives: ``metadata.json`` (format, versions, channel layout, classes,
feature names, a summary of the training data, the SHA-256 of the payload) and ``payload``,
the fitted pipeline. :func:`load_model` checks the metadata before it reads the pipeline, so
a file that is not a model is refused unread. The pipeline is stored with :mod:`skops.io`
(no code from the file runs when it is loaded) for the feature pipelines, and as a pickle for
the neural models and foreign estimators (see :func:`save_model` for why).

.. warning::
   Loading a model file whose pipeline is a pickle runs code from it: only load files you
   made or trust (``load_model(..., trust_pickle=True)``, ``--trust-pickle``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_outputs, atomic_write, check_folder, check_writable
from ._files import jsonable as _jsonable
from ._model_file import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    TRUST_NOTICE,
    ModelFile,
    describe_training_data,
    load_model,
    read_model_header,
    save_model,
)

__all__ = [
    "CSV_FLOAT_FORMAT",
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "TRUST_NOTICE",
    "ModelFile",
    "atomic_outputs",
    "atomic_write",
    "check_folder",
    "check_writable",
    "describe_training_data",
    "load_model",
    "read_model_header",
    "save_figure",
    "save_model",
    "table_format",
    "write_edf_annotations",
    "write_json",
    "write_table",
    "write_text",
]


def write_text(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_write(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any, *, force: bool = False) -> Path:
    """Write ``obj`` as indented JSON atomically (numpy values converted); returns the path."""
    text = json.dumps(_jsonable(obj), indent=2, sort_keys=False) + "\n"
    return write_text(path, text, force=force)


#: Table formats :func:`write_table` writes, by file suffix.
TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | os.PathLike) -> str:
    """The format :func:`write_table` uses for ``path``: ``"csv"`` or ``"parquet"``.

    Raises
    ------
    ValueError
        For any other suffix (e.g. ``.xlsx``), naming the path and the suffixes accepted,
        so that a file is never written in a format its name does not announce.

    Examples
    --------
    >>> table_format("features.PARQUET")
    'parquet'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        accepted = ", ".join(TABLE_FORMATS)
        raise ValueError(
            f"Cannot write a table to {path}: the suffix {suffix or '(none)'!r} names no "
            f"format sleepstage writes. Use one of {accepted} (CSV opens in spreadsheet "
            "programs such as Excel)."
        )
    return TABLE_FORMATS[suffix]


#: How :func:`write_table` writes floats to CSV: 10 significant digits, enough for every
#: float32 value and for onsets to the millisecond up to 10^7 s, without the 17-digit noise
#: of float64 sums (``0.30000000000000004``).
CSV_FLOAT_FORMAT = "%.10g"


def write_table(
    table,
    path: str | os.PathLike,
    *,
    force: bool = False,
    index: bool = False,
    float_format: str | None = CSV_FLOAT_FORMAT,
) -> Path:
    """Write a pandas DataFrame atomically as CSV, or as Parquet for ``.parquet``/``.pq``.

    Any other suffix is refused (see :func:`table_format`).

    Parameters
    ----------
    table : pandas.DataFrame
    path : path-like
        Destination; the suffix picks the format.
    force : bool
        Overwrite an existing file.
    index : bool
        Write the DataFrame index too.
    float_format : str or None
        printf-style format of floats in CSV (default :data:`CSV_FLOAT_FORMAT`, 10
        significant digits); None writes the shortest repr that round-trips float64.
        Parquet keeps the binary values.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    parquet = table_format(path) == "parquet"
    with atomic_write(path, force=force) as tmp:
        if parquet:
            table.to_parquet(tmp, index=index)
        else:
            table.to_csv(tmp, index=index, float_format=float_format)
    return path


def save_figure(fig, path: str | os.PathLike, *, force: bool = False, dpi: float = 120) -> Path:
    """Save a matplotlib figure atomically; the suffix of ``path`` picks the format."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_write(path, force=force) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    return path


def _edf_field(value: Any, width: int) -> bytes:
    text = str(value)
    if len(text) > width:
        raise ValueError(f"EDF header value {text!r} is longer than {width} characters.")
    return text.ljust(width).encode("ascii")


def _edf_number(value: float) -> str:
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return text if text.startswith("-") else f"+{text}"


def write_edf_annotations(
    path: str | os.PathLike,
    onsets,
    durations,
    descriptions,
    *,
    start: _dt.datetime | None = None,
    force: bool = False,
) -> Path:
    """Write an annotation-only EDF+ file (e.g. a hypnogram), atomically.

    The file has the layout of the Sleep-EDF hypnogram files: one data record of duration 0
    holding a single ``EDF Annotations`` signal with one time-stamped annotation list per
    annotation, so EDF viewers and :func:`mne.read_annotations` read it next to the
    recording it annotates.

    Parameters
    ----------
    path : path-like
        Destination, conventionally ``*.edf``.
    onsets, durations : array-like of float
        Seconds from the start of the recording, and durations in seconds.
    descriptions : sequence of str
        Annotation texts, e.g. ``"Sleep stage W"``; printable ASCII.
    start : datetime.datetime, optional
        Start of the annotated recording (written to the header so the file lines up with the
        recording); unknown by default.
    force : bool
        Overwrite an existing file.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib, mne
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "hyp.edf"
    >>> _ = write_edf_annotations(out, [0, 30], [30, 60], ["Sleep stage W", "Sleep stage R"])
    >>> list(mne.read_annotations(out).description)
    ['Sleep stage W', 'Sleep stage R']
    """
    onsets = np.asarray(onsets, dtype=float).ravel()
    durations = np.asarray(durations, dtype=float).ravel()
    descriptions = [str(d) for d in descriptions]
    if not len(onsets) == len(durations) == len(descriptions):
        raise ValueError(
            f"onsets ({len(onsets)}), durations ({len(durations)}) and descriptions "
            f"({len(descriptions)}) must have the same length."
        )
    if not (np.isfinite(onsets).all() and np.isfinite(durations).all()) or (durations < 0).any():
        raise ValueError("Annotation onsets must be finite and durations finite and >= 0.")
    tal = bytearray(b"+0\x14\x14\x00")
    for onset, duration, text in zip(onsets, durations, descriptions, strict=True):
        if any(ord(ch) < 32 or ord(ch) > 126 for ch in text):
            raise ValueError(f"Annotation {text!r} must be printable ASCII.")
        tal += f"{_edf_number(onset)}\x15{_edf_number(duration)[1:]}\x14{text}\x14\x00".encode(
            "ascii")
    if len(tal) % 2:
        tal += b"\x00"
    n_samples = len(tal) // 2
    if start is None:
        date, time_, recording = "01.01.85", "00.00.00", "Startdate X X X X"
    else:
        date, time_ = start.strftime("%d.%m.%y"), start.strftime("%H.%M.%S")
        recording = f"Startdate {start.strftime('%d-%b-%Y').upper()} X X X"
    header = b"".join([
        _edf_field("0", 8), _edf_field("X X X X", 80), _edf_field(recording, 80),
        _edf_field(date, 8), _edf_field(time_, 8), _edf_field(512, 8), _edf_field("EDF+C", 44),
        _edf_field(1, 8), _edf_field(0, 8), _edf_field(1, 4),
        _edf_field("EDF Annotations", 16), _edf_field("", 80), _edf_field("", 8),
        _edf_field(0, 8), _edf_field(1, 8), _edf_field(-32768, 8), _edf_field(32767, 8),
        _edf_field("", 80), _edf_field(n_samples, 8), _edf_field("", 32),
    ])
    with atomic_write(path, force=force) as tmp:
        tmp.write_bytes(header + bytes(tal))
    return Path(path)
