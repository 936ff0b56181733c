"""The pipeline :func:`make_staging_pipeline` returns: ``groups`` reach every step that asks.

A scikit-learn :class:`~sklearn.pipeline.Pipeline` passes ``groups`` (the recording of each
epoch) to its steps only under metadata routing. Without it, ``fit(X, y, groups=...)`` is
refused, but ``predict(X, groups=...)`` gives ``groups`` to the final step alone: the
per-recording scaler and the temporal context before it then treat several recordings as one,
and the predictions are wrong with no warning. :class:`StagingPipeline` routes ``groups`` to
every step that requests it whether routing is on or off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn import config_context, get_config
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if

from .._internal.validation import check_scored

__all__ = ["StagingPipeline"]

#: The methods of Pipeline that take metadata (``**params``) and so may be given ``groups``.
_ROUTED_METHODS = ("fit", "fit_transform", "fit_predict", "predict", "predict_proba",
                   "predict_log_proba", "decision_function", "score", "transform")


def _routes_groups(name: str) -> Callable:
    """``Pipeline.<name>``, called under metadata routing when given ``groups``.

    With routing off, a call given ``groups`` alone runs with routing on for its duration, so
    that ``groups`` reaches every step that requests it. ``groups`` together with other
    metadata (``sample_weight``, ``classifier__sample_weight``, ...) is refused: without
    routing scikit-learn would hand them to the final step alone, with it each needs its
    own request. The method exists exactly when the Pipeline's does (``predict_proba`` only
    when the final step has it, ...).
    """

    def parent(self):
        return getattr(super(StagingPipeline, self), name)

    def has_parent(self) -> bool:
        parent(self)  # AttributeError when the Pipeline does not offer it
        return True

    def method(self, *args: Any, **params: Any):
        call = parent(self)
        if name.startswith("fit"):
            check_scored(args[1] if len(args) > 1 else params.get("y"))
        if "groups" not in params or get_config()["enable_metadata_routing"]:
            return call(*args, **params)
        others = sorted(key for key in params if key not in ("groups", "y"))
        if name == "score" and len(args) > 2 and args[2] is not None:
            others.insert(0, "sample_weight")
        if others:
            raise ValueError(
                f"{type(self).__name__}.{name} was given groups together with {others}: "
                "without scikit-learn's metadata routing only groups alone is routed to "
                "every step. Switch routing on (sklearn.set_config(enable_metadata_routing="
                "True)) and request the other metadata from the steps that use it (e.g. "
                "set_fit_request(sample_weight=True) on the classifier)."
            )
        with config_context(enable_metadata_routing=True):
            return call(*args, **params)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(Pipeline, name).__doc__
    return available_if(has_parent)(method)


class StagingPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` that routes ``groups`` with or without routing.

    The same as scikit-learn's Pipeline (same parameters, steps and methods), with two
    differences:

    - ``fit``, ``predict``, ``predict_proba``, ``score``, ``transform`` (and the other methods
      taking metadata) given ``groups`` pass it to every step that requests it, as under
      ``sklearn.set_config(enable_metadata_routing=True)``, also when routing is off. Each
      recording is then normalised, put in context and decoded on its own, whichever way
      the pipeline is called. (Meta-estimators such as ``cross_val_score`` or
      ``GridSearchCV`` still need routing on to hand ``groups`` to the pipeline at all; and
      ``groups`` together with other metadata such as ``sample_weight`` needs routing on,
      else it is refused.)
    - ``fit`` refuses labels holding ``"UNSCORED"``, which would be learnt as a stage.

    Returned by :func:`sleepstage.pipelines.make_staging_pipeline`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sleepstage.features import TemporalContext
    >>> X = np.arange(8.0).reshape(-1, 1); y = np.array([0, 0, 1, 1] * 2)
    >>> pipe = StagingPipeline([("context", TemporalContext(windows=(3,), past_windows=(),
    ...                                                     lags=())),
    ...                         ("classifier", LogisticRegression())])
    >>> pipe.fit(X, y, groups=[0] * 4 + [1] * 4).predict(X, groups=[0] * 4 + [1] * 4).shape
    (8,)
    """


for _name in _ROUTED_METHODS:
    setattr(StagingPipeline, _name, _routes_groups(_name))
del _name
