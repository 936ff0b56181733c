"""How a staging pipeline is built, read from its steps by duck typing.

A staging pipeline is a scikit-learn :class:`~sklearn.pipeline.Pipeline` (or one estimator):
transformers, the first of which reads raw epochs, then a final classifier. What this module
relies on, and nothing else:

- steps that are ``None`` or ``"passthrough"`` do nothing;
- the raw-epoch step (the factory names it ``"features"``) declares the epoch layout as the
  parameters ``sfreq``, ``ch_names`` and ``ch_types`` and, once fitted, knows it as
  ``sfreq_``, ``ch_names_``, ``ch_types_`` and ``n_samples_`` (samples per epoch);
- a step that wraps another estimator (the HMM smoother around LightGBM, the recording
  scaler's first pass) holds the fitted one as ``estimator_``; a neural classifier reading
  raw epochs records ``n_channels_`` and ``n_samples_``.

The model files (:mod:`sleepstage.io`), the importances (:mod:`sleepstage.inspection`) and the
evaluation (:mod:`sleepstage.pipelines`) read pipelines through these functions only. Like
all of :mod:`sleepstage._internal`, it imports nothing from the subpackages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = [
    "FEATURES_STEP",
    "LAYOUT_PARAMS",
    "active_steps",
    "declared_layout",
    "feature_names_out",
    "fitted_layout",
    "fitted_parts",
    "inner_estimator",
    "input_shape",
    "raw_epoch_step",
    "split_pipeline",
]

#: Name of the raw-epoch step in the pipelines of the factory.
FEATURES_STEP = "features"
#: Parameters in which the raw-epoch step declares the epoch layout.
LAYOUT_PARAMS = ("sfreq", "ch_names", "ch_types")


def _is_active(step) -> bool:
    return not (step is None or (isinstance(step, str) and step == "passthrough"))


def active_steps(pipeline) -> list:
    """The steps of ``pipeline`` that do something, in order; ``[pipeline]`` for an estimator.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> pipe = Pipeline([("skip", "passthrough"), ("scale", StandardScaler()),
    ...                  ("classify", LogisticRegression())])
    >>> [type(s).__name__ for s in active_steps(pipe)]
    ['StandardScaler', 'LogisticRegression']
    """
    steps = getattr(pipeline, "steps", None)
    if steps is None:
        return [pipeline]
    return [step for _, step in steps if _is_active(step)]


def split_pipeline(pipeline) -> tuple[list, Any]:
    """(active transformer steps, final step) of a Pipeline, or ``([], pipeline)``."""
    steps = getattr(pipeline, "steps", None)
    if steps is None:
        return [], pipeline
    return [step for _, step in steps[:-1] if _is_active(step)], steps[-1][1]


def inner_estimator(estimator):
    """The fitted estimator a wrapper holds (``estimator_``), or ``estimator`` itself."""
    return getattr(estimator, "estimator_", estimator)


def fitted_parts(pipeline) -> Iterator[Any]:
    """Every active step and, after each wrapper, the fitted estimator inside it."""
    for step in active_steps(pipeline):
        yield step
        inner = getattr(step, "estimator_", None)
        if inner is not None:
            yield inner


def raw_epoch_step(pipeline):
    """The first fitted part that knows the channel layout (``ch_names_`` and ``sfreq_``).

    That is the fitted raw-epoch feature extractor; None for a pipeline without one (a bare
    classifier on a feature matrix, a neural model) or before fitting.
    """
    for part in fitted_parts(pipeline):
        if all(getattr(part, name, None) is not None for name in ("ch_names_", "sfreq_")):
            return part
    return None


def fitted_layout(pipeline) -> dict:
    """``sfreq``, ``ch_names``, ``ch_types`` and ``epoch_length`` as the fitted pipeline knows them.

    Read from :func:`raw_epoch_step`; ``ch_types`` is None when the step records none, and
    ``epoch_length`` (seconds) is left out when it records no ``n_samples_``. An empty dict
    when no step knows the layout.
    """
    step = raw_epoch_step(pipeline)
    if step is None:
        return {}
    sfreq = step.sfreq_
    layout = {
        "sfreq": float(sfreq),
        "ch_names": [str(c) for c in step.ch_names_],
        "ch_types": [str(t) for t in getattr(step, "ch_types_", ())] or None,
    }
    n_samples = getattr(step, "n_samples_", None)
    if n_samples is not None:
        layout["epoch_length"] = float(n_samples) / float(sfreq)
    return layout


def input_shape(pipeline) -> tuple[int, int] | None:
    """(channels, samples per epoch) the first part reading raw epochs was fitted on."""
    for part in fitted_parts(pipeline):
        n_samples = getattr(part, "n_samples_", None)
        n_channels = getattr(part, "n_channels_", None)
        if n_channels is None and getattr(part, "ch_names_", None) is not None:
            n_channels = len(part.ch_names_)
        if n_samples is not None and n_channels is not None:
            return int(n_channels), int(n_samples)
    return None


def declared_layout(pipeline) -> dict | None:
    """The layout the raw-epoch step (named :data:`FEATURES_STEP`) declares in its parameters.

    Unlike :func:`fitted_layout` this needs no fitting: it reads ``get_params()`` of the
    ``"features"`` step. None when the pipeline has no such step or the step does not declare
    every one of :data:`LAYOUT_PARAMS`.
    """
    step = getattr(pipeline, "named_steps", {}).get(FEATURES_STEP)
    get_params = getattr(step, "get_params", None)
    if get_params is None:
        return None
    params = get_params(deep=False)
    if not all(key in params for key in LAYOUT_PARAMS):
        return None
    return {key: params[key] for key in LAYOUT_PARAMS}


def feature_names_out(pipeline, input_features=None) -> list[str] | None:
    """Names of the features the final step sees: ``pipeline[:-1].get_feature_names_out()``.

    ``input_features`` (the names of the columns the pipeline reads, e.g. those of a feature
    table) are passed on to ``get_feature_names_out``. Without an active transformer before
    the final step, the final step sees the input itself: the result is ``input_features``
    (as text), or None when they are not given. Errors of a transformer that cannot name its
    outputs propagate; callers decide what that means.
    """
    if input_features is not None:
        input_features = [str(n) for n in input_features]
    transformers, _ = split_pipeline(pipeline)
    if not transformers:
        return input_features
    return [str(n) for n in pipeline[:-1].get_feature_names_out(input_features)]
