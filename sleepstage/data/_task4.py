"""The reference rodent format: one CSV file per channel plus a label file.

A data set ``<subset>`` consists of ``<subset>_<channel>.csv`` files (``train_eeg1.csv``,
``train_eeg2.csv``, ``train_emg.csv``) with a header row, an ``Id`` column and one column per
sample (512 for 4-s epochs at 128 Hz), and for the training subset ``train_labels.csv`` with
columns ``Id,y`` where ``y`` is 1 = WAKE, 2 = NREM, 3 = REM. The ``Id`` of a row numbers the
epoch: epochs are put in Id order (numerically), whatever the order of the rows, and every
file of a subset must hold the same Ids, each once. The recordings (animals) follow one
another in blocks of a fixed number of epochs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._internal.validation import check_finite, check_option, check_positive
from .._internal.values import plain
from ._epochs import CH_TYPES, EpochData
from ._stages import TASK4_CODES, map_labels

__all__ = ["load_task4_csv", "write_task4_csv"]

logger = logging.getLogger(__name__)

#: Labels written for each canonical stage (inverse of ``TASK4_CODES``).
_STAGE_TO_CODE = {name: code for code, name in TASK4_CODES.items()}
#: pyarrow reads blocks of this many bytes; with ~500 columns small blocks cost a lot.
_BLOCK_SIZE = 1 << 24
_ENGINES = ("auto", "pyarrow", "c")


def _pyarrow():
    """``(pyarrow, pyarrow.csv)``, or ``(None, None)`` without the optional package."""
    try:
        import pyarrow
        import pyarrow.csv
    except ImportError:
        return None, None
    return pyarrow, pyarrow.csv


def _subset_files(directory: Path, subset: str, ch_names: Sequence[str]) -> list[Path]:
    return [directory / f"{subset}_{name}.csv" for name in ch_names]


def _read_header(path: Path) -> list[str]:
    """Column names from the first line, read without parsing the (large) body."""
    with open(path, encoding="utf-8", newline="") as handle:
        line = handle.readline()
    if not line.strip():
        raise ValueError(f"{path} is empty: expected a header row starting with 'Id'.")
    return [name.strip().strip('"').strip() for name in line.rstrip("\r\n").split(",")]


def _read_signal_csv(path: Path, n_samples: int, engine: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ids, values)`` of one channel file; ``values`` is float32 (n_rows, n_samples)."""
    columns = _read_header(path)
    if "Id" not in columns:
        raise ValueError(f"{path} has no 'Id' column; its header starts with {columns[:3]}.")
    sample_columns = [c for c in columns if c != "Id"]
    if len(sample_columns) != n_samples:
        raise ValueError(
            f"{path} has {len(sample_columns)} sample columns, but sfreq x epoch_length = "
            f"{n_samples} samples per epoch were expected."
        )
    import pandas as pd

    try:
        if engine == "pyarrow":
            pa, pa_csv = _pyarrow()
            table = pa_csv.read_csv(
                path,
                read_options=pa_csv.ReadOptions(block_size=_BLOCK_SIZE),
                convert_options=pa_csv.ConvertOptions(
                    column_types={c: pa.float64() for c in sample_columns}
                ),
            )
            ids = table.column("Id").to_numpy(zero_copy_only=False)
            values = np.empty((table.num_rows, n_samples), dtype=np.float32)
            names = table.column_names
            for j, position in enumerate(i for i, c in enumerate(names) if c != "Id"):
                # nulls (empty fields) become NaN and are reported below
                values[:, j] = table.column(position).to_numpy(zero_copy_only=False)
        else:
            # parsing to float64 then casting is faster than dtype=float32 in the C parser
            frame = pd.read_csv(path, engine="c", low_memory=False)
            samples = frame.loc[:, frame.columns != "Id"]
            wrong = [c for c, dt in samples.dtypes.items() if dt.kind not in "fi"]
            if wrong:
                raise ValueError(f"column {wrong[0]!r} holds non-numeric values")
            ids = frame["Id"].to_numpy()
            values = samples.to_numpy(dtype=np.float32)
            del frame, samples
    except (ValueError, TypeError, KeyError, OSError) as exc:  # includes pandas/pyarrow errors
        raise ValueError(f"Could not parse {path}: {exc}") from exc
    if values.shape[0] == 0:
        raise ValueError(f"{path} has a header but no rows.")
    return ids, values


def _read_labels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise ValueError(f"Could not parse {path}: {exc}") from exc
    missing = [c for c in ("Id", "y") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path} lacks column(s) {missing}; expected 'Id,y', got {list(frame.columns)}."
        )
    raw = frame["y"].to_numpy()
    if raw.dtype.kind == "f":
        if np.isnan(raw).any():
            first = int(np.flatnonzero(np.isnan(raw))[0])
            raise ValueError(f"{path} has missing labels; the first is at row {first}.")
        if np.all(raw == np.round(raw)):
            raw = raw.astype(np.int64)
    labels = map_labels(raw, TASK4_CODES, what=f"labels in {path.name}")
    return frame["Id"].to_numpy(), labels


def _shown(values, limit: int = 5) -> str:
    values = [plain(v) for v in values]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return f"{values[:limit]}{more}"


def _id_keys(ids: np.ndarray, path: Path) -> tuple[np.ndarray, bool]:
    """The Ids of one file as keys: integers when every Id is one (numeric text too), else text.

    Raises ``ValueError`` naming duplicate Ids.
    """
    import pandas as pd

    series = pd.Series(ids)
    numeric = pd.to_numeric(series, errors="coerce")
    is_numeric = bool(numeric.notna().all()) and bool(
        (numeric == np.round(numeric)).all()
    )
    keys = numeric.to_numpy(dtype=np.int64) if is_numeric else series.astype(str).to_numpy()
    duplicated = pd.Series(keys).duplicated()
    if duplicated.any():
        repeated = pd.unique(keys[duplicated.to_numpy()])
        raise ValueError(
            f"{path.name} holds duplicate Id(s) {_shown(repeated)}: each epoch must appear "
            "once."
        )
    return keys, is_numeric


def _reference_order(keys: np.ndarray, is_numeric: bool, path: Path) -> np.ndarray:
    """The epoch order: integer Ids sorted numerically (no gap allowed), else file order."""
    if not is_numeric:
        return keys
    ordered = np.sort(keys)
    gaps = np.flatnonzero(np.diff(ordered) != 1)
    if gaps.size:
        missing = [v for g in gaps[:5] for v in range(ordered[g] + 1, ordered[g + 1])][:5]
        raise ValueError(
            f"The Ids of {path.name} skip {_shown(missing)}: the Ids must be consecutive "
            "integers (missing epochs would shift every later epoch of its recording, since "
            "recordings are consecutive blocks of recording_length epochs)."
        )
    return ordered


def _rows_in_order(
    order: np.ndarray, ref_name: str, keys: np.ndarray, name: str
) -> np.ndarray | None:
    """Row of ``keys`` holding each Id of ``order``; None when they are already in order.

    Raises ``ValueError`` when the file does not hold exactly the Ids of the reference.
    """
    import pandas as pd

    if len(keys) != len(order):
        raise ValueError(
            f"{name} has {len(keys)} rows but {ref_name} has {len(order)}: the files of "
            "one subset must hold the same epochs."
        )
    if keys.dtype == order.dtype and np.array_equal(keys, order):
        return None
    index = pd.Index(keys)
    rows = index.get_indexer(order) if keys.dtype == order.dtype else np.full(len(order), -1)
    if (rows < 0).any():
        reference = pd.Index(order)
        lacking = reference.difference(index, sort=False) if keys.dtype == order.dtype else order
        extra = index.difference(reference, sort=False) if keys.dtype == order.dtype else keys
        raise ValueError(
            f"The Ids of {name} disagree with those of {ref_name}: {name} lacks Id(s) "
            f"{_shown(lacking)} and holds Id(s) {_shown(extra)} that {ref_name} lacks."
        )
    return rows


def _recording_groups(
    n_epochs: int, recording_length: int | None, epoch_length: float
) -> np.ndarray:
    if recording_length is None:
        return np.zeros(n_epochs, dtype=np.int64)
    hint = (
        "If the rows hold recordings (animals) of another length, give it with "
        "recording_length= (--recording-length on the command line); recording_length=None "
        "(--recording-length 0) makes all rows one recording without this warning."
    )
    if n_epochs < recording_length:
        logger.warning(
            "All %d epochs (%.3g h) form one recording, shorter than recording_length = %d "
            "epochs (%.3g h). %s",
            n_epochs, n_epochs * epoch_length / 3600, recording_length,
            recording_length * epoch_length / 3600, hint,
        )
    elif n_epochs % recording_length:
        logger.warning(
            "%d epochs do not divide into recordings of %d epochs: the last recording (id %d) "
            "holds only %d epochs. %s",
            n_epochs, recording_length, n_epochs // recording_length,
            n_epochs % recording_length, hint,
        )
    return np.arange(n_epochs, dtype=np.int64) // recording_length


def _resolve_engine(engine: str) -> str:
    check_option("engine", engine, _ENGINES)
    if engine == "auto":  # measured: the C parser needs less CPU than pyarrow on this data
        return "c"
    if engine == "pyarrow" and _pyarrow()[1] is None:
        raise ValueError("engine='pyarrow' needs the optional pyarrow package; use engine='c'.")
    return engine


def load_task4_csv(
    directory: str | os.PathLike,
    *,
    subset: str = "train",
    recording_length: int | None = 21600,
    sfreq: float = 128.0,
    epoch_length: float = 4.0,
    ch_names: Sequence[str] = ("eeg1", "eeg2", "emg"),
    ch_types: Sequence[str] = ("eeg", "eeg", "emg"),
    engine: str = "auto",
) -> EpochData:
    """Load the reference rodent CSV format.

    Parameters
    ----------
    directory : path-like
        Folder holding ``<subset>_<channel>.csv`` for every channel in ``ch_names`` and, for
        ``subset="train"``, ``train_labels.csv``. Rows are matched across files by ``Id``
        and put in Id order: integer Ids (also written as text) sort numerically and must
        be consecutive; other Ids keep the order of the first channel file.
    subset : {"train", "test"}
        Which files to read. The test files carry no labels (``y`` is None).
    recording_length : int or None
        Epochs per recording (animal). Rows are split into consecutive blocks of this many
        epochs with recording ids 0, 1, 2, ...; the default 21 600 is 24 h of 4-s epochs.
        When the rows do not divide evenly, the final partial block becomes a recording of
        its own and a warning is logged. None means all rows are one recording.
    sfreq : float
        Sampling frequency in Hz.
    epoch_length : float
        Epoch length in seconds; each file must hold ``sfreq * epoch_length`` sample
        columns after ``Id``.
    ch_names, ch_types : sequence of str
        Channel names (they name the files) and their types (``"eeg"``, ``"emg"``, ``"eog"``).
    engine : {"auto", "c", "pyarrow"}
        CSV parser. ``"auto"`` and ``"c"`` use pandas' C parser (single-threaded, about
        4 CPU-seconds per 64 800 x 512-value file, the least CPU of the two);
        ``"pyarrow"`` uses pyarrow's multi-threaded reader (optional dependency), which
        may finish sooner on an idle machine with many cores.

    Returns
    -------
    EpochData
        ``X`` float32 ``(n_epochs, n_channels, n_samples)`` in the files' units, ``y`` stage
        names (or None), ``groups`` integer recording ids, ``onsets`` in seconds from the
        start of each recording.

    Raises
    ------
    ValueError
        Naming the file: a missing file, a wrong number of sample columns, files whose row
        counts or ``Id`` sets disagree (naming the Ids), duplicate Ids, gaps in integer
        Ids, NaN or non-numeric samples, unknown labels.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sleepstage.data import EpochData, load_task4_csv, write_task4_csv
    >>> X = np.random.default_rng(0).standard_normal((6, 3, 512)).astype(np.float32)
    >>> y = np.array(["WAKE", "NREM", "NREM", "REM", "WAKE", "NREM"])
    >>> data = EpochData(X, y, np.zeros(6), 128.0, ("eeg1", "eeg2", "emg"),
    ...                  ("eeg", "eeg", "emg"), 4.0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_task4_csv(data, folder)
    ...     loaded = load_task4_csv(folder, recording_length=3)
    >>> loaded.groups.tolist(), bool(np.array_equal(loaded.X, X))
    ([0, 0, 0, 1, 1, 1], True)
    """
    directory = Path(directory)
    check_option("subset", subset, ("train", "test"))
    engine = _resolve_engine(engine)
    sfreq = check_positive("sfreq", sfreq)
    epoch_length = check_positive("epoch_length", epoch_length)
    n_samples = round(sfreq * epoch_length)
    if abs(n_samples - sfreq * epoch_length) > 1e-6:
        raise ValueError(
            f"sfreq x epoch_length = {sfreq} x {epoch_length} = {sfreq * epoch_length:g} is "
            "not a whole number of samples."
        )
    if recording_length is not None:
        if isinstance(recording_length, bool) or not isinstance(
            recording_length, int | np.integer
        ):
            raise TypeError(
                f"recording_length must be an int or None, got {recording_length!r}."
            )
        if recording_length < 1:
            raise ValueError(f"recording_length must be >= 1, got {recording_length}.")
        recording_length = int(recording_length)
    ch_names = tuple(str(c) for c in ch_names)
    ch_types = tuple(str(t) for t in ch_types)
    if len(ch_names) != len(ch_types) or not ch_names:
        raise ValueError(
            f"ch_names ({len(ch_names)}) and ch_types ({len(ch_types)}) must be non-empty "
            "and of the same length."
        )
    if len(set(ch_names)) != len(ch_names):
        raise ValueError(f"ch_names must be unique, got {list(ch_names)}.")
    for ch_type in ch_types:
        check_option("ch_types", ch_type, CH_TYPES)

    signal_files = _subset_files(directory, subset, ch_names)
    label_file = directory / "train_labels.csv" if subset == "train" else None
    for path in [*signal_files, *([label_file] if label_file else [])]:
        if not path.is_file():
            raise ValueError(f"Missing file {path}: the {subset!r} subset needs it.")

    order: np.ndarray | None = None  # the Ids in epoch order
    X: np.ndarray | None = None
    reordered = False
    for index, path in enumerate(signal_files):
        ids, values = _read_signal_csv(path, n_samples, engine)
        keys, is_numeric = _id_keys(ids, path)
        if order is None:
            order = _reference_order(keys, is_numeric, path)
            X = np.empty((values.shape[0], len(ch_names), n_samples), dtype=np.float32)
        rows = _rows_in_order(order, signal_files[0].name, keys, path.name)
        check_finite(values, what=str(path))
        X[:, index, :] = values if rows is None else values[rows]
        reordered |= rows is not None
        del values
    y = None
    if label_file is not None:
        label_ids, y = _read_labels(label_file)
        keys, _ = _id_keys(label_ids, label_file)
        rows = _rows_in_order(order, signal_files[0].name, keys, label_file.name)
        y = y if rows is None else y[rows]
        reordered |= rows is not None
    if reordered:
        logger.info("Rows of %s put in Id order.", directory)

    n_epochs = X.shape[0]
    groups = _recording_groups(n_epochs, recording_length, epoch_length)
    position = np.arange(n_epochs) if recording_length is None else (
        np.arange(n_epochs) % recording_length
    )
    logger.info("Loaded %d epochs x %d channels from %s.", n_epochs, len(ch_names), directory)
    return EpochData(
        X=X,
        y=y,
        groups=groups,
        sfreq=sfreq,
        ch_names=ch_names,
        ch_types=ch_types,
        epoch_length=epoch_length,
        onsets=position * epoch_length,
        info={
            "source": "task4_csv",
            "directory": str(directory),
            "subset": subset,
            "files": [p.name for p in signal_files] + ([label_file.name] if label_file else []),
            "recording_length": recording_length,
        },
    )


def write_task4_csv(
    data: EpochData, directory: str | os.PathLike, subset: str = "train"
) -> list[Path]:
    """Write ``data`` in the reference rodent CSV format (the inverse of `load_task4_csv`).

    Parameters
    ----------
    data : EpochData
        Epochs to write; one ``<subset>_<channel>.csv`` per channel name, with ``Id``
        0, 1, ... and sample columns ``x0 ... x{n_samples-1}``. For ``subset="train"``,
        ``y`` must hold ``"WAKE"``, ``"NREM"`` or ``"REM"`` and is written to
        ``train_labels.csv`` as 1, 2, 3.
    directory : path-like
        Output folder, created if needed; existing files are overwritten.
    subset : {"train", "test"}
        File prefix. Test files are written without labels.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Notes
    -----
    Samples are written with enough digits (shortest round-trip form with pyarrow, else 9
    significant digits) that `load_task4_csv` reads back the identical float32 values. The
    recording structure (``groups``) is not stored: pass ``recording_length`` when loading.
    """
    if not isinstance(data, EpochData):
        raise TypeError(f"data must be an EpochData, got {type(data).__name__}.")
    check_option("subset", subset, ("train", "test"))
    directory = Path(directory)
    codes = None
    if subset == "train":
        if data.y is None:
            raise ValueError("The 'train' subset needs labels, but data.y is None.")
        codes = map_labels(data.y, _STAGE_TO_CODE, what="stages for train_labels.csv")
    import pandas as pd

    pa, pa_csv = _pyarrow()
    directory.mkdir(parents=True, exist_ok=True)
    ids = np.arange(data.n_epochs, dtype=np.int64)
    header = ",".join(["Id", *(f"x{i}" for i in range(data.n_samples))]) + "\n"
    written = []
    for index, path in enumerate(_subset_files(directory, subset, data.ch_names)):
        columns = np.ascontiguousarray(data.X[:, index, :].T)  # one row per sample column
        if pa_csv is not None:
            table = pa.table([pa.array(ids), *(pa.array(col) for col in columns)],
                             names=header.rstrip("\n").split(","))
            with open(path, "wb") as handle:
                handle.write(header.encode("utf-8"))
                pa_csv.write_csv(table, handle, pa_csv.WriteOptions(include_header=False))
        else:  # without the optional pyarrow package
            frame = pd.DataFrame(columns.T, columns=header.rstrip("\n").split(",")[1:])
            frame.insert(0, "Id", ids)
            frame.to_csv(path, index=False, float_format="%.9g")
        written.append(path)
    if codes is not None:
        path = directory / "train_labels.csv"
        pd.DataFrame({"Id": ids, "y": codes.astype(np.int64)}).to_csv(path, index=False)
        written.append(path)
    logger.info("Wrote %d epochs to %s.", data.n_epochs, directory)
    return written
