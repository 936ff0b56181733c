"""sleepstage: automatic sleep staging of EEG/EMG recordings.

Feature pipelines (band powers, EMG amplitude, Hjorth parameters, time statistics) ending in
gradient boosting, neural baselines wrapped as scikit-learn estimators, and recording-wise
evaluation.

``import sleepstage`` is light: the names below and the subpackages (``sleepstage.data``,
``sleepstage.pipelines``, ``sleepstage.report``, ...) are imported on first use (PEP 562),
so that the command line starts without SciPy, scikit-learn or pandas. ``import sleepstage``
never imports PyTorch.

Examples
--------
>>> import sleepstage
>>> data = sleepstage.make_synthetic(n_recordings=2, hours=0.5)
>>> data.X.shape
(900, 3, 512)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:  # what the lazy names resolve to, for type checkers and IDEs
    from .data import EpochData, load_sleep_edf, load_task4_csv, make_synthetic, read_edf
    from .io import load_model, save_model
    from .pipelines import cross_validate_recordings, make_pipeline, make_staging_pipeline

__all__ = [
    "EpochData",
    "__version__",
    "cross_validate_recordings",
    "inspection",
    "load_model",
    "load_sleep_edf",
    "load_task4_csv",
    "make_pipeline",
    "make_staging_pipeline",
    "make_synthetic",
    "read_edf",
    "report",
    "save_model",
]

#: Public name -> the subpackage that defines it (imported on first access).
_LAZY_NAMES = {
    "EpochData": "data",
    "load_sleep_edf": "data",
    "load_task4_csv": "data",
    "make_synthetic": "data",
    "read_edf": "data",
    "load_model": "io",
    "save_model": "io",
    "cross_validate_recordings": "pipelines",
    "make_pipeline": "pipelines",
    "make_staging_pipeline": "pipelines",
}

#: Submodules reachable as attributes of ``sleepstage`` without importing them first.
#: ``plot``, ``inspect`` and ``artefacts`` are deprecated aliases that warn when imported
#: (and stay out of ``__all__``, so that ``from sleepstage import *`` does not warn).
_LAZY_SUBMODULES = (
    "artefacts",
    "data",
    "features",
    "inspect",
    "inspection",
    "io",
    "metrics",
    "models",
    "parallel",
    "pipelines",
    "plot",
    "report",
)


def __getattr__(name: str):
    """Import a re-exported name or a submodule on first access (PEP 562)."""
    if name in _LAZY_SUBMODULES:  # the import binds it as an attribute of the package
        return import_module(f".{name}", __name__)
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY_NAMES) | set(_LAZY_SUBMODULES))
