"""A fitted staging pipeline cut into its per-epoch step and the per-recording rest."""

from __future__ import annotations

from typing import Any

from .._internal.anatomy import raw_epoch_step
from .._internal.routing import consumes_groups, predict_and_proba, predict_with_groups

__all__ = ["CONTEXT_ROWS", "predict_rows", "split_per_epoch"]

#: Epochs of context rows scored at a time by :func:`predict_rows`: 2048 rows of the default
#: context (~400 columns) and LightGBM's float64 copy of them hold ~10 MB; 8192 rows held
#: 33 MB more at the peak of a 48-h recording and were no faster (1.2 s against 1.3 s).
CONTEXT_ROWS = 2048


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


def predict_rows(rest, rows, groups=None, *, block: int = CONTEXT_ROWS):
    """``predict`` and ``predict_proba`` of ``rest`` on ``rows``, context rows a block at a time.

    For a pipeline ending in a temporal context (a step with ``iter_transform``, see
    :meth:`sleepstage.features.TemporalContext.iter_transform`) followed by a smoother that
    decodes given probabilities (a step with ``estimator_`` and ``decode``, see
    :meth:`sleepstage.models.HMMSmoother.decode`), the steps before the context run on the
    whole input, the context's output is computed ``block`` epochs at a time and each block
    goes straight into the classifier's ``predict_proba``; the smoother then decodes the
    whole recordings' probabilities (Viterbi path and posteriors). The context matrix of the
    whole input is never held: memory grows by about the input's size per epoch, not the
    context's (six times wider). Every other pipeline is scored by
    :func:`sleepstage._internal.routing.predict_and_proba`. The outputs are the same bit for
    bit (each row of the context and of the classifier's probabilities depends on the
    whole input only through the values the blocks share).

    Parameters
    ----------
    rest : sklearn.pipeline.Pipeline or estimator
        A fitted pipeline, e.g. the rest of :func:`split_per_epoch`.
    rows : array-like of shape (n_epochs, n_features)
        Its input, epochs of each recording contiguous and in time order.
    groups : array-like of shape (n_epochs,), optional
        Recording id of each epoch; None means one recording.
    block : int, default=2048
        Epochs per block of context rows.

    Returns
    -------
    pred : numpy.ndarray of shape (n_epochs,)
        The prediction (for an HMM the Viterbi path).
    proba : numpy.ndarray of shape (n_epochs, n_classes) or None
        The probabilities (None when the final step has none).
    """
    import numpy as np
    from sklearn.pipeline import Pipeline

    steps = rest.steps if isinstance(rest, Pipeline) else []
    if len(steps) < 2 or not _blockwise(steps[-2][1], steps[-1][1]):
        return predict_and_proba(rest, rows, groups)
    context, final = steps[-2][1], steps[-1][1]
    Xt = rows
    if len(steps) > 2:
        Xt = predict_with_groups(rest[:-2], rows, groups, method="transform")
    n = len(Xt)
    proba = None
    for part, values in context.iter_transform(Xt, groups, rows=block):
        scores = np.asarray(final.estimator_.predict_proba(values), dtype=np.float64)
        if proba is None:
            proba = np.empty((n, scores.shape[1]))
        proba[part] = scores
    if proba is None:  # no epoch: the whole path raises its usual error
        return predict_and_proba(rest[-2:], Xt, groups)
    return final.decode_and_proba(proba, groups)


def _blockwise(context, final) -> bool:
    """Whether ``context`` yields row blocks and ``final`` decodes given probabilities."""
    from ..models import HMMSmoother

    output = getattr(context, "_sklearn_output_config", {}).get("transform", "default")
    return (callable(getattr(context, "iter_transform", None)) and output == "default"
            and hasattr(final, "estimator_")
            and isinstance(final, HMMSmoother))
