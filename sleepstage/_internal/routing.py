"""Routing recording ids (``groups``) to the steps of an estimator that request them.

Shared by fitting and evaluation (:mod:`sleepstage.pipelines`) and by the scorer
(:class:`sleepstage.metrics.StagingScorer`), which sit in different subpackages.
scikit-learn is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

__all__ = ["consumes_groups", "predict_and_proba", "predict_with_groups"]


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


def predict_and_proba(estimator, X, groups=None):
    """``predict`` and ``predict_proba`` of ``estimator``, a pipeline's transforms run once.

    ``predict`` is the prediction itself (for an HMM the Viterbi path, which need not be the
    argmax of the posteriors); the probabilities are None when the final step has no
    ``predict_proba``. A final step with a ``predict_and_proba(X, groups=None)`` method (an
    :class:`~sleepstage.models.HMMSmoother`) gives both from one run of its classifier.
    ``groups`` is routed as by :func:`predict_with_groups`.
    """
    from sklearn.pipeline import Pipeline

    final, Xt = estimator, X
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        Xt = predict_with_groups(estimator[:-1], X, groups, method="transform")
        final = estimator[-1]
    both = getattr(final, "predict_and_proba", None)
    if callable(both):  # e.g. an HMM: the classifier runs once, decoded twice
        if groups is not None and consumes_groups(final, "predict"):
            return both(Xt, groups=groups)
        return both(Xt)
    pred = predict_with_groups(final, Xt, groups)
    if not hasattr(final, "predict_proba"):
        return pred, None
    return pred, predict_with_groups(final, Xt, groups, method="predict_proba")
