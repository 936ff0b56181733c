"""Per-epoch feature tables (CSV or Parquet) as a data source.

A feature table has one row per epoch and the columns ``recording``, ``epoch`` (0, 1, ...
within each recording), ``onset`` (seconds from the start of the recording), optionally
``stage``, then one numeric column per feature, under any name. It is the format
``sleepstage features`` writes, and the form in which a lab brings the band powers its
acquisition software exports: such a table goes through the pipelines built with
``make_staging_pipeline(features=False)``, which is what ``FeatureTable.layout()`` asks for.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from .._internal.groups import runs
from .._internal.onset_steps import common_step, other_step
from .._internal.validation import check_positive
from .._internal.values import plain
from ._epochs import EpochData
from ._stages import STAGE_SPELLINGS, UNSCORED

__all__ = ["FEATURE_TABLE_KEYS", "FeatureTable", "read_feature_table"]

#: The columns of a feature table that are not features, in the order they are written.
FEATURE_TABLE_KEYS: tuple[str, ...] = ("recording", "epoch", "onset", "stage")
#: Suffixes read, and their format.
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Onsets may deviate from the epoch grid by this much (seconds): a table written with
#: millisecond onsets still reads.
_ONSET_TOLERANCE = 1e-3
#: Keys or rows quoted in one error message.
_SHOWN = 10
#: Columns read as written in a CSV: 'NA', 'N/A' or 'null' is an id or a label, not missing.
_TEXT_COLUMNS = ("recording", "stage")


@dataclass(eq=False)
class FeatureTable(EpochData):
    """Per-epoch features of one or more recordings: an ``EpochData`` without raw signal.

    ``X`` holds one row of features per epoch, ``(n_epochs, n_features)``, instead of raw
    samples; there is no sampling rate and no channel. Everything that reads recordings,
    labels and ids from an ``EpochData`` reads them here (``y``, ``groups``, ``onsets``,
    ``recordings``, ``select``, ``n_epochs``), and :meth:`layout` gives the pipeline for a
    feature matrix: ``make_staging_pipeline(**table.layout())`` starts at the scaler.
    Artefacts cannot be flagged without raw signal (``has_signal`` is False):
    :func:`~sleepstage.pipelines.cross_validate_recordings`,
    :func:`~sleepstage.parallel.fit_pipeline` and :func:`~sleepstage.parallel.grid_search`
    train on every epoch of a table; :func:`~sleepstage.pipelines.fit_with_groups`, given
    the table's ``X`` without a raw layout, does too.

    Parameters
    ----------
    X : numpy.ndarray, shape (n_epochs, n_features), float32
        Feature values, finite.
    y : numpy.ndarray of str, shape (n_epochs,), or None
        Stage of each epoch, None for an unscored table.
    groups : numpy.ndarray of str, shape (n_epochs,)
        Recording id of each epoch; each recording's epochs contiguous, in time order.
    epoch_length : float
        Epoch duration in seconds.
    onsets : numpy.ndarray, shape (n_epochs,), optional
        Onset of each epoch in seconds from the start of its recording.
    info : dict
        Provenance (``path``, ``format``, counts).
    feature_names : sequence of str
        Name of every column of ``X`` (keyword only).

    Examples
    --------
    >>> import numpy as np
    >>> table = FeatureTable(np.zeros((3, 2)), None, np.array(["a", "a", "b"]), 4.0,
    ...                      feature_names=["log_delta", "log_emg"])
    >>> table.layout(), table.recordings.tolist(), table.select([0, 1]).n_epochs
    ({'features': False, 'epoch_length': 4.0}, ['a', 'b'], 2)
    """

    # EpochData's raw-signal fields do not apply: keyword-only, always empty.
    sfreq: float | None = field(default=None, kw_only=True)  # type: ignore[assignment]
    ch_names: Sequence[str] = field(default=(), kw_only=True)
    ch_types: Sequence[str] = field(default=(), kw_only=True)
    feature_names: Sequence[str] = field(default=(), kw_only=True)
    has_signal: ClassVar[bool] = False

    def __post_init__(self) -> None:
        self.X = np.ascontiguousarray(self.X, dtype=np.float32)
        self.feature_names = tuple(str(n) for n in self.feature_names)
        self.groups = np.asarray(self.groups)
        self.epoch_length = check_positive("epoch_length", self.epoch_length)
        if self.sfreq is not None or self.ch_names or self.ch_types:
            raise ValueError("A FeatureTable has no sampling rate and no channels: sfreq, "
                             "ch_names and ch_types must be left empty.")
        self.sfreq, self.ch_names, self.ch_types = None, (), ()
        if self.X.ndim != 2:
            raise ValueError(f"FeatureTable.X must be 2-D (n_epochs, n_features), got shape "
                             f"{self.X.shape}.")
        n_epochs, n_features = self.X.shape
        if len(self.feature_names) != n_features:
            raise ValueError(f"X has {n_features} feature columns but {len(self.feature_names)} "
                             "feature names were given.")
        self._check_epoch_arrays(n_epochs)

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return self.X.shape[1]

    @property
    def n_samples(self) -> int:
        """Not defined: a feature table has no samples (an ``AttributeError`` says so)."""
        raise AttributeError("A FeatureTable holds features, not samples: see n_features.")

    def layout(self) -> dict:
        """Keyword arguments of :func:`~sleepstage.pipelines.make_staging_pipeline`.

        Returns
        -------
        dict
            ``{"features": False, "epoch_length": ...}``: the pipeline without the raw-epoch
            feature step, on this epoch length.
        """
        return {"features": False, "epoch_length": self.epoch_length}

    def select(self, mask) -> FeatureTable:
        """Return the epochs where ``mask`` (boolean or integer index) selects."""
        return FeatureTable(
            X=self.X[mask],
            y=None if self.y is None else self.y[mask],
            groups=self.groups[mask],
            epoch_length=self.epoch_length,
            onsets=None if self.onsets is None else self.onsets[mask],
            info=dict(self.info),
            feature_names=self.feature_names,
        )

    @classmethod
    def concatenate(cls, parts: Sequence[FeatureTable]) -> FeatureTable:
        """Stack tables with the same feature columns and epoch length.

        Raises
        ------
        ValueError
            If the parts differ in their feature names (naming those missing from or extra
            in a part), their epoch length, or in whether they are scored.
        """
        if not parts:
            raise ValueError("Nothing to concatenate: got an empty list of FeatureTable.")
        first = parts[0]
        for k, part in enumerate(parts[1:], start=1):
            if not isinstance(part, FeatureTable):
                raise ValueError(f"Part {k} is a {type(part).__name__}, not a FeatureTable: "
                                 "feature tables cannot be combined with raw epochs.")
            if part.feature_names != first.feature_names:
                raise ValueError(f"Part {k} has other feature columns than the first: "
                                 + describe_columns(part.feature_names, first.feature_names))
            if not math.isclose(part.epoch_length, first.epoch_length, abs_tol=1e-9):
                raise ValueError(f"Part {k} has {part.epoch_length:g}-s epochs, the first "
                                 f"{first.epoch_length:g}-s epochs.")
        labelled = [p.y is not None for p in parts]
        if any(labelled) and not all(labelled):
            raise ValueError("Cannot concatenate scored and unscored feature tables.")
        has_onsets = all(p.onsets is not None for p in parts)
        return cls(
            X=np.concatenate([p.X for p in parts]),
            y=np.concatenate([p.y for p in parts]) if all(labelled) else None,
            groups=np.concatenate([p.groups for p in parts]),
            epoch_length=first.epoch_length,
            onsets=np.concatenate([p.onsets for p in parts]) if has_onsets else None,
            info={"parts": [p.info for p in parts]},
            feature_names=first.feature_names,
        )

    def reorder(self, feature_names: Sequence[str]) -> FeatureTable:
        """The same table with its columns in the order of ``feature_names``.

        Raises
        ------
        ValueError
            If the names are not exactly this table's, naming those missing and extra.
        """
        names = [str(n) for n in feature_names]
        if sorted(names) != sorted(self.feature_names) or len(set(names)) != len(names):
            raise ValueError("The feature columns differ: "
                             + describe_columns(self.feature_names, names))
        index = {n: i for i, n in enumerate(self.feature_names)}
        order = [index[n] for n in names]
        return FeatureTable(X=self.X[:, order], y=self.y, groups=self.groups,
                            epoch_length=self.epoch_length, onsets=self.onsets,
                            info=dict(self.info), feature_names=names)

    def to_frame(self) -> pd.DataFrame:
        """The table in the format :func:`read_feature_table` reads (and
        ``sleepstage features`` writes): ``recording``, ``epoch``, ``onset``, ``stage`` (when
        scored), then the features."""
        columns: dict = {"recording": self.groups, "epoch": _positions(self.groups),
                         "onset": (self.onsets if self.onsets is not None
                                   else _positions(self.groups) * self.epoch_length)}
        if self.y is not None:
            columns["stage"] = self.y
        meta = pd.DataFrame(columns)
        return pd.concat([meta, pd.DataFrame(self.X, columns=list(self.feature_names))], axis=1)


def describe_columns(given: Sequence[str], expected: Sequence[str]) -> str:
    """``"missing 'a', 'b'; extra 'c'"`` (or the order, when only that differs)."""
    given, expected = [str(n) for n in given], [str(n) for n in expected]
    missing = [n for n in expected if n not in set(given)]
    extra = [n for n in given if n not in set(expected)]
    parts = []
    if missing:
        parts.append(f"missing {_quoted(missing)}")
    if extra:
        parts.append(f"extra {_quoted(extra)}")
    if not parts:
        parts.append("the same names in another order or repeated")
    return "; ".join(parts) + "."


def _quoted(values: Sequence, limit: int = _SHOWN) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _positions(groups: np.ndarray) -> np.ndarray:
    """0, 1, ... within each run of equal ids."""
    groups = np.asarray(groups)
    if groups.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    return np.arange(groups.size) - np.repeat(starts, np.diff(np.r_[starts, groups.size]))


def _ranges(numbers: Sequence[int], limit: int = _SHOWN) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    runs: list[str] = []
    numbers = sorted(numbers)
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    shown = ", ".join(runs[:limit])
    return shown + (f" and {len(runs) - limit} more runs" if len(runs) > limit else "")


def _read_frame(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raise ValueError(f"{path}: cannot read the Parquet file ({exc}).") from exc
        frame.columns = [str(c) for c in frame.columns]
        if len(set(frame.columns)) != len(frame.columns):
            repeated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
            raise ValueError(f"{path}: column(s) {_quoted(repeated)} appear more than once.")
        return frame
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text (CSV) file ({exc}).") from exc
    header = [h.strip() for h in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:  # pandas would rename them silently ('x', 'x.1')
        raise ValueError(f"{path}: column(s) {_quoted(repeated)} appear more than once in the "
                         "header.")
    try:
        frame = pd.read_csv(path, dtype={"recording": str, "stage": str},
                            skipinitialspace=True)
        text = [c for c in frame.columns if str(c).strip() in _TEXT_COLUMNS]
        cells = pd.read_csv(path, usecols=text, dtype=str, keep_default_na=False,
                            skipinitialspace=True) if text else None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the CSV file ({exc}).") from exc
    for column in text:  # only an empty cell is missing, as read_hypnogram reads them
        frame[column] = cells[column].to_numpy(dtype=object)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _keys(recordings: np.ndarray, epochs: np.ndarray, rows: np.ndarray) -> str:
    shown = [f"({recordings[i]!r}, {epochs[i]}) in row {i + 1}" for i in rows[:_SHOWN]]
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    return ", ".join(shown) + more


def _check_keys(path: Path, recordings: np.ndarray, epochs: np.ndarray) -> None:
    """Unique (recording, epoch) keys; recordings contiguous; epochs 0, 1, ... in order."""
    keys = pd.DataFrame({"recording": recordings, "epoch": epochs})
    repeated = np.flatnonzero(keys.duplicated(keep="first").to_numpy())
    if repeated.size:
        raise ValueError(f"{path}: duplicate (recording, epoch) key(s): "
                         f"{_keys(recordings, epochs, repeated)} (rows counted from 1 after "
                         "the header).")
    new_run = np.r_[True, recordings[1:] != recordings[:-1]]
    run_ids = recordings[new_run]
    seen: set = set()
    for rid, start in zip(run_ids.tolist(), np.flatnonzero(new_run).tolist(), strict=True):
        if rid in seen:
            raise ValueError(f"{path}: the rows of recording {rid!r} are not together (row "
                             f"{start + 1} starts it again after other recordings). Sort the "
                             "rows by recording, then epoch.")
        seen.add(rid)
    step = np.diff(epochs)
    back = np.flatnonzero(~new_run[1:] & (step < 0)) + 1
    if back.size:
        i = int(back[0])
        raise ValueError(f"{path}: rows out of order: epoch {epochs[i]} of recording "
                         f"{recordings[i]!r} (row {i + 1}) follows epoch {epochs[i - 1]}. "
                         "Sort the rows by recording, then epoch.")
    problems = []
    starts = np.flatnonzero(new_run)
    stops = np.r_[starts[1:], len(recordings)]
    for rid, start, stop in zip(run_ids.tolist(), starts.tolist(), stops.tolist(), strict=True):
        present = epochs[start:stop]
        expected = np.arange(int(present[-1]) + 1)
        missing = np.setdiff1d(expected, present)
        if present[0] < 0:
            problems.append(f"recording {rid!r} has negative epoch numbers")
        elif missing.size:
            problems.append(f"recording {rid!r} lacks epoch(s) {_ranges(missing.tolist())}")
    if problems:
        raise ValueError(f"{path}: missing epochs: " + "; ".join(problems[:_SHOWN])
                         + ". Epochs are numbered 0, 1, 2, ... within each recording, with "
                         "no gap (a gap in time shows in the onsets).")


def _epoch_length(path: Path, onsets: np.ndarray, recordings: np.ndarray,
                  epochs: np.ndarray, given: float | None) -> float:
    """The epoch length: ``given``, or the most common step between onsets within recordings.

    As :func:`~sleepstage.io.read_hypnogram` checks a CSV's onsets: every step must be a
    whole number of epochs, and every recording's most common step the epoch length.
    """
    steps = np.diff(onsets)
    same = recordings[1:] == recordings[:-1]
    step = steps[same]
    rows = np.flatnonzero(same) + 1  # the later row of each step
    bad = np.flatnonzero(step <= 0)
    if bad.size:
        i = int(rows[bad[0]])
        raise ValueError(f"{path}: onsets must increase within a recording, but epoch "
                         f"{epochs[i]} of recording {recordings[i]!r} (row {i + 1}) starts at "
                         f"{onsets[i]:g} s, epoch {epochs[i - 1]} at {onsets[i - 1]:g} s.")
    if given is not None:
        length = check_positive("epoch_length", given)
    elif step.size == 0:
        raise ValueError(f"{path}: every recording has a single epoch, so the epoch length "
                         "cannot be read from the onsets; give it (epoch_length=..., "
                         "--epoch-length on the command line).")
    else:
        length = common_step(step)
    segments = runs(recordings)
    bounds = list(zip(segments.ids.tolist(), segments.starts.tolist(), segments.stops.tolist(),
                      strict=True))
    other = other_step(steps, bounds, length, tolerance=_ONSET_TOLERANCE)
    if other is not None and given is None:
        rid, first, own, fits = other
        i = first + int(np.flatnonzero(~fits)[0]) + 1
        raise ValueError(f"{path}: recording {rid!r} has {own:g}-s epochs (epoch {epochs[i]}, "
                         f"row {i + 1}, starts {steps[i - 1]:g} s after the previous epoch) "
                         f"but the table's most common step between onsets is {length:g} s: "
                         "one table holds one epoch length; write one table per epoch "
                         "length.")
    ratio = step / length
    off = np.flatnonzero((np.abs(ratio - np.round(ratio)) * length > _ONSET_TOLERANCE)
                         | (np.round(ratio) < 1))
    if off.size:
        i = int(rows[off[0]])
        found = ", ".join(f"{s:g}" for s in np.unique(np.round(step, 6))[:_SHOWN])
        hint = ("the onsets step by " + found + " s, which are not multiples of one epoch "
                "length: give it (epoch_length=..., --epoch-length)") if given is None else (
                f"they are not on a grid of {length:g}-s epochs (steps of {found} s): check "
                "the epoch length")
        raise ValueError(f"{path}: the onsets do not fit one epoch length ({hint}); first "
                         f"at epoch {epochs[i]} of recording {recordings[i]!r} (row {i + 1}), "
                         f"{step[off[0]]:g} s after the previous epoch.")
    if other is not None:  # every step fits the given length, but most are several epochs
        rid, _, own, _ = other
        raise ValueError(f"{path}: the epoch length {length:g} s is not the most common step "
                         f"between the onsets of recording {rid!r}, {own:g} s: give the epoch "
                         "length the table was written with, or none (the onsets show it).")
    return round(length, 6)


def read_feature_table(path: str | os.PathLike, *, epoch_length: float | None = None,
                       drop_unscored: bool = True,
                       mapping: Mapping[str, str] | None = None) -> FeatureTable:
    """Read a per-epoch feature table written by ``sleepstage features`` (or by hand).

    Parameters
    ----------
    path : path-like
        A ``.csv`` file, or ``.parquet``/``.pq``. Columns: ``recording`` (any id, read as
        text: ``NA`` is an id, only an empty cell is missing), ``epoch`` (integers 0, 1, 2,
        ... within each recording, no gap), ``onset`` (seconds from the start of the
        recording; a pause in the recording shows as a larger step), optionally ``stage``
        (stage names in any case, read as :func:`~sleepstage.io.read_hypnogram` reads them:
        ``nrem`` is ``NREM``; an empty cell or ``UNSCORED`` is an unscored epoch), and one
        numeric column per feature, under any name (numbers stored as text are read as
        numbers, as in a CSV). Rows are ordered by recording (each recording's rows
        together), then epoch.
    epoch_length : float, optional
        Epoch length in seconds. By default it is read from the onsets: the most common
        step between consecutive epochs within recordings. Given or read, every step must
        be a whole number of epochs and every recording's most common step must be the
        epoch length (one table holds one epoch length), as
        :func:`~sleepstage.io.read_hypnogram` checks a CSV's onsets.
    drop_unscored : bool, default=True
        Leave out the unscored epochs of a scored table (as :func:`read_edf` does; the
        onsets show where they were). When False they stay with ``y == "UNSCORED"``. A
        ``stage`` column with no scored epoch at all is read as an unscored table
        (``y`` None, every epoch kept).
    mapping : mapping, optional
        Label in the ``stage`` column -> stage name (or :data:`UNSCORED`), for a table
        scored with a lab's own labels, e.g. ``{"W": "WAKE", "NR": "NREM", "R": "REM"}``;
        replaces the stage names in any case. Every label must be in it.

    Returns
    -------
    FeatureTable
        Features as float32 ``X``, ``feature_names`` in the file's column order, ``y``,
        ``groups`` (the recording ids, as text), ``onsets`` and ``epoch_length``.

    Raises
    ------
    ValueError
        With the file named, for: a suffix other than ``.csv``, ``.parquet``, ``.pq``; a
        missing required column; no feature column; a feature column that is not numeric
        (naming it and the first bad value) or holds NaN/infinite values (naming the column
        and the rows); repeated column names; an empty recording id; duplicate (recording,
        epoch) keys, rows out of order, or missing epochs (named); a stage that is no stage
        name (named with its row); onsets that do not increase or do not fit the epoch
        length, recordings of different epoch lengths, or a given epoch length that is not
        the most common step between a recording's onsets.
    FileNotFoundError
        If ``path`` does not exist.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> frame = pd.DataFrame({"recording": ["m1"] * 4, "epoch": range(4),
    ...                       "onset": [0.0, 4.0, 8.0, 12.0],
    ...                       "stage": ["WAKE", "NREM", "NREM", "REM"],
    ...                       "log_delta": [1.0, 3.0, 3.1, 1.5], "log_emg": [2.0, 0.5, 0.4, 0.1]})
    >>> path = os.path.join(tempfile.mkdtemp(), "mouse.csv")
    >>> frame.to_csv(path, index=False)
    >>> table = read_feature_table(path)
    >>> table.X.shape, table.epoch_length, table.feature_names, table.y.tolist()
    ((4, 2), 4.0, ('log_delta', 'log_emg'), ['WAKE', 'NREM', 'NREM', 'REM'])
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: a feature table must be .csv, .parquet or .pq; the suffix "
                         f"{path.suffix or '(none)'!r} names no format read here.")
    if not path.is_file():
        raise FileNotFoundError(f"Feature table {path} does not exist.")
    frame = _read_frame(path, fmt)
    missing = [c for c in FEATURE_TABLE_KEYS[:3] if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: required column(s) {_quoted(missing)} missing; a feature "
                         "table has the columns recording, epoch, onset, optionally stage, "
                         f"then the features (found {_quoted(list(frame.columns))}).")
    names = [c for c in frame.columns if c not in FEATURE_TABLE_KEYS]
    if not names:
        raise ValueError(f"{path}: no feature column (every column besides recording, epoch, "
                         "onset and stage is a feature).")
    if frame.empty:
        raise ValueError(f"{path}: the table has no rows.")

    recording_column = frame["recording"]
    empty = np.flatnonzero(recording_column.isna().to_numpy()
                           | (recording_column.astype(str).str.strip() == "").to_numpy())
    if empty.size:
        raise ValueError(f"{path}: empty recording id in row(s) "
                         f"{_ranges((empty + 1).tolist())}.")
    # Python strings (object array) for the checks: their repr in messages is plain
    recordings = np.array(recording_column.astype(str).str.strip().tolist(), dtype=object)
    epochs = _integers(path, frame["epoch"], "epoch")
    _check_keys(path, recordings, epochs)
    onsets = _numbers(path, frame["onset"], "onset", recordings, epochs).astype(float)
    length = _epoch_length(path, onsets, recordings, epochs, epoch_length)

    X = np.empty((len(frame), len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        X[:, j] = _numbers(path, frame[name], name, recordings, epochs)

    y = None
    n_unscored = 0
    if "stage" in frame.columns:
        stages = frame["stage"].astype(object).to_numpy()
        text = np.array(["" if s is None or (isinstance(s, float) and math.isnan(s))
                         else str(s).strip() for s in stages], dtype=object)
        text = _canonical_stages(path, text, recordings, epochs, mapping)
        unscored = (text == "") | (text == UNSCORED)
        if not unscored.all():
            text[unscored] = UNSCORED
            y = text.astype(str)
            n_unscored = int(unscored.sum())
    info = {"path": str(path), "format": fmt, "n_unscored": n_unscored}
    table = FeatureTable(X=X, y=y, groups=recordings.astype(str), epoch_length=length,
                         onsets=onsets, info=info, feature_names=names)
    if drop_unscored and n_unscored:
        table = table.select(y != UNSCORED)
        table.info["dropped_unscored"] = n_unscored
    return table


def _canonical_stages(path: Path, labels: np.ndarray, recordings: np.ndarray,
                      epochs: np.ndarray, mapping: Mapping[str, str] | None) -> np.ndarray:
    """Stage labels -> canonical names (empty cells stay empty): through ``mapping``, else
    in any case as :func:`~sleepstage.io.read_hypnogram` reads them; an unknown label is
    named."""
    if mapping is None:
        keys, known_as = [label.upper() for label in labels], STAGE_SPELLINGS
        known = f"Stages are {', '.join(STAGE_SPELLINGS.values())} in any case (or give mapping)"
    else:  # the mapping's stage names in any case too ("wake" is WAKE)
        keys = list(labels)
        known_as = {str(k): STAGE_SPELLINGS.get(str(v).upper(), v) for k, v in mapping.items()}
        known = f"The mapping knows {', '.join(map(repr, known_as))}"
    unknown = np.flatnonzero([label != "" and key not in known_as
                              for label, key in zip(labels, keys, strict=True)])
    if unknown.size:
        i = int(unknown[0])
        raise ValueError(f"{path}: unknown stage {labels[i]!r} in row {i + 1} (recording "
                         f"{recordings[i]!r}, epoch {epochs[i]}; {unknown.size} such row(s)). "
                         f"{known}; an empty cell is an unscored epoch.")
    return np.array([known_as.get(key, label) for label, key in zip(labels, keys, strict=True)],
                    dtype=object)


def _integers(path: Path, column: pd.Series, name: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{path}: column {name!r} must hold integers; row {i + 1} has "
                         f"{plain(column.iloc[i])!r} ({bad.size} such row(s)).")
    return values.astype(np.int64)


def _numbers(path: Path, column: pd.Series, name: str, recordings: np.ndarray,
             epochs: np.ndarray) -> np.ndarray:
    """A numeric, finite column as float64 (float32 range checked), or a named error.

    Numbers stored as text (a Parquet string column) are read as numbers, as a CSV reads
    the same cells.
    """
    if not (pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)):
        text = column.dtype == object or isinstance(column.dtype, (pd.StringDtype,
                                                                   pd.CategoricalDtype))
        coerced = pd.to_numeric(column.astype(object), errors="coerce")
        bad = np.flatnonzero(coerced.isna().to_numpy() & column.notna().to_numpy())
        if bad.size or not text:
            i = int(bad[0]) if bad.size else 0  # not text (bool, dates): any cell is bad
            raise ValueError(f"{path}: column {name!r} is not numeric: row {i + 1} "
                             f"(recording {recordings[i]!r}, epoch {epochs[i]}) holds "
                             f"{plain(column.iloc[i])!r}.")
        column = coerced
    values = column.to_numpy(dtype=float)
    scale = np.float32 if name not in ("onset",) else np.float64
    with np.errstate(over="ignore"):  # beyond float32: inf, reported below
        bad = np.flatnonzero(~np.isfinite(values.astype(scale)))
    if bad.size:
        raise ValueError(f"{path}: column {name!r} holds missing, NaN or infinite values (or "
                         f"values beyond float32) at {bad.size} row(s): "
                         f"{_keys(recordings, epochs, bad)}. Fill or drop those epochs.")
    return values
