"""Hypnograms in the formats labs use: the package's CSV, EDF+, plain text, AccuSleePy.

A hypnogram is read into a DataFrame with one row per epoch: ``epoch`` (0, 1, ...),
``onset`` (seconds from the start of the recording) and ``stage`` (canonical stage names,
:data:`~sleepstage.data.UNSCORED` for unscored epochs), plus any further columns the file
holds (``confidence``, ``proba_<STAGE>``, ...). ``DataFrame.attrs`` records the format read,
the epoch length and, for EDF+, the recording's start.

Formats (names as given to ``format=`` and ``sleepstage convert --from/--to``):

``"csv"``
    The table ``sleepstage predict`` writes: columns ``epoch``, ``onset``, ``stage``, then
    any others. An optional ``recording`` column holds several recordings in one file (the
    rows of each together); epochs and onsets increase within each recording. The epoch
    length is the most common step between onsets within recordings; a given one must be
    that step.
``"edf"``
    EDF+ annotations (Sleep-EDF's ``*-Hypnogram.edf``, the ``.edf`` of ``sleepstage predict
    --annotations``), read with :func:`mne.read_annotations`. Each annotation lasting several
    epochs becomes that many epochs; annotations of zero duration (events) are skipped;
    epochs between annotations that none covers are unscored; epoch 0 is the first annotated
    one, its onset that of the annotation. Texts are those of Sleep-EDF (R&K, stages 1-4
    merged into NREM by :data:`~sleepstage.data.RK_TO_3CLASS`) and those the package writes
    (``Sleep stage N``, ``Sleep stage N1`` ...); ``Sleep stage ?`` marks unscored epochs.
``"text"``
    One stage name per line (``WAKE``, ``NREM``, ``REM``, ``N1`` ... ``UNSCORED``, any case).
``"accusleep"``
    The label file of AccuSleePy's viewer: a CSV with a ``brain_state`` column of integer
    codes, in its default configuration 1 = REM, 2 = wake, 3 = NREM and -1 = undefined
    (unscored), and optionally ``confidence_score`` (read as ``confidence``).

In both CSV formats a blank line between rows is refused, naming its line, never skipped
(in AccuSleePy's, which holds no onsets, that would move every later epoch); blank lines
after the last row are left out.

Plain text and AccuSleePy files hold no times: their epoch length is given by the caller.
This module reads the stage names of :mod:`sleepstage.data` (imported when a file is read or
written, so that ``import sleepstage.io`` stays light).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._internal.onset_steps import common_step, other_step
from .._internal.validation import check_option
from ._atomic import atomic_write, check_writable
from ._edf_annotations import write_edf_annotations

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACCUSLEEP_CODES",
    "EDF_STAGE_TEXT",
    "HYPNOGRAM_FORMATS",
    "EpochLengthUnknownError",
    "hypnogram_format",
    "read_hypnogram",
    "write_hypnogram",
]

#: Format names, in the order they are tried when a file's content decides.
HYPNOGRAM_FORMATS: tuple[str, ...] = ("csv", "edf", "text", "accusleep")

#: AccuSleePy's default brain-state codes (its ``config.json``; -1 is its undefined label).
ACCUSLEEP_CODES: dict[int, str] = {1: "REM", 2: "WAKE", 3: "NREM", -1: "UNSCORED"}

#: EDF+ annotation text written for each stage (Sleep-EDF style).
EDF_STAGE_TEXT: dict[str, str] = {
    "WAKE": "Sleep stage W", "NREM": "Sleep stage N", "REM": "Sleep stage R",
    "N1": "Sleep stage N1", "N2": "Sleep stage N2", "N3": "Sleep stage N3",
    "UNSCORED": "Sleep stage ?",
}

_SUFFIXES = {".edf": "edf", ".txt": "text"}
_EDF_MAGIC = b"0       "  # the version field every EDF/EDF+ header starts with
_ALIGN_TOL = 1e-3  # seconds: onsets and durations are multiples of the epoch length to this


def _stage_names() -> dict[str, str]:
    """Upper-case spelling -> canonical stage name, for text and CSV labels."""
    from ..data import STAGE_SPELLINGS

    return STAGE_SPELLINGS


def _edf_mapping(stages: int = 3) -> dict[str, str]:
    """R&K annotation texts to ``stages`` classes, and the texts this package writes."""
    from ..data import RK_TO_3CLASS, RK_TO_5CLASS

    rk = RK_TO_5CLASS if stages == 5 else RK_TO_3CLASS
    return {**rk, **{text: stage for stage, text in EDF_STAGE_TEXT.items()}}


def _check_format(format: str | None, what: str = "format") -> str | None:
    if format is not None and format not in HYPNOGRAM_FORMATS:
        raise ValueError(
            f"Invalid value for the {what!r} parameter. Allowed values are "
            f"{', '.join(map(repr, HYPNOGRAM_FORMATS))}, but got {format!r} instead."
        )
    return format


def _sniff(path: Path) -> str | None:
    """The format a file's content shows, or None."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(_EDF_MAGIC):
        return "edf"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    columns = [c.strip().strip('"').lower() for c in first.split(",")]
    if "brain_state" in columns:
        return "accusleep"
    if len(columns) > 1 and {"epoch", "onset", "stage"} & set(columns):
        return "csv"  # a table with some of the columns: the reader names those missing
    if "," not in first and (first.upper() in _stage_names() or path.suffix.lower() == ".txt"):
        return "text"  # a .txt file of single labels: unknown ones are named with their line
    return None


def hypnogram_format(path: str | os.PathLike, *, reading: bool = True) -> str:
    """The format of a hypnogram file, from its content (reading) or its suffix (writing).

    Parameters
    ----------
    path : path-like
        The file.
    reading : bool
        True: the file exists and its content decides (a suffix that contradicts it is an
        error). False: the suffix decides: ``.csv`` is the package's CSV, ``.edf`` EDF+,
        ``.txt`` plain text; AccuSleePy's label files (``.csv`` too) are asked for by name.

    Returns
    -------
    str
        One of :data:`HYPNOGRAM_FORMATS`.

    Raises
    ------
    ValueError
        If the file is in none of the formats, or its suffix names another one.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    by_suffix = {".csv": "csv", **_SUFFIXES}.get(suffix)
    if not reading:
        if by_suffix is None:
            raise ValueError(
                f"Cannot tell the hypnogram format of {path.name} from its suffix "
                f"{suffix or '(none)'!r}: name it .csv, .edf or .txt, or give the format "
                f"({', '.join(HYPNOGRAM_FORMATS)})."
            )
        return by_suffix
    if not path.is_file():
        raise ValueError(f"Hypnogram file not found: {path}.")
    found = _sniff(path)
    if found is None:
        raise ValueError(
            f"{path} is not a hypnogram in any known format: expected an EDF+ file, a CSV "
            "with columns epoch, onset, stage (as 'sleepstage predict' writes), an "
            "AccuSleePy label CSV (column brain_state) or one stage name per line (WAKE, "
            "NREM, REM, ...). Give the format if it is one of these."
        )
    if suffix in _SUFFIXES and _SUFFIXES[suffix] != found:
        raise ValueError(
            f"{path.name} is named like a {_SUFFIXES[suffix]!r} file but holds a {found!r} "
            "hypnogram: give the format to read it anyway."
        )
    return found


# -- reading --------------------------------------------------------------------------------


class EpochLengthUnknownError(ValueError):
    """A hypnogram whose epoch length cannot be known from the file, and none was given.

    Raised by :func:`read_hypnogram` for EDF+, plain text and AccuSleePy files without
    ``epoch_length``, and for a CSV of one epoch (or one epoch per recording), whose onsets
    show no step. ``path`` is the file and ``reason`` says why, without the advice to give
    ``epoch_length=``, so that a command line can name its own option.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}; give it in seconds (epoch_length=).")


def _check_epoch_length(epoch_length, fmt: str, path: Path) -> float:
    if epoch_length is None:
        raise EpochLengthUnknownError(
            path, f"a {fmt!r} hypnogram does not record its epoch length")
    if isinstance(epoch_length, bool) or not np.isfinite(float(epoch_length)) or \
            float(epoch_length) <= 0:
        raise ValueError(f"epoch_length must be a positive number of seconds, got "
                         f"{epoch_length!r}.")
    return float(epoch_length)


def _translate(labels: Sequence[Any], mapping: Mapping | None, path: Path, *,
               first_line: int, what: str) -> np.ndarray:
    """Labels -> canonical stages, naming the first unknown label and its line.

    ``mapping=None`` means the canonical stage names, in any case.
    """
    from ..data import map_labels

    if mapping is None:
        mapping = _stage_names()
        keys = [str(label).upper() for label in labels]
    else:
        keys = list(labels)
    for i, key in enumerate(keys):
        if key not in mapping:
            raise ValueError(
                f"Unknown {what} {labels[i]!r} on line {i + first_line} of {path.name}. Known "
                f"values are {', '.join(repr(k) for k in mapping)}."
            )
    return map_labels(keys, mapping, what=what)


def _leading_blank_lines(path: Path) -> int:
    """How many blank lines come before the header."""
    with open(path, encoding="utf-8-sig") as f:
        for n, line in enumerate(f):
            if line.strip():
                return n
    return 0


def _read_csv_table(path: Path, *, text_columns: Sequence[str] = ()):
    """The table; ``text_columns`` (those present) are read as text, an empty cell as NaN.

    Their cells keep their spelling (``001``, ``2``, ``NA``, ``None``), where pandas would
    read numbers or missing values. A blank line between rows is a row of empty cells, so
    that readers name it and the rows after it keep their line numbers; blank lines before
    the header or after the last row are left out.
    """
    import pandas as pd

    try:
        options = dict(skipinitialspace=True, skip_blank_lines=False,
                       header=_leading_blank_lines(path))
        table = pd.read_csv(path, **options)
        present = [c for c in text_columns if c in table.columns]
        if present:
            text = pd.read_csv(path, usecols=present, dtype=str, keep_default_na=False,
                               **options)
            for column in present:
                values = text[column].str.strip()
                table[column] = values.where(values != "", None).astype(object)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"Could not read {path} as a CSV table: {exc}") from exc
    filled = np.flatnonzero(table.notna().any(axis=1).to_numpy())
    return table.iloc[:int(filled[-1]) + 1 if filled.size else 0]


def _recording_bounds(table, path: Path) -> tuple[list[tuple[Any, int, int]], np.ndarray]:
    """``(recording, first row, end row)`` of each recording (one, None, without the column),
    and which steps between consecutive rows lie within one recording.

    Each recording's rows must be contiguous; a row without a recording is refused.
    """
    import pandas as pd

    from .._internal.groups import runs

    n = len(table)
    if "recording" not in table.columns:
        bounds = [(None, 0, n)]
    else:
        column = table["recording"]
        if column.isna().any():
            i = int(np.flatnonzero(column.isna().to_numpy())[0])
            raise ValueError(f"Line {i + 2} of {path.name} has no recording.")
        segments = runs(column.to_numpy(dtype=object))
        repeated = np.flatnonzero(pd.Series(segments.ids).duplicated().to_numpy())
        if repeated.size:
            k = int(repeated[0])
            raise ValueError(
                f"The rows of recording {segments.ids[k]!r} in {path.name} are not together: "
                f"it continues on line {int(segments.starts[k]) + 2} after another recording; "
                "keep each recording's rows contiguous."
            )
        bounds = [(r, int(a), int(b)) for r, a, b in
                  zip(segments.ids, segments.starts, segments.stops, strict=True)]
    inside = np.ones(max(n - 1, 0), dtype=bool)
    inside[[first - 1 for _, first, _ in bounds[1:]]] = False  # the steps into a recording
    return bounds, inside


def _check_steps(steps: np.ndarray, inside: np.ndarray, bounds, epoch_length: float,
                 path: Path, *, inferred: bool) -> None:
    """Every step within a recording is a whole number (>= 1) of epochs, else an error.

    The errors name the file, the line and the recording (if the file has a ``recording``
    column). A recording whose own most common step is another length than the epoch
    length is refused too: one file holds one epoch length, and a given length must be the
    one the onsets show (2-s epochs would read 4-s onsets as 2-s epochs with gaps).
    """
    several = bounds[0][0] is not None  # a recording column: each recording is checked
    other = (other_step(steps, bounds, epoch_length, tolerance=_ALIGN_TOL)
             if inferred and several else None)
    if other is not None:
        recording, first, length, fits = other
        i = first + int(np.flatnonzero(~fits)[0]) + 1
        raise ValueError(
            f"Recording {recording!r} of {path.name} has {length:g}-s epochs (line "
            f"{i + 2} starts {steps[i - 1]:g} s after the line before) but the "
            f"file's most common epoch length is {epoch_length:g} s: one file holds "
            "one epoch length; write one file per epoch length."
        )
    ratio = steps / epoch_length
    bad = np.flatnonzero(((np.abs(ratio - np.round(ratio)) * epoch_length > _ALIGN_TOL)
                          | (ratio < 0.5)) & inside)
    if bad.size:
        i = int(bad[0]) + 1  # the row whose onset does not fit
        recording = next(b[0] for b in bounds if b[1] <= i < b[2])
        where = "" if recording is None else f" (recording {recording!r})"
        how = "the most common step between onsets" if inferred else "as given"
        raise ValueError(
            f"The onsets of {path.name}{where} do not fit {epoch_length:g}-s epochs ({how}): "
            f"line {i + 2} starts {steps[i - 1]:g} s after the line before."
        )
    other = None if inferred else other_step(steps, bounds, epoch_length, tolerance=_ALIGN_TOL)
    if other is not None:  # every step fits, but most are several epochs
        recording, _, length, _ = other
        where = "" if recording is None else f" (recording {recording!r})"
        raise ValueError(
            f"The epoch length given for {path.name}{where}, {epoch_length:g} s, is not the "
            f"most common step between its onsets, {length:g} s: give the epoch length it "
            "was scored in, or none (its onsets show it)."
        )


def _read_package_csv(path: Path, epoch_length: float | None, mapping: Mapping | None):
    import pandas as pd

    table = _read_csv_table(path, text_columns=("recording",))
    missing = [c for c in ("epoch", "onset", "stage") if c not in table.columns]
    if missing:
        raise ValueError(f"{path.name} has no column {', '.join(missing)}: a hypnogram CSV "
                         "has columns epoch, onset, stage.")
    if table.empty:
        raise ValueError(f"{path.name} holds no epoch.")
    for column in ("epoch", "onset"):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            cell = table[column].iloc[bad]
            found = "leaves it empty" if pd.isna(cell) else f"has {cell!r}"
            raise ValueError(f"Column {column!r} of {path.name} must hold numbers: line "
                             f"{bad + 2} {found}.")
        table[column] = values
    epochs = np.asarray(table["epoch"], dtype=float)
    onsets = np.asarray(table["onset"], dtype=float)
    bounds, inside = _recording_bounds(table, path)  # inside: steps within one recording
    for recording, first, stop in bounds:
        where = "" if recording is None else f" (recording {recording!r})"
        for name, values in (("epoch", epochs), ("onset", onsets)):
            back = np.flatnonzero(np.diff(values[first:stop]) <= 0)
            if back.size:
                i = first + int(back[0]) + 1
                raise ValueError(
                    f"Epochs out of order in {path.name}{where}: line {i + 2} has {name} "
                    f"{values[i]:g} after {values[i - 1]:g}; rows must be in increasing {name}."
                )
    if (epochs != np.round(epochs)).any():
        raise ValueError(f"Column 'epoch' of {path.name} must hold whole numbers.")
    steps = np.diff(onsets)
    inferred = epoch_length is None
    if inferred:
        if not inside.any():
            per = "" if len(bounds) == 1 else " per recording"
            raise EpochLengthUnknownError(
                path, f"it holds one epoch{per}, so its onsets show no epoch length")
        epoch_length = common_step(steps[inside])
    else:
        epoch_length = _check_epoch_length(epoch_length, "csv", path)
    _check_steps(steps, inside, bounds, epoch_length, path, inferred=inferred)
    labels = [str(s).strip() for s in table["stage"].fillna("").tolist()]
    empty = np.flatnonzero([label == "" for label in labels])
    if empty.size:
        raise ValueError(f"{empty.size} epoch(s) of {path.name} have no stage (first on line "
                         f"{int(empty[0]) + 2}): write UNSCORED for unscored epochs.")
    table["stage"] = _translate(labels, mapping, path, first_line=2, what="stage")
    table["epoch"] = epochs.astype(np.int64)
    return table, epoch_length


def _read_text(path: Path, epoch_length: float, mapping: Mapping | None):
    import pandas as pd

    with open(path, encoding="utf-8-sig") as f:
        lines = [line.strip() for line in f.read().splitlines()]
    while lines and not lines[-1]:  # trailing blank lines
        lines.pop()
    if not lines:
        raise ValueError(f"{path.name} holds no stage.")
    stages = _translate(lines, mapping, path, first_line=1, what="stage")
    n = len(stages)
    return pd.DataFrame({"epoch": np.arange(n), "onset": np.arange(n) * epoch_length,
                         "stage": stages})


#: An integer as AccuSleePy writes it (``2``, ``-1``), possibly as a float (``2.0``).
_INTEGER_TEXT = re.compile(r"([+-]?[0-9]+)(?:\.0*)?")


def _integer_code(cell: str) -> int | str:
    """A cell of AccuSleePy's ``brain_state``: its integer (``2``, ``2.0``), else its text.

    Text that is no integer written in ASCII digits (``REM``, ``True``, ``2.5``, ``1e0``,
    ``1_0``) stays text, for the mapping's string labels or to be named as an unknown code.
    """
    found = _INTEGER_TEXT.fullmatch(cell.strip())
    return int(found.group(1)) if found is not None else cell


def _read_accusleep(path: Path, epoch_length: float, mapping: Mapping | None):
    import pandas as pd

    table = _read_csv_table(path, text_columns=("brain_state",))
    if "brain_state" not in table.columns:
        raise ValueError(f"{path.name} has no column 'brain_state' (AccuSleePy label file).")
    if table.empty:
        raise ValueError(f"{path.name} holds no epoch.")
    codes = table["brain_state"]
    if codes.isna().any():
        i = int(np.flatnonzero(codes.isna().to_numpy())[0])
        raise ValueError(f"Missing brain_state on line {i + 2} of {path.name}.")
    values = [_integer_code(cell) for cell in codes.tolist()]
    stages = _translate(values, ACCUSLEEP_CODES if mapping is None else mapping, path,
                        first_line=2, what="brain_state code")
    n = len(stages)
    out = pd.DataFrame({"epoch": np.arange(n), "onset": np.arange(n) * epoch_length,
                        "stage": stages})
    for column in table.columns.drop("brain_state"):
        out["confidence" if column == "confidence_score" else column] = table[column]
    return out


def _edf_start(path: Path) -> _dt.datetime | None:
    """The start in an EDF+ header, or None (``Startdate X`` or unreadable)."""
    import edfio

    try:
        edf = edfio.read_edf(path, lazy_load_data=True)
        return _dt.datetime.combine(edf.startdate, edf.starttime)
    except Exception:  # anonymised start date, or a header edfio cannot parse
        return None


def _read_edf(path: Path, epoch_length: float, mapping: Mapping | None, stages: int = 3):
    import mne
    import pandas as pd

    from ..data import UNSCORED

    try:
        annotations = mne.read_annotations(path)
    except Exception as exc:
        raise ValueError(f"Could not read the EDF+ annotations of {path}: {exc}") from exc
    onset = np.asarray(annotations.onset, dtype=float)
    duration = np.asarray(annotations.duration, dtype=float)
    texts = [str(d) for d in annotations.description]
    keep = duration > 0  # zero-duration annotations are events, not scores
    if not keep.any():
        raise ValueError(f"{path.name} holds no annotation with a duration (no stage).")
    onset, duration = onset[keep], duration[keep]
    texts = [t for t, k in zip(texts, keep, strict=True) if k]
    mapping = _edf_mapping(stages) if mapping is None else mapping
    for i, text in enumerate(texts):
        if text not in mapping:
            raise ValueError(
                f"Unknown annotation {text!r} at {onset[i]:g} s (annotation {i + 1}) in "
                f"{path.name}. Known values are {', '.join(repr(k) for k in mapping)}."
            )
    stages = _translate(texts, mapping, path, first_line=1, what="annotation")
    t0 = float(onset.min())  # epoch 0 is the first scored one; onsets stay true times
    start = (onset - t0) / epoch_length
    count = duration / epoch_length
    bad = np.flatnonzero((np.abs(start - np.round(start)) * epoch_length > _ALIGN_TOL)
                         | (np.abs(count - np.round(count)) * epoch_length > _ALIGN_TOL))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"The epoch length {epoch_length:g} s does not divide the annotations of "
            f"{path.name}: {texts[i]!r} at {onset[i]:g} s lasts {duration[i]:g} s. Give the "
            "epoch length the file was scored in."
        )
    start, count = np.round(start).astype(np.int64), np.round(count).astype(np.int64)
    grid = np.full(int((start + count).max()), UNSCORED, dtype=object)
    for first, n, stage in zip(start, count, stages, strict=True):  # later ones win
        grid[first:first + n] = stage
    n = len(grid)
    table = pd.DataFrame({"epoch": np.arange(n), "onset": t0 + np.arange(n) * epoch_length,
                          "stage": grid.astype(str)})
    return table, _edf_start(path)


def read_hypnogram(
    path: str | os.PathLike,
    *,
    format: str | None = None,
    epoch_length: float | None = None,
    mapping: Mapping | None = None,
    stages: int = 3,
) -> pd.DataFrame:
    """Read a hypnogram in any of the formats labs use.

    Parameters
    ----------
    path : path-like
        The file.
    format : {"csv", "edf", "text", "accusleep"}, optional
        The format (see the module documentation); None tells it from the content.
    epoch_length : float, optional
        Epoch length in seconds. Needed for EDF+, plain text and AccuSleePy files; for the
        package's CSV it is the most common step between onsets (within recordings), and a
        given length must be that step in every recording of more than one epoch. The
        steps between onsets within each recording must be whole numbers of epochs (gaps
        are allowed), whether the length is given or found.
    mapping : mapping, optional
        Label in the file -> stage name (or :data:`~sleepstage.data.UNSCORED`), replacing the
        default one of the format: e.g. ``{1: "REM", 2: "WAKE", 3: "NREM", 4: "UNSCORED",
        -1: "UNSCORED"}`` for an AccuSleePy set-up with more brain states, or the R&K texts
        to 5 classes (:data:`~sleepstage.data.RK_TO_5CLASS`) for EDF+.
    stages : {3, 5}, default=3
        Classes the R&K texts of an EDF+ file (``Sleep stage 1`` ... ``4``) become: 3
        (WAKE/NREM/REM) or 5 (WAKE/N1/N2/N3/REM, stages 3 and 4 joined as N3). The other
        formats hold stage names or codes and do not use it; ``mapping`` replaces it.

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch``, ``onset`` (s), ``stage``, then the file's other columns.
        ``attrs`` holds ``format``, ``epoch_length`` and ``start`` (a datetime for an EDF+
        file whose header has one, else None). A CSV may hold several recordings in a
        ``recording`` column (kept in the table, read as text: ``001`` stays ``001``, only
        an empty cell is a missing id): the rows of each recording must be together and in
        time order, its epochs and onsets increasing within it (they may start again at 0
        in the next recording); ``epoch`` and ``onset`` then count within each recording.

    Raises
    ------
    ValueError
        A file in none of the formats (or whose suffix contradicts its content), a missing
        column, an epoch without a stage, a label not in the mapping (named with its line),
        epochs out of order (with the recording, if the file has several), a recording whose
        rows are not together, an epoch length not dividing the onsets (steps within a
        recording) or annotation durations, a given epoch length that is not the most
        common step between a CSV's onsets, a CSV whose recordings have different epoch
        lengths (one file holds one epoch length), a ``recording`` cell left empty, a CSV
        without rows.
    EpochLengthUnknownError
        A :class:`ValueError`: no epoch length is given and the file cannot show it (EDF+,
        plain text, AccuSleePy, or a CSV of one epoch, or of one epoch per recording).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "scores.txt"
    >>> _ = out.write_text("WAKE\\nNREM\\nNREM\\nREM\\n")
    >>> read_hypnogram(out, epoch_length=4).stage.tolist()
    ['WAKE', 'NREM', 'NREM', 'REM']
    """
    path = Path(path)
    fmt = _check_format(format) or hypnogram_format(path)
    check_option("stages", stages, (3, 5))
    if not path.is_file():
        raise ValueError(f"Hypnogram file not found: {path}.")
    start = None
    if fmt == "csv":
        table, epoch_length = _read_package_csv(path, epoch_length, mapping)
    else:
        epoch_length = _check_epoch_length(epoch_length, fmt, path)
        if fmt == "edf":
            table, start = _read_edf(path, epoch_length, mapping, stages)
        elif fmt == "text":
            table = _read_text(path, epoch_length, mapping)
        else:
            table = _read_accusleep(path, epoch_length, mapping)
    table.attrs.update(format=fmt, epoch_length=float(epoch_length), start=start)
    return table


# -- writing --------------------------------------------------------------------------------


def _runs(stages: np.ndarray, onsets: np.ndarray, epoch_length: float):
    """Consecutive epochs of one stage (split at gaps) as (onset, duration, stage)."""
    new = np.ones(len(stages), dtype=bool)
    new[1:] = (stages[1:] != stages[:-1]) | ~np.isclose(np.diff(onsets), epoch_length)
    starts = np.flatnonzero(new)
    stops = np.append(starts[1:], len(stages))
    return onsets[starts], onsets[stops - 1] + epoch_length - onsets[starts], stages[starts]


def _inverse(mapping: Mapping, stages: np.ndarray, fmt: str) -> dict:
    """stage -> first label mapping to it; every stage must have one."""
    inverse: dict = {}
    for label, stage in mapping.items():
        inverse.setdefault(stage, label)
    unknown = [s for s in dict.fromkeys(stages.tolist()) if s not in inverse]
    if unknown:
        raise ValueError(
            f"Stage(s) {', '.join(map(repr, unknown))} have no code in the {fmt!r} format "
            f"(it has {', '.join(map(repr, inverse))}): give a mapping that includes them."
        )
    return inverse


def write_hypnogram(
    path: str | os.PathLike,
    stages,
    *,
    epoch_length: float,
    format: str | None = None,
    onsets=None,
    start: _dt.datetime | None = None,
    mapping: Mapping | None = None,
    force: bool = False,
) -> Path:
    """Write a hypnogram in any of the formats of :func:`read_hypnogram`, atomically.

    Parameters
    ----------
    path : path-like
        Destination.
    stages : array-like of str or pandas.DataFrame
        One stage per epoch (:data:`~sleepstage.data.UNSCORED` for unscored epochs), or a
        table as :func:`read_hypnogram` returns (its ``stage``, its ``onset`` unless
        ``onsets`` is given, and its other columns: all of them in the package's CSV,
        ``confidence`` as AccuSleePy's ``confidence_score``).
    epoch_length : float
        Epoch length in seconds.
    format : {"csv", "edf", "text", "accusleep"}, optional
        None tells it from the suffix: ``.csv`` the package's CSV, ``.edf`` EDF+ and
        ``.txt`` plain text; AccuSleePy's label files must be asked for by name.
    onsets : array-like of float, optional
        Onset of each epoch in seconds; default ``epoch * epoch_length``. Plain text and
        AccuSleePy files list consecutive epochs and refuse onsets with gaps.
    start : datetime.datetime, optional
        Start of the recording, written to an EDF+ header, a fraction of a second to its
        start offset (default: the table's ``attrs["start"]``, if any).
    mapping : mapping, optional
        Label -> stage as in :func:`read_hypnogram`; each stage is written as the first label
        mapping to it.
    force : bool
        Overwrite an existing file.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        A stage the format has no label for, onsets out of order or not fitting the epoch
        length, onsets with gaps for a format without times, an unknown format or suffix, or
        an existing file without ``force``.
    """
    import pandas as pd

    path = Path(path)
    fmt = _check_format(format) or hypnogram_format(path, reading=False)
    if isinstance(epoch_length, bool) or not np.isfinite(float(epoch_length)) or \
            float(epoch_length) <= 0:
        raise ValueError(f"epoch_length must be a positive number of seconds, got "
                         f"{epoch_length!r}.")
    epoch_length = float(epoch_length)
    extra = None
    if isinstance(stages, pd.DataFrame):
        if "stage" not in stages.columns:
            raise ValueError("The hypnogram table has no 'stage' column.")
        table = stages
        if onsets is None and "onset" in table.columns:
            onsets = table["onset"].to_numpy(dtype=float)
        if start is None:
            start = table.attrs.get("start")
        extra = table.drop(columns=[c for c in ("epoch", "onset", "stage")
                                    if c in table.columns]).reset_index(drop=True)
        stages = table["stage"]
    stages = np.asarray(stages, dtype=object).astype(str).ravel()
    if stages.size == 0:
        raise ValueError("No epoch to write: the hypnogram is empty.")
    n = len(stages)
    if onsets is None:
        onsets = np.arange(n) * epoch_length
    onsets = np.asarray(onsets, dtype=float).ravel()
    if len(onsets) != n:
        raise ValueError(f"onsets has {len(onsets)} values for {n} epochs.")
    steps = np.diff(onsets)
    ratio = steps / epoch_length
    if (~np.isfinite(onsets)).any() or (ratio < 0.5).any() or \
            (np.abs(ratio - np.round(ratio)) * epoch_length > _ALIGN_TOL).any():
        raise ValueError(f"The onsets must increase in whole {epoch_length:g}-s epochs.")
    if fmt in ("text", "accusleep") and (np.round(ratio) != 1).any():
        i = int(np.flatnonzero(np.round(ratio) != 1)[0])
        raise ValueError(
            f"A {fmt!r} file lists consecutive epochs, but the onsets jump from "
            f"{onsets[i]:g} s to {onsets[i + 1]:g} s: write the package's CSV or EDF+ instead."
        )
    check_writable([path], force=force)
    if fmt == "csv":
        from ._tables import write_table

        known = _stage_names()
        if mapping is None:
            unknown = [s for s in dict.fromkeys(stages.tolist()) if s not in known.values()]
            if unknown:
                raise ValueError(f"Unknown stage(s) {', '.join(map(repr, unknown))}: "
                                 f"stages are {', '.join(map(repr, known.values()))}.")
        else:
            inverse = _inverse(mapping, stages, fmt)  # once, not once per epoch
            stages = np.array([inverse[s] for s in stages.tolist()], dtype=object)
        out = pd.DataFrame({"epoch": np.arange(n), "onset": onsets, "stage": stages})
        if extra is not None:
            out = pd.concat([out, extra], axis=1)
        return write_table(out, path, force=force)
    if fmt == "edf":
        own = {text: stage for stage, text in EDF_STAGE_TEXT.items()}
        inverse = _inverse(own if mapping is None else mapping, stages, fmt)
        run_onsets, durations, run_stages = _runs(stages, onsets, epoch_length)
        return write_edf_annotations(path, run_onsets, durations,
                                     [inverse[s] for s in run_stages.tolist()],
                                     start=start, force=force)
    if fmt == "text":
        inverse = _inverse(_stage_names() if mapping is None else mapping, stages, fmt)
        text = "".join(f"{inverse[s]}\n" for s in stages.tolist())
        with atomic_write(path, force=force) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
        return path
    inverse = _inverse(ACCUSLEEP_CODES if mapping is None else mapping, stages, fmt)
    out = pd.DataFrame({"brain_state": [inverse[s] for s in stages.tolist()]})
    if extra is not None and "confidence" in extra.columns:
        out["confidence_score"] = extra["confidence"].to_numpy()
    from ._tables import write_table

    return write_table(out, path, force=force)
