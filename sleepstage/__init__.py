"""sleepstage: automatic sleep staging of EEG/EMG recordings.

Feature pipelines (band powers, EMG amplitude, Hjorth parameters, time statistics) ending in
gradient boosting, neural baselines wrapped as scikit-learn estimators, and recording-wise
evaluation. ``import sleepstage`` never imports PyTorch.
"""

from ._version import __version__

__all__ = ["__version__"]
