"""Models: the HMM sequence smoother and the neural baselines.

The neural classifiers need the ``neural`` extra (PyTorch, skorch). They are imported lazily
so that ``import sleepstage.models`` works without it; constructing one without PyTorch
raises an ``ImportError`` naming the extra.
"""

from ._hmm import HMMSmoother

__all__ = ["ConvNetClassifier", "HMMSmoother", "LSTMClassifier"]

_NEURAL = {"LSTMClassifier": "._lstm", "ConvNetClassifier": "._cnn"}


def __getattr__(name: str):
    if name in _NEURAL:
        from importlib import import_module

        return getattr(import_module(_NEURAL[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
