"""Model files: a zip container whose metadata is checked before the pipeline is loaded.

A model file holds ``metadata.json`` (format name and version, how the pipeline is stored,
its SHA-256 and size, and the model metadata: versions, channel layout, classes, feature
names, a summary of the training data) and ``payload`` (the fitted pipeline, stored with
:mod:`skops.io` where it can be, else as a pickle; see :func:`save_model`).
Public names are re-exported by :mod:`sleepstage.io`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import json
import logging
import os
import sys
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._internal.anatomy import feature_names_out, fitted_layout, input_shape, split_pipeline
from .._version import __version__
from ._atomic import atomic_write, check_writable
from ._tables import jsonable as _jsonable

__all__ = [
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "TRUST_NOTICE",
    "ModelFile",
    "describe_training_data",
    "load_model",
    "read_model_header",
    "save_model",
]

logger = logging.getLogger("sleepstage.io")

#: Value of the ``"format"`` key of every model file.
MODEL_FORMAT = "sleepstage-model"
#: Layout version of the model-file container; bumped on incompatible changes (1: a plain
#: joblib pickle, refused since 2: a zip archive with metadata.json and the payload).
MODEL_FORMAT_VERSION = 2
#: What loading a model file trusts, in one sentence (for documentation; the command line's
#: ``--trust-pickle`` help says the same without importing this module, to keep it light).
TRUST_NOTICE = ("Model files of the neural models store a pickle, which runs code when "
                "loaded: load those (--trust-pickle) only from sources you trust.")

_DEPENDENCIES = ("numpy", "scipy", "sklearn", "lightgbm", "mne", "pandas", "joblib", "skops")
_OPTIONAL_DEPENDENCIES = ("torch", "skorch")


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
    serializer : {"skops", "pickle"} or None
        How the pipeline was stored in the file (see :func:`save_model`).
    """

    pipeline: Any
    metadata: dict = field(default_factory=dict)
    path: Path | None = None
    serializer: str | None = None

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

    @property
    def input_features(self) -> list[str] | None:
        """The feature columns a model fitted on feature tables reads, in order.

        None for a model that reads raw epochs (``metadata["input"]`` is ``"features"``
        only for models fitted on a :class:`~sleepstage.data.FeatureTable`).
        """
        if self.metadata.get("input") != "features":
            return None
        return list(self.metadata.get("input_features") or [])


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


def _feature_names(pipeline, input_features=None) -> list[str] | None:
    """Names of the features the classifier sees (from ``input_features`` when given)."""
    try:
        return feature_names_out(pipeline, input_features)
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


def _check_complete(pipeline) -> None:
    """Refuse a pipeline that is unfitted or does not end in a fitted classifier."""
    from sklearn.utils.validation import check_is_fitted

    final = split_pipeline(pipeline)[1]
    if final in (None, "passthrough"):
        raise ValueError(
            "Cannot save the pipeline as a model: its final step (the classifier) is "
            f"{final!r}. A model file holds a pipeline that ends in a classifier."
        )
    if not hasattr(pipeline, "predict_proba"):
        raise ValueError(
            f"Cannot save {type(final).__name__} as a model: it has no predict_proba, so it "
            "is not a stage classifier."
        )
    check_is_fitted(pipeline)
    if getattr(pipeline, "classes_", None) is None:
        raise ValueError("Cannot save the pipeline as a model: it has no fitted classes_.")


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=1e-9))
    return _jsonable(a) == _jsonable(b)


#: Metadata keys that describe the fitted pipeline; user values must agree with it.
_DERIVED_KEYS = ("sfreq", "ch_names", "ch_types", "epoch_length", "classes", "feature_names")
_WHAT = {"sfreq": "sampling rate (Hz)", "ch_names": "channel names (in order)",
         "ch_types": "channel types", "epoch_length": "epoch length (s)",
         "classes": "classes", "feature_names": "feature names"}


def _model_metadata(pipeline, data, metadata: Mapping[str, Any] | None) -> dict:
    """The metadata of a fitted pipeline, checked against the data and user overrides."""
    meta: dict[str, Any] = {
        "sleepstage_version": __version__,
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "sfreq": None,
        "ch_names": None,
        "ch_types": None,
        "epoch_length": None,
    }
    derived = fitted_layout(pipeline)
    meta.update(derived)
    meta["classes"] = _jsonable(np.asarray(pipeline.classes_))
    # features from a table: no sampling rate or channels; the columns are the input
    table = data is not None and not data.has_signal
    names = [str(n) for n in data.feature_names] if table else None
    meta["feature_names"] = _feature_names(pipeline, names)
    meta["training_data"] = (describe_training_data() if data is None
                             else describe_training_data(data.y, data.groups))
    differences = []
    if table:
        if derived:
            differences.append("input: a feature table in data, raw epochs of "
                               f"{derived.get('ch_names')} in the fitted pipeline")
        meta.update(epoch_length=float(data.epoch_length), input="features",
                    input_features=names)
    elif data is not None:
        given = {"sfreq": float(data.sfreq), "ch_names": [str(c) for c in data.ch_names],
                 "ch_types": [str(t) for t in data.ch_types],
                 "epoch_length": float(data.epoch_length)}
        for key, value in given.items():
            if derived.get(key) is not None and not _same(derived[key], value):
                differences.append(f"{_WHAT[key]}: {value!r} in data, {derived[key]!r} in "
                                   "the fitted pipeline")
            elif derived.get(key) is None:
                meta[key] = value  # e.g. neural models, which store no channel names
        shape = input_shape(pipeline)
        n_samples = round(given["sfreq"] * given["epoch_length"])
        if not derived and shape is not None and shape != (len(given["ch_names"]), n_samples):
            differences.append(
                f"shape of an epoch: {len(given['ch_names'])} channels x {n_samples} samples "
                f"in data, {shape[0]} x {shape[1]} in the fitted pipeline")
    for key, value in dict(metadata or {}).items():
        if key in _DERIVED_KEYS and meta.get(key) is not None and not _same(meta[key], value):
            differences.append(f"{_WHAT[key]}: {value!r} in metadata, {meta[key]!r} in the "
                               "fitted pipeline")
    if differences:
        raise ValueError(
            "The model metadata must describe the fitted pipeline, but the given "
            + ("data and metadata" if data is not None and metadata else
               "data" if data is not None else "metadata")
            + " disagree with it: " + "; ".join(differences) + "."
        )
    meta["params"] = _pipeline_params(pipeline)
    if metadata:
        meta.update(_jsonable(dict(metadata)))
    return meta


# -- the container ------------------------------------------------------------------------------
_METADATA_ENTRY = "metadata.json"
_PAYLOAD_ENTRY = "payload"
_MAX_METADATA_BYTES = 16 * 2**20
#: Types outside scikit-learn and numpy that a skops payload may hold (besides sleepstage's
#: own estimators); skops rebuilds them from their state without running code from the file.
_TRUSTED_FOREIGN_TYPES = frozenset({
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
})
#: sleepstage modules whose classes a skops payload may hold (not the neural models: skorch
#: stores its torch modules as a pickle inside its state, see :func:`save_model`).
#: Artefact detection lives in ``sleepstage.features``: the alias ``sleepstage.artefacts``
#: defines no class (:func:`_trusted_type` wants the class's own module), so it is not listed.
_TRUSTED_MODULES = ("sleepstage.features.", "sleepstage.models._hmm", "sleepstage.pipelines.")


def _skops_io():
    """``skops.io``, imported without letting it pull in PyTorch.

    Importing ``skops.io`` lists scikit-learn's estimators with ``all_estimators()``, which
    walks every scikit-learn package, including ``sklearn.externals.array_api_compat.torch``:
    where PyTorch is installed, that imports it (about 4 s and several hundred MB, measured
    with scikit-learn 1.9.1 and torch 2.13), though no model file needs it. The walk skips
    packages that fail to import, so that one is blocked for the duration of the import and
    released afterwards.
    """
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    blocked = "sklearn.externals.array_api_compat.torch"
    block = blocked not in sys.modules
    if block:
        sys.modules[blocked] = None  # type: ignore[assignment]
    try:
        import skops.io
    finally:
        if block and sys.modules.get(blocked, ...) is None:
            del sys.modules[blocked]
    return skops.io


def _trusted_type(name: str) -> bool:
    """Is ``name`` (``module.Class``) a type a skops payload may hold?

    Only classes of modules already imported are considered, so a name in a file never
    triggers an import.
    """
    if name in _TRUSTED_FOREIGN_TYPES:
        return True
    if not name.startswith(_TRUSTED_MODULES):
        return False
    import sleepstage.pipelines  # noqa: F401 - imports every trusted module

    module_name, _, attr = name.rpartition(".")
    module = sys.modules.get(module_name)
    obj = getattr(module, attr, None) if module is not None else None
    if not isinstance(obj, type) or obj.__module__ != module_name:
        return False
    from sklearn.base import BaseEstimator

    return issubclass(obj, BaseEstimator) or hasattr(obj, "__dataclass_fields__")


def _serialize(pipeline) -> tuple[str, bytes, list[str]]:
    """(serializer, payload bytes, non-default types) for ``pipeline``: skops when it can."""
    import joblib
    sio = _skops_io()

    try:
        payload = sio.dumps(pipeline, compression=zipfile.ZIP_DEFLATED)
        types = sorted(sio.get_untrusted_types(data=payload))
    except Exception as exc:  # skops cannot hold every object
        logger.debug("skops cannot store the pipeline (%s); using a pickle", exc)
    else:
        untrusted = [t for t in types if not _trusted_type(t)]
        if not untrusted:
            return "skops", payload, types
        logger.debug("skops payload would hold unvetted types %s; using a pickle", untrusted)
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return "pickle", buffer.getvalue(), []


def save_model(
    pipeline,
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, Any] | None = None,
    data=None,
    force: bool = False,
) -> Path:
    """Save a fitted pipeline with metadata to a model file, atomically.

    A model file is a zip archive with two entries: ``metadata.json`` (the format name
    ``"sleepstage-model"``, the format version, how and where the pipeline is stored, the
    SHA-256 and size of the stored pipeline, and the model metadata below) and ``payload``
    (the pipeline). :func:`load_model` reads and checks ``metadata.json`` before it touches
    the payload.

    The pipeline is stored with :mod:`skops.io`, which rebuilds scikit-learn objects from
    their state without running code from the file, whenever every object in it is of a type
    skops or sleepstage vouches for: the LightGBM, HistGradientBoosting and logistic
    regression pipelines. Everything else is stored as a joblib pickle (``"serializer":
    "pickle"`` in ``metadata.json``): the neural models, because skorch keeps their torch
    modules and optimiser as a pickle inside its own state (``NeuralNet.__getstate__``),
    which it unpickles when the net is restored, so skops could not keep that code from
    running; and pipelines with estimators from other packages. Loading a pickle runs code
    from the file, so :func:`load_model` needs ``trust_pickle=True`` for those.

    The metadata records the package and dependency versions, the sampling rate, channel
    names and types, epoch length, classes and feature names as the fitted pipeline knows
    them, a summary of the training data, the pipeline's parameters and a UTC timestamp.

    Parameters
    ----------
    pipeline : estimator
        Fitted scikit-learn pipeline or estimator ending in a classifier.
    path : path-like
        Destination; any suffix (the command line uses ``*.joblib``).
    metadata : mapping, optional
        Extra metadata (JSON-compatible values). Keys describing the pipeline (``sfreq``,
        ``ch_names``, ``ch_types``, ``epoch_length``, ``classes``, ``feature_names``) must
        agree with it.
    data : EpochData, optional
        The training data; fills the training-data summary (and the layout of pipelines that
        do not record one, such as the neural models). Its layout must be the pipeline's.
        A :class:`~sleepstage.data.FeatureTable` records ``"input": "features"``, its
        feature columns as ``input_features`` (see :attr:`ModelFile.input_features`), its
        epoch length, and ``feature_names`` under the table's column names.
    force : bool
        Overwrite an existing file.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the pipeline is not fitted.
    ValueError
        If it does not end in a classifier, or ``data`` or ``metadata`` disagree with it
        (another channel order, sampling rate or epoch length), naming each difference.

    See Also
    --------
    load_model
    """
    _check_complete(pipeline)
    meta = _model_metadata(pipeline, data, metadata)
    check_writable([path], force=force)
    serializer, payload, types = _serialize(pipeline)
    header = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "payload": {"entry": _PAYLOAD_ENTRY, "serializer": serializer,
                    "sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload),
                    "types": types},
        "metadata": meta,
    }
    with atomic_write(path, force=force) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr(_METADATA_ENTRY, json.dumps(_jsonable(header), indent=2),
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(_PAYLOAD_ENTRY, payload, compress_type=zipfile.ZIP_STORED)
    logger.debug("Saved model to %s (%s payload)", path, serializer)
    return Path(path)


def _major_minor(version: str) -> tuple[int, int]:
    parts = [*str(version).split("."), "0", "0"][:2]
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except ValueError:
        return (-1, -1)


def _refuse(path: Path, reason: str) -> ValueError:
    return ValueError(f"{path} is not a sleepstage model file: {reason}. Nothing in it was "
                      "loaded.")


def read_model_header(path: str | os.PathLike) -> dict:
    """Read and check the ``metadata.json`` of a model file without loading the pipeline.

    Nothing from the payload is read beyond its bytes, so this is safe on any file.

    Parameters
    ----------
    path : path-like
        A model file written by :func:`save_model`.

    Returns
    -------
    dict
        ``format``, ``format_version``, ``payload`` (``serializer``, ``sha256``, ``size``,
        ``types``) and ``metadata``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a model container, its header is malformed, its format version is
        not this one, or it was written by another major version of sleepstage.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    if not zipfile.is_zipfile(path):
        raise _refuse(path, "it is not a model container (a zip archive holding metadata.json "
                            "and the pipeline). Model files of sleepstage before format "
                            f"version {MODEL_FORMAT_VERSION} were plain pickles and must be "
                            "refitted")
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(_METADATA_ENTRY)
            if info.file_size > _MAX_METADATA_BYTES:
                raise _refuse(path, f"its {_METADATA_ENTRY} is implausibly large")
            header = json.loads(archive.read(info).decode("utf-8"))
    except KeyError:
        raise _refuse(path, f"the archive has no {_METADATA_ENTRY}") from None
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError, OSError) as exc:
        raise _refuse(path, f"its {_METADATA_ENTRY} cannot be read ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise _refuse(path, f"its {_METADATA_ENTRY} has no {MODEL_FORMAT!r} format marker")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version != \
            MODEL_FORMAT_VERSION:
        raise ValueError(
            f"{path} has model format version {version!r}, but this sleepstage "
            f"({__version__}) reads version {MODEL_FORMAT_VERSION}. Upgrade sleepstage or "
            "refit the model. Nothing in it was loaded."
        )
    payload = header.get("payload")
    metadata = header.get("metadata")
    if (not isinstance(payload, dict) or not isinstance(metadata, dict)
            or payload.get("serializer") not in ("skops", "pickle")
            or not isinstance(payload.get("sha256"), str)
            or not isinstance(payload.get("size"), int)
            or payload.get("entry") != _PAYLOAD_ENTRY
            or not isinstance(payload.get("types", []), list)):
        raise _refuse(path, f"its {_METADATA_ENTRY} lacks a valid 'payload' or 'metadata' "
                            "record")
    written = str(metadata.get("sleepstage_version", "0.0"))
    if _major_minor(written)[0] != _major_minor(__version__)[0]:
        raise ValueError(
            f"{path} was written by sleepstage {written}, which is incompatible with the "
            f"installed sleepstage {__version__} (different major version). Refit the model "
            "with this version. Nothing in it was loaded."
        )
    return header


def load_model(path: str | os.PathLike, *, trust_pickle: bool = False) -> ModelFile:
    """Load a model file written by :func:`save_model`, checking it before anything runs.

    In order: the file must be a zip archive whose ``metadata.json`` names the
    ``"sleepstage-model"`` format in this format version, written by this major version of
    sleepstage (:func:`read_model_header`); the stored pipeline must have the size and
    SHA-256 recorded there. Only then is the pipeline rebuilt:

    - a **skops** payload (LightGBM, HistGradientBoosting and logistic-regression pipelines)
      is loaded with :func:`skops.io.loads` after checking that every type in it is a
      scikit-learn or numpy type skops trusts, a sleepstage estimator, or one of LightGBM's
      ``Booster``/``LGBMClassifier`` and scikit-learn's ``TreePredictor``; anything else is
      refused by name. skops rebuilds objects from their state and runs no code from the file.
    - a **pickle** payload (neural models, estimators from other packages) is refused unless
      ``trust_pickle=True``, because loading a pickle runs code from the file.

    .. warning::
       Loading a model file with a pickle payload runs code from it: pass
       ``trust_pickle=True`` only for files you made or trust. The SHA-256 in the file
       detects damage, not tampering: whoever can write the file can write its hash too.

    Parameters
    ----------
    path : path-like
        A file written by :func:`save_model` (or ``sleepstage fit``).
    trust_pickle : bool
        Allow a pickle payload to be loaded (``--trust-pickle`` on the command line).

    Returns
    -------
    ModelFile
        ``.pipeline`` (the fitted estimator), ``.metadata`` (dict), ``.path`` and
        ``.serializer``. A scikit-learn ``Pipeline`` stored by an earlier version comes
        back as a :class:`~sleepstage.pipelines.StagingPipeline` of the same fitted steps
        (``groups`` reach every step, with or without metadata routing).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a sleepstage model file, its payload does not match its recorded
        hash, it holds types that are not trusted, it holds a pickle and ``trust_pickle`` is
        False, it has another format version, or was written by a different major version
        of sleepstage. Nothing is unpickled in any of these cases.

    Warns
    -----
    UserWarning
        If the file was written by a newer minor version of sleepstage or with other
        versions of scikit-learn / LightGBM than the installed ones.
    """
    path = Path(path)
    header = read_model_header(path)
    record, metadata = header["payload"], dict(header["metadata"])
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(_PAYLOAD_ENTRY)
            if info.file_size != record["size"]:
                raise _refuse(path, f"its payload has {info.file_size} bytes where "
                                    f"{_METADATA_ENTRY} records {record['size']}")
            payload = archive.read(info)
    except KeyError:
        raise _refuse(path, "the archive has no payload") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(path, f"its payload cannot be read ({exc})") from exc
    if hashlib.sha256(payload).hexdigest() != record["sha256"]:
        raise _refuse(path, "its payload does not match the SHA-256 recorded in "
                            f"{_METADATA_ENTRY} (damaged or altered)")
    serializer = record["serializer"]
    if serializer == "pickle":
        if not trust_pickle:
            raise ValueError(
                f"{path} stores its pipeline as a pickle (as sleepstage does for neural models "
                "and estimators from other packages), and loading a pickle runs code from the "
                "file. Load it only if you made it or trust its source: "
                "load_model(..., trust_pickle=True), or --trust-pickle on the command line. "
                "Nothing in it was loaded."
            )
        import joblib

        try:
            pipeline = joblib.load(io.BytesIO(payload))
        except Exception as exc:  # unpickling errors come in many types
            raise _refuse(path, f"its pickle payload cannot be read ({type(exc).__name__}: "
                                f"{exc})") from exc
    else:
        sio = _skops_io()

        try:
            types = sio.get_untrusted_types(data=payload)
        except Exception as exc:
            raise _refuse(path, f"its skops payload cannot be read ({type(exc).__name__}: "
                                f"{exc})") from exc
        untrusted = sorted(t for t in types if not _trusted_type(t))
        if untrusted:
            raise _refuse(path, "its payload holds types sleepstage does not trust: "
                                + ", ".join(untrusted))
        try:
            pipeline = sio.loads(payload, trusted=list(types))
        except Exception as exc:
            raise _refuse(path, f"its skops payload cannot be loaded ({type(exc).__name__}: "
                                f"{exc})") from exc
    _check_loaded(path, pipeline, metadata)
    pipeline = _routing_groups(pipeline)
    written = str(metadata.get("sleepstage_version", "0.0"))
    if _major_minor(written)[1] > _major_minor(__version__)[1]:
        warnings.warn(
            f"{path} was written by a newer sleepstage ({written} > {__version__}); it may "
            "not load or predict correctly.",
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
            "predictions may differ.",
            UserWarning,
            stacklevel=2,
        )
    logger.info("Loaded model from %s (sleepstage %s)", path, written)
    return ModelFile(pipeline=pipeline, metadata=metadata, path=path, serializer=serializer)


def _routing_groups(pipeline):
    """A scikit-learn ``Pipeline`` (as files written before ``StagingPipeline`` hold) as a
    :class:`~sleepstage.pipelines.StagingPipeline` of the same fitted steps, so that
    ``predict(X, groups=...)`` reaches every step without metadata routing; anything else
    as it is."""
    from sklearn.pipeline import Pipeline

    if type(pipeline) is not Pipeline:
        return pipeline
    from sleepstage.pipelines import StagingPipeline

    return StagingPipeline(**pipeline.get_params(deep=False))


def _check_loaded(path: Path, pipeline, metadata: dict) -> None:
    """The loaded pipeline must be a fitted classifier matching its metadata."""
    try:
        _check_complete(pipeline)
    except Exception as exc:
        raise _refuse(path, f"it holds no fitted stage classifier ({exc})") from exc
    derived = fitted_layout(pipeline)
    derived["classes"] = _jsonable(np.asarray(pipeline.classes_))
    differing = [f"{_WHAT[key]} {metadata.get(key)!r} recorded, {value!r} in the pipeline"
                 for key, value in derived.items()
                 if value is not None and not _same(value, metadata.get(key))]
    if differing:
        raise ValueError(f"{path} is inconsistent: its metadata disagree with its pipeline ("
                         + "; ".join(differing) + ").")
