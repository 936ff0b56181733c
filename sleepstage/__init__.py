"""sleepstage: automatic sleep staging of EEG/EMG recordings.

Feature pipelines (band powers, EMG amplitude, Hjorth parameters, time statistics) ending in
gradient boosting, neural baselines wrapped as scikit-learn estimators, and recording-wise
evaluation. ``import sleepstage`` never imports PyTorch; ``sleepstage.plot`` and
``sleepstage.inspect`` are imported on first use.

Examples
--------
>>> import sleepstage
>>> data = sleepstage.make_synthetic(n_recordings=2, hours=0.5)
>>> data.X.shape
(900, 3, 512)
"""

from importlib import import_module

from ._version import __version__
from .data import EpochData, load_sleep_edf, load_task4_csv, make_synthetic, read_edf
from .io import load_model, save_model
from .pipelines import cross_validate_recordings, make_pipeline, make_staging_pipeline

__all__ = [
    "EpochData",
    "__version__",
    "cross_validate_recordings",
    "inspect",
    "load_model",
    "load_sleep_edf",
    "load_task4_csv",
    "make_pipeline",
    "make_staging_pipeline",
    "make_synthetic",
    "plot",
    "read_edf",
    "save_model",
]

_LAZY_SUBMODULES = ("plot", "inspect", "parallel")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
