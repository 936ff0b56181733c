"""Routing recording ids (``groups``) to the steps of an estimator that request them.

Shared by fitting and evaluation (:mod:`sleepstage.pipelines`) and by the scorer
(:class:`sleepstage.metrics.StagingScorer`), which sit in different subpackages.
scikit-learn is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

__all__ = ["consumes_groups", "predict_with_groups"]


def consumes_groups(estimator, method: str) -> bool:
    """Whether ``estimator.<method>`` (a step of it, for a pipeline) requests ``groups``."""
    from sklearn.utils.metadata_routing import get_routing_for_object

    try:
        return bool(get_routing_for_object(estimator).consumes(method, ["groups"]))
    except (AttributeError, NotImplementedError, TypeError):
        return False


def predict_with_groups(estimator, X, groups=None, *, method: str = "predict"):
    """Call ``estimator.<method>(X)``, routing ``groups`` to the steps that request it."""
    from sklearn import config_context

    with config_context(enable_metadata_routing=True):
        func = getattr(estimator, method)
        if groups is not None and consumes_groups(estimator, method):
            return func(X, groups=groups)
        return func(X)
