"""A fitted staging pipeline cut into its per-epoch step and the per-recording rest."""

from __future__ import annotations

from typing import Any

from .._internal.anatomy import raw_epoch_step
from .._internal.routing import consumes_groups

__all__ = ["split_per_epoch"]


def split_per_epoch(pipeline) -> tuple[Any, Any] | None:
    """``(per-epoch step, rest)`` of a fitted pipeline, or None when it has no such step.

    The per-epoch step is the pipeline's first active step when it reads raw epochs (it
    knows the channel layout, see :func:`sleepstage._internal.anatomy.raw_epoch_step`) and
    its ``transform`` takes no recording ids: each epoch's row depends on that epoch alone,
    so it can be computed a chunk of epochs at a time. The rest (the per-recording scaler,
    the temporal context, the classifier and its smoother) needs the rows of the whole
    recording, with ``groups``.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted staging pipeline.

    Returns
    -------
    tuple or None
        ``(step, rest)``: the fitted step itself and a :class:`~sklearn.pipeline.Pipeline`
        of the fitted steps after it (sharing them with ``pipeline``), so that
        ``rest.predict(step.transform(X), groups=...)`` is ``pipeline.predict(X, groups=...)``.
        None for an estimator that is not a Pipeline, a pipeline whose first step is not a
        per-epoch raw-epoch step, or one with no step after it (a neural model reading raw
        epochs has none: it needs the whole recording's samples).

    Examples
    --------
    >>> import numpy as np
    >>> from sleepstage.pipelines import make_staging_pipeline
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 3, 512)).astype("float32"), np.tile([1, 2, 3], 20)
    >>> pipe = make_staging_pipeline(plain=True, n_estimators=5).fit(X, y)
    >>> step, rest = split_per_epoch(pipe)
    >>> bool((rest.predict(step.transform(X)) == pipe.predict(X)).all())
    True
    """
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        return None
    active = [i for i, (_, step) in enumerate(pipeline.steps)
              if not (step is None or (isinstance(step, str) and step == "passthrough"))]
    if len(active) < 2:
        return None
    first = active[0]
    step = pipeline.steps[first][1]
    if step is not raw_epoch_step(pipeline) or consumes_groups(step, "transform"):
        return None
    return step, pipeline[first + 1:]
