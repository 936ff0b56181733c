"""The pipeline a command fits: ``--pipeline`` and ``--set``, and quiet neural models."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from ._args import UsageError, parse_assignment, parse_value, resolve_param

__all__ = [
    "FACTORY_KEYS",
    "apply_settings",
    "build_pipeline",
    "neural_classifiers",
    "silence_neural",
]

#: Keyword arguments of ``make_staging_pipeline`` that ``--set`` may give (the layout comes
#: from the data).
FACTORY_KEYS = ("plain", "scaler", "context", "smoothing", "features", "random_state")

def build_pipeline(model: str, settings: Sequence[str] | None, data, seed: int, *,
                   quiet: bool = False):
    """``make_staging_pipeline`` for the data's layout, with ``--set key=value`` applied.

    Keys among :data:`FACTORY_KEYS` (``smoothing``, ``context``, ...) go to
    ``make_staging_pipeline``; every other key is a pipeline parameter, given in full
    (``classifier__estimator__num_leaves``) or by its unique short name (``num_leaves``).
    With ``quiet``, the neural models (``lstm``, ``cnn``) get ``verbose=0`` so that skorch
    prints no per-epoch table (an explicit ``--set verbose=...`` still wins).

    Returns
    -------
    (Pipeline, dict)
        The unfitted pipeline and the settings as applied (full names).
    """
    from ..pipelines import make_staging_pipeline

    factory: dict[str, Any] = {"random_state": seed}
    later: dict[str, Any] = {}
    for text in settings or []:
        key, value = parse_assignment(text, "--set")
        if key in ("sfreq", "ch_names", "ch_types", "model"):
            raise UsageError(f"--set {key}=... is not allowed: the layout comes from the data "
                             "and the model from --pipeline.")
        (factory if key in FACTORY_KEYS else later)[key] = parse_value(value)
    layout = data.layout()
    if not data.has_signal and "features" in factory:  # a feature table
        raise UsageError("--set features=... does not apply to feature tables: their columns "
                         "are the features.")
    if not data.has_signal and model in ("lstm", "cnn"):
        raise UsageError(f"--pipeline {model} reads raw epochs; a feature table needs a "
                         "feature-based pipeline (lgbm, hgb or logreg).")
    pipeline = make_staging_pipeline(model, **layout, **factory)
    explicit = any(key == "verbose" or key.endswith("__verbose") for key in later)
    silenced = silence_neural(pipeline) if quiet and not explicit else {}
    applied = {resolve_param(pipeline, key): value for key, value in later.items()}
    pipeline.set_params(**applied)
    return pipeline, {**factory, **silenced, **applied}


def silence_neural(pipeline) -> dict[str, Any]:
    """Set ``verbose=0`` on every neural classifier inside ``pipeline`` (for ``--quiet``).

    Used for new pipelines (:func:`build_pipeline`) and for those from a model file.
    Returns the parameters that were set.
    """
    quiet = {f"{prefix}verbose": 0 for prefix in neural_classifiers(pipeline)}
    pipeline.set_params(**quiet)
    return quiet


def neural_classifiers(pipeline) -> dict[str, Any]:
    """The neural classifiers in ``pipeline`` (or the pipeline itself), by parameter prefix.

    Keys are ``""`` for the pipeline itself and ``"<name>__"`` for a nested estimator, so
    that ``f"{prefix}verbose"`` names its parameter.
    """
    torch_models = sys.modules.get("sleepstage.models._torch")
    if torch_models is None:  # never imported: the pipeline holds no neural model
        return {}
    candidates = {"": pipeline, **pipeline.get_params(deep=True)}
    return {f"{name}__" if name else "": value for name, value in candidates.items()
            if isinstance(value, torch_models.TorchClassifierBase)}


def apply_settings(pipeline, settings: Sequence[str] | None) -> dict[str, Any]:
    """Apply ``--set`` to an existing pipeline (parameters only); returns what was set."""
    applied = {}
    for text in settings or []:
        key, value = parse_assignment(text, "--set")
        applied[resolve_param(pipeline, key)] = parse_value(value)
    pipeline.set_params(**applied)
    return applied
