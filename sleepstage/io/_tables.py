"""Tables, JSON, text and figures, written atomically.

Each writer goes through :func:`~sleepstage.io.atomic_write`, so a crash never leaves a
half-written output and an existing file is replaced only with ``force=True``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_write

__all__ = [
    "CSV_FLOAT_FORMAT",
    "TABLE_FORMATS",
    "jsonable",
    "save_figure",
    "table_format",
    "write_json",
    "write_table",
    "write_text",
]


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and tuples to plain JSON types (recursively)."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        if isinstance(obj, float) and not np.isfinite(obj):
            return None
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return repr(obj)


def write_text(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_write(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any, *, force: bool = False) -> Path:
    """Write ``obj`` as indented JSON atomically (numpy values converted); returns the path."""
    text = json.dumps(jsonable(obj), indent=2, sort_keys=False) + "\n"
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
