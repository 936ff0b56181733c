"""Files users can trust: atomic output writing and model files with metadata.

Every file the package writes (CSV, JSON, PNG, model files, EDF+ annotations) goes through
:func:`atomic_write`: the content is written to a temporary file in the destination folder and
renamed over the destination only once it is complete, so a crash never leaves a half-written
output, and an existing output is never overwritten unless ``force=True``.

Model files are joblib pickles of a dictionary holding the fitted pipeline and a metadata
record (versions, channel layout, classes, feature names, a summary of the training data).

.. warning::
   Model files are pickles: loading one can execute arbitrary code. Load model files only
   from sources you trust.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "TRUST_NOTICE",
    "ModelFile",
    "atomic_write",
    "check_writable",
    "describe_training_data",
    "load_model",
    "save_figure",
    "save_model",
    "write_edf_annotations",
    "write_json",
    "write_table",
    "write_text",
]

logger = logging.getLogger(__name__)

#: Value of the ``"format"`` key of every model file.
MODEL_FORMAT = "sleepstage-model"
#: Layout version of the model-file dictionary; bumped on incompatible changes.
MODEL_FORMAT_VERSION = 1
#: The sentence every model-file error and warning carries.
TRUST_NOTICE = "Model files are pickles: load them only from sources you trust."

_DEPENDENCIES = ("numpy", "scipy", "sklearn", "lightgbm", "mne", "pandas", "joblib")
_OPTIONAL_DEPENDENCIES = ("torch", "skorch")


# ----------------------------------------------------------------------------------------------
# Atomic writing
# ----------------------------------------------------------------------------------------------
def check_writable(paths: Iterable[str | os.PathLike], *, force: bool = False) -> None:
    """Raise ``FileExistsError`` if any of ``paths`` exists and ``force`` is False.

    Call it before a long computation that ends by writing several files, so that the user
    learns about an existing output before the work, not after.

    Parameters
    ----------
    paths : iterable of path-like
        Outputs about to be written.
    force : bool
        When True, existing outputs may be overwritten and nothing is checked.

    Raises
    ------
    FileExistsError
        Naming every output that already exists.
    """
    if force:
        return
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing:
        shown = ", ".join(existing)
        raise FileExistsError(
            f"Output file(s) already exist: {shown}. Use force=True (--force on the command "
            "line) to overwrite, or choose another output."
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path, then rename it to ``path``.

    The temporary file lives in the destination folder (so the final ``os.replace`` is an
    atomic rename on the same file system) and keeps the destination's suffix, so writers that
    infer the format from the extension (matplotlib, pandas, MNE) work unchanged. The
    temporary file exists (empty) when the block starts; writers must be allowed to overwrite
    it. If the block raises, the temporary file is removed and ``path`` is left untouched.
    Missing parent folders are created.

    Parameters
    ----------
    path : path-like
        Final destination.
    force : bool
        Overwrite ``path`` if it exists. When False (default) an existing ``path`` raises
        ``FileExistsError`` before anything is written.

    Yields
    ------
    pathlib.Path
        The temporary file to write to.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is False.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_write(out) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> out.read_text()
    'hello'
    """
    path = Path(path)
    check_writable([path], force=force)
    if path.is_dir():
        raise IsADirectoryError(f"Cannot write to {path}: it is a folder.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}"
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not force and path.exists():  # appeared while we were writing
            check_writable([path], force=False)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    logger.debug("Wrote %s", path)


def write_text(path: str | os.PathLike, text: str, *, force: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_write(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and tuples to plain JSON types (recursively)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        if isinstance(obj, float) and not np.isfinite(obj):
            return None
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return repr(obj)


def write_json(path: str | os.PathLike, obj: Any, *, force: bool = False) -> Path:
    """Write ``obj`` as indented JSON atomically (numpy values converted); returns the path."""
    text = json.dumps(_jsonable(obj), indent=2, sort_keys=False) + "\n"
    return write_text(path, text, force=force)


def write_table(
    table, path: str | os.PathLike, *, force: bool = False, index: bool = False
) -> Path:
    """Write a pandas DataFrame atomically as CSV, or as Parquet for ``.parquet``/``.pq``.

    Parameters
    ----------
    table : pandas.DataFrame
    path : path-like
        Destination; the suffix picks the format.
    force : bool
        Overwrite an existing file.
    index : bool
        Write the DataFrame index too.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    parquet = path.suffix.lower() in (".parquet", ".pq")
    with atomic_write(path, force=force) as tmp:
        if parquet:
            table.to_parquet(tmp, index=index)
        else:
            table.to_csv(tmp, index=index)
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


# ----------------------------------------------------------------------------------------------
# Model files
# ----------------------------------------------------------------------------------------------
@dataclass
class ModelFile:
    """A fitted pipeline loaded from a model file, with its metadata.

    Parameters
    ----------
    pipeline : estimator
        The fitted scikit-learn pipeline (or estimator).
    metadata : dict
        Everything :func:`save_model` recorded: ``sleepstage_version``, ``versions``,
        ``sfreq``, ``ch_names``, ``ch_types``, ``epoch_length``, ``classes``,
        ``feature_names``, ``training_data``, ``params``, ``created``, and any user keys.
    path : pathlib.Path or None
        Where it was loaded from.
    """

    pipeline: Any
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def sfreq(self) -> float | None:
        """Sampling frequency (Hz) the model expects, if recorded."""
        return self.metadata.get("sfreq")

    @property
    def ch_names(self) -> list[str] | None:
        """Channel names, in the order the model expects them, if recorded."""
        return self.metadata.get("ch_names")

    @property
    def ch_types(self) -> list[str] | None:
        """Channel types matching :attr:`ch_names`, if recorded."""
        return self.metadata.get("ch_types")

    @property
    def epoch_length(self) -> float | None:
        """Epoch duration in seconds, if recorded."""
        return self.metadata.get("epoch_length")

    @property
    def classes(self) -> list | None:
        """Stage labels in the column order of ``predict_proba``."""
        return self.metadata.get("classes")


def _versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "sleepstage": __version__}
    for name in _DEPENDENCIES:
        module = sys.modules.get(name)
        if module is None:
            with contextlib.suppress(ImportError):
                module = __import__(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "unknown"))
    for name in _OPTIONAL_DEPENDENCIES:  # recorded only if the model needed them (imported)
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "unknown"))
    return versions


def describe_training_data(y=None, groups=None) -> dict:
    """Summary of a training set for the model metadata.

    Parameters
    ----------
    y : array-like, shape (n_epochs,), optional
        Stage labels.
    groups : array-like, shape (n_epochs,), optional
        Recording id of each epoch.

    Returns
    -------
    dict
        ``n_epochs``, ``n_recordings`` (None without groups) and ``class_counts``.

    Examples
    --------
    >>> describe_training_data(["WAKE", "NREM", "NREM"], [0, 0, 1])
    {'n_epochs': 3, 'n_recordings': 2, 'class_counts': {'NREM': 2, 'WAKE': 1}}
    """
    summary: dict[str, Any] = {"n_epochs": None, "n_recordings": None, "class_counts": None}
    if y is not None:
        labels, counts = np.unique(np.asarray(y), return_counts=True)
        summary["n_epochs"] = int(counts.sum())
        summary["class_counts"] = {str(k): int(c) for k, c in zip(labels, counts, strict=True)}
    if groups is not None:
        groups = np.asarray(groups)
        summary["n_recordings"] = int(np.unique(groups).size)
        summary["n_epochs"] = int(groups.shape[0])
    return summary


def _steps(pipeline) -> list:
    steps = getattr(pipeline, "steps", None)
    if steps is None:
        return [pipeline]
    return [step for _, step in steps if step not in (None, "passthrough")]


def _layout_from_pipeline(pipeline) -> dict:
    """sfreq / channel layout / epoch length from the first fitted step that knows them."""
    for step in _steps(pipeline):
        inner = getattr(step, "estimator_", step)
        for candidate in (step, inner):
            ch_names = getattr(candidate, "ch_names_", None)
            sfreq = getattr(candidate, "sfreq_", None)
            if ch_names is None or sfreq is None:
                continue
            layout = {
                "sfreq": float(sfreq),
                "ch_names": [str(c) for c in ch_names],
                "ch_types": [str(t) for t in getattr(candidate, "ch_types_", ())] or None,
            }
            n_samples = getattr(candidate, "n_samples_", None)
            if n_samples is not None:
                layout["epoch_length"] = float(n_samples) / float(sfreq)
            return layout
    return {}


def _feature_names(pipeline) -> list[str] | None:
    steps = getattr(pipeline, "steps", None)
    if steps is None or len(steps) < 2:
        return None
    try:
        return [str(n) for n in pipeline[:-1].get_feature_names_out()]
    except Exception:  # not every transformer names its outputs
        return None


def _pipeline_params(pipeline) -> dict:
    try:
        params = pipeline.get_params(deep=True)
    except Exception:
        return {"repr": repr(pipeline)}
    simple = {
        k: v for k, v in params.items()
        if isinstance(v, (str, int, float, bool, type(None), tuple, list, dict))
    }
    return {"repr": repr(pipeline), "params": _jsonable(simple)}


def save_model(
    pipeline,
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, Any] | None = None,
    data=None,
    force: bool = False,
) -> Path:
    """Save a fitted pipeline with metadata to a joblib model file, atomically.

    The file holds ``{"format": "sleepstage-model", "format_version": 1, "pipeline": ...,
    "metadata": {...}}``. The metadata records the package and dependency versions, the
    sampling rate, channel names and types, epoch length, classes, feature names, a summary
    of the training data, the pipeline's parameters and a UTC timestamp. Layout values are
    taken from ``data``, else from the fitted feature extractor; keys in ``metadata``
    override the automatic ones.

    Parameters
    ----------
    pipeline : estimator
        Fitted scikit-learn pipeline or estimator.
    path : path-like
        Destination, conventionally ``*.joblib``.
    metadata : mapping, optional
        Extra or overriding metadata (JSON-compatible values).
    data : EpochData, optional
        The training data; fills the layout and the training-data summary.
    force : bool
        Overwrite an existing file.

    Returns
    -------
    pathlib.Path
        The written path.

    See Also
    --------
    load_model
    """
    import joblib

    meta: dict[str, Any] = {
        "sleepstage_version": __version__,
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "sfreq": None,
        "ch_names": None,
        "ch_types": None,
        "epoch_length": None,
    }
    meta.update(_layout_from_pipeline(pipeline))
    if data is not None:
        meta.update(
            sfreq=float(data.sfreq),
            ch_names=list(data.ch_names),
            ch_types=list(data.ch_types),
            epoch_length=float(data.epoch_length),
            training_data=describe_training_data(data.y, data.groups),
        )
    classes = getattr(pipeline, "classes_", None)
    meta["classes"] = None if classes is None else _jsonable(np.asarray(classes))
    meta["feature_names"] = _feature_names(pipeline)
    meta.setdefault("training_data", describe_training_data())
    meta["params"] = _pipeline_params(pipeline)
    if metadata:
        meta.update(_jsonable(dict(metadata)))
    payload = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "pipeline": pipeline,
        "metadata": meta,
    }
    with atomic_write(path, force=force) as tmp:
        joblib.dump(payload, tmp, compress=3)
    logger.info("Saved model to %s", path)
    return Path(path)


def _major_minor(version: str) -> tuple[int, int]:
    parts = [*str(version).split("."), "0", "0"][:2]
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except ValueError:
        return (-1, -1)


def load_model(path: str | os.PathLike) -> ModelFile:
    """Load a model file written by :func:`save_model` and check its format and version.

    .. warning::
       Model files are pickles: loading one can execute arbitrary code. Load model files only
       from sources you trust.

    Parameters
    ----------
    path : path-like
        A ``*.joblib`` file written by :func:`save_model` (or ``sleepstage fit``).

    Returns
    -------
    ModelFile
        ``.pipeline`` (the fitted estimator), ``.metadata`` (dict) and ``.path``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a sleepstage model file, has a newer ``format_version``, or was
        written by a different major version of sleepstage.

    Warns
    -----
    UserWarning
        If the file was written by a newer minor version of sleepstage or with other
        versions of scikit-learn / LightGBM than the installed ones.
    """
    import joblib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    try:
        payload = joblib.load(path)
    except Exception as exc:  # unpickling errors come in many types
        raise ValueError(
            f"{path} is not a readable sleepstage model file ({type(exc).__name__}: {exc}). "
            f"{TRUST_NOTICE}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(
            f"{path} is not a sleepstage model file (no {MODEL_FORMAT!r} format marker). "
            f"{TRUST_NOTICE}"
        )
    version = payload.get("format_version")
    if not isinstance(version, int) or version > MODEL_FORMAT_VERSION or version < 1:
        raise ValueError(
            f"{path} has model format version {version!r}, but this sleepstage "
            f"({__version__}) reads version {MODEL_FORMAT_VERSION}. Upgrade sleepstage or "
            f"refit the model. {TRUST_NOTICE}"
        )
    metadata = dict(payload.get("metadata") or {})
    written = str(metadata.get("sleepstage_version", "0.0"))
    (file_major, file_minor), (our_major, our_minor) = _major_minor(written), _major_minor(
        __version__
    )
    if file_major != our_major:
        raise ValueError(
            f"{path} was written by sleepstage {written}, which is incompatible with the "
            f"installed sleepstage {__version__} (different major version). Refit the model "
            f"with this version. {TRUST_NOTICE}"
        )
    if file_minor > our_minor:
        warnings.warn(
            f"{path} was written by a newer sleepstage ({written} > {__version__}); it may "
            f"not load or predict correctly. {TRUST_NOTICE}",
            UserWarning,
            stacklevel=2,
        )
    recorded = metadata.get("versions") or {}
    installed = _versions()
    differing = [
        f"{name} {recorded[name]} (installed {installed.get(name)})"
        for name in ("sklearn", "lightgbm")
        if name in recorded and name in installed and recorded[name] != installed[name]
    ]
    if differing:
        warnings.warn(
            f"{path} was written with other library versions: {', '.join(differing)}; "
            f"predictions may differ. {TRUST_NOTICE}",
            UserWarning,
            stacklevel=2,
        )
    logger.info("Loaded model from %s (sleepstage %s)", path, written)
    return ModelFile(pipeline=payload["pipeline"], metadata=metadata, path=path)
