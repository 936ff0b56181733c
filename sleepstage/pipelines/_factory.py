"""Ready-made staging pipelines."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from sklearn.pipeline import Pipeline

from .._internal.validation import check_option, check_positive
from ..features import DEFAULT_SFREQ, EpochFeatures, RecordingScaler, TemporalContext
from ..models import HMMSmoother
from ._staging_pipeline import StagingPipeline

__all__ = ["DEFAULT_CONTEXT", "DEFAULT_EPOCH_LENGTH", "LGBM_PRESETS", "MODELS",
           "SCALER_MIN_HOURS", "make_classifier", "make_staging_pipeline",
           "scaler_min_epochs"]

#: Models :func:`make_staging_pipeline` knows.
MODELS: tuple[str, ...] = ("lgbm", "hgb", "logreg", "lstm", "cnn")
_NEURAL = ("lstm", "cnn")

#: LightGBM settings of :func:`make_classifier` by preset name. "fast" (the default) grows
#: 100 trees at learning rate 0.15 on coarser histograms (63 bins instead of LightGBM's 255)
#: and gives each tree half of the columns and half of the epochs, which fits the default
#: pipeline in about half the time with the same scores (``benchmarks/bench_fit.py``,
#: ``docs/benchmarks.md``). "2026-11" is the earlier setting: 150 trees at learning rate
#: 0.1, 255 bins, 80 % of the columns and of the epochs per tree. 75 trees at 0.2 were
#: faster still but cost the synthetic mice 0.008 balanced accuracy.
LGBM_PRESETS: dict[str, dict[str, Any]] = {
    "fast": dict(n_estimators=100, learning_rate=0.15, num_leaves=31, min_child_samples=20,
                 subsample=0.5, subsample_freq=1, colsample_bytree=0.5, max_bin=63,
                 class_weight="balanced"),
    "2026-11": dict(n_estimators=150, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                    subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                    class_weight="balanced"),
}

#: First-pass classifier of the stage-anchored scaler by preset: "fast" keeps the default of
#: :class:`~sleepstage.features.RecordingScaler`
#: (:data:`~sleepstage.features.FIRST_PASS_PARAMS`); "2026-11" the earlier one (60 trees on
#: LightGBM's defaults: 255 bins, every epoch and column).
_FIRST_PASS_BY_PRESET: dict[str, dict[str, Any] | None] = {
    "fast": None,
    "2026-11": dict(n_estimators=60, class_weight="balanced"),
}

#: Default temporal context: means over centred windows of 20 s and 60 s and a past-only
#: window of 60 s, and the features of the epochs 4 s before and after (with 4-s epochs:
#: windows of 5, 15 and 15 epochs and lags of 1; with 30-s epochs the 20-s window would be
#: the epoch itself and is left out: 3 centred and 2 past epochs, lags of 1). The short
#: window and the lags keep the sharp edges of brief arousals that the 60-s means blur
#: (``benchmarks/real_mouse.py``, ``benchmarks/ablation.py``).
DEFAULT_CONTEXT: dict[str, Any] = {"windows": (20.0, 60.0), "past_windows": (60.0,),
                                   "lags": (4.0,), "unit": "seconds"}

#: Recordings shorter than this (in hours) are not scaled by their own statistics (see
#: :class:`~sleepstage.features.RecordingScaler`, ``min_epochs``).
SCALER_MIN_HOURS: float = 3.0

#: Epoch length of the reference rodent layout, in seconds.
DEFAULT_EPOCH_LENGTH: float = 4.0


def scaler_min_epochs(epoch_length: float) -> int:
    """Epochs in :data:`SCALER_MIN_HOURS` at ``epoch_length`` seconds (the scaler's minimum).

    Examples
    --------
    >>> scaler_min_epochs(4.0), scaler_min_epochs(30.0)
    (2700, 360)
    """
    return math.ceil(SCALER_MIN_HOURS * 3600 / check_positive("epoch_length", epoch_length))


def make_classifier(model: str = "lgbm", *, random_state: int | None = 0, n_channels: int = 3,
                    preset: str = "fast", **params):
    """The final classifier of a pipeline, with the package's defaults.

    Parameters
    ----------
    model : {"lgbm", "hgb", "logreg", "lstm", "cnn"}
        LightGBM (balanced class weights), scikit-learn's HistGradientBoosting, a standardised
        logistic regression, or one of the neural baselines (needs the ``neural`` extra).
    random_state : int or None
        Seed of the classifier.
    n_channels : int
        Channels per epoch (neural models only).
    preset : {"fast", "2026-11"}, default="fast"
        LightGBM settings (:data:`LGBM_PRESETS`; LightGBM only): "fast" grows 100 trees
        at learning rate 0.15 on 63-bin histograms, each tree seeing half of the columns
        and of the epochs; "2026-11" gives the earlier, about twice slower settings (150
        trees at 0.1, 255 bins, 80 % of the columns and epochs).
    **params
        Overrides of the classifier's parameters.

    Examples
    --------
    >>> make_classifier(preset="2026-11").get_params()["colsample_bytree"]
    0.8

    Returns
    -------
    estimator
    """
    check_option("model", model, MODELS)
    check_option("preset", preset, list(LGBM_PRESETS))
    if model == "lgbm":
        from lightgbm import LGBMClassifier

        defaults = dict(LGBM_PRESETS[preset], random_state=random_state, verbose=-1)
        return LGBMClassifier(**{**defaults, **params})
    if model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        defaults = dict(max_iter=300, learning_rate=0.05, class_weight="balanced",
                        early_stopping=False, random_state=random_state)
        return HistGradientBoostingClassifier(**{**defaults, **params})
    if model == "logreg":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        defaults = dict(C=1.0, max_iter=2000, class_weight="balanced")
        return Pipeline([("standardize", StandardScaler()),
                         ("logreg", LogisticRegression(**{**defaults, **params}))])
    from .. import models

    cls = models.LSTMClassifier if model == "lstm" else models.ConvNetClassifier
    return cls(n_channels=n_channels, random_state=random_state, **params)


def make_staging_pipeline(
    model: str = "lgbm",
    *,
    sfreq: float = DEFAULT_SFREQ,
    ch_names: Sequence[str] | None = None,
    ch_types: Sequence[str] | None = None,
    epoch_length: float = DEFAULT_EPOCH_LENGTH,
    plain: bool = False,
    scaler: bool | RecordingScaler = True,
    context: bool | Mapping[str, Any] | TemporalContext | None = True,
    smoothing: str | None = "hmm",
    features: bool | Mapping[str, Any] | None = True,
    random_state: int | None = 0,
    preset: str = "fast",
    **params,
) -> Pipeline:
    """Build a sleep-staging pipeline.

    The default is the configuration that scored best in the ablation of
    ``benchmarks/ablation.py`` and ``benchmarks/real_mouse.py`` (see
    ``docs/benchmarks.md``): per-epoch features, stage-anchored per-recording scaling,
    temporal context, LightGBM and HMM smoothing with a learned transition weight and
    calibrated posteriors.
    ``make_staging_pipeline(plain=True)`` gives the plain per-epoch pipeline (features + LightGBM).

    Parameters
    ----------
    model : {"lgbm", "hgb", "logreg", "lstm", "cnn"}
        Final classifier. The neural models read raw epochs, so they get no feature, scaling
        or context step (HMM smoothing still applies).
    sfreq : float
        Sampling frequency of the epochs in Hz (reference layout: 128).
    ch_names, ch_types : sequence of str, optional
        Channel layout of ``X`` (reference layout: ``eeg1, eeg2, emg`` / ``eeg, eeg, emg``).
    epoch_length : float, default=4.0
        Epoch length in seconds (``make_staging_pipeline(**data.layout())`` passes the data's). It
        sets the time scale of the context windows and of the scaler's shortest recording,
        and the feature step refuses epochs of another length.
    plain : bool
        Shortcut for ``scaler=False, context=False, smoothing=None``.
    scaler : bool or RecordingScaler
        Stage-anchored normalisation of every feature within each recording
        (:class:`~sleepstage.features.RecordingScaler`, ``reference="stage"``): the same
        whatever the recording's stage mix. Recordings shorter than
        :data:`SCALER_MIN_HOURS` keep the training reference, with a warning.
    context : bool, dict or TemporalContext
        Rolling statistics over neighbouring epochs; a dict gives TemporalContext parameters
        (default :data:`DEFAULT_CONTEXT`: means over 20-s and 60-s centred and a 60-s
        past-only window, and the features 4 s before and after).
    smoothing : {"hmm", None}
        Wrap the classifier in :class:`~sleepstage.models.HMMSmoother` with uniform priors
        (every classifier here is trained with balanced class weights, so its posteriors are
        already prior-free scaled likelihoods), a transition weight learned from
        cross-fitted posteriors (``transition_weight="auto"``) and temperature-calibrated
        posteriors (``calibration="temperature"``).
    features : bool or dict, default=True
        True (or a dict of :class:`~sleepstage.features.EpochFeatures` parameters: bands,
        method, ...; extraction uses every core, ``n_jobs=-1``, unless this says otherwise)
        starts the pipeline with the feature step, which reads raw epochs. False builds the
        same pipeline without it: ``X`` is then a per-epoch feature matrix
        ``(n_epochs, n_features)`` (e.g. band powers exported by acquisition software),
        and normalisation, context,
        classifier and smoothing run on its columns. ``epoch_length`` still sets the time
        scales; ``sfreq``, ``ch_names`` and ``ch_types`` are not used.
    random_state : int or None
        Seed of the classifier.
    preset : {"fast", "2026-11"}, default="fast"
        LightGBM settings (:data:`LGBM_PRESETS`, see :func:`make_classifier`).
        ``preset="2026-11"`` rebuilds the earlier pipeline (LightGBM classifier and the
        scaler's first-pass classifier), whose fit takes about twice as long for the same
        scores (``benchmarks/bench_fit.py``). The preset also sets the first pass of the
        scaler built here for the other models; a ``scaler`` given as a
        :class:`~sleepstage.features.RecordingScaler` is used as it is.
    **params
        Parameters of the classifier (e.g. ``n_estimators=500``); they override the preset.

    Returns
    -------
    StagingPipeline
        A scikit-learn Pipeline with steps ``features``, ``scaler``, ``context`` (when
        enabled) and ``classifier``. Recording ids given as ``groups`` to ``fit``,
        ``predict``, ``predict_proba``, ``score``, ... reach every per-recording step, with
        or without scikit-learn's metadata routing; without ``groups`` the input is one
        continuous recording.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 1536)).astype("float32"), np.tile([1, 2, 3], 20)
    >>> pipe = make_staging_pipeline(plain=True, n_estimators=5).fit(X, y)
    >>> set(pipe.predict(X).tolist()) <= {1, 2, 3}
    True
    """
    check_option("model", model, MODELS)
    check_option("smoothing", smoothing, ["hmm", None])
    if plain:
        scaler, context, smoothing = False, False, None
    ch_names = None if ch_names is None else tuple(ch_names)
    ch_types = None if ch_types is None else tuple(ch_types)
    n_channels = 3 if ch_names is None else len(ch_names)
    classifier = make_classifier(model, random_state=random_state, n_channels=n_channels,
                                 preset=preset, **params)
    epoch_length = check_positive("epoch_length", epoch_length)
    if smoothing == "hmm":
        classifier = HMMSmoother(classifier, priors="uniform", transition_weight="auto",
                                 calibration="temperature")
    steps: list[tuple[str, Any]] = []
    if model in _NEURAL and features is False:
        raise ValueError(f"The {model!r} model reads raw epochs; features=False (a feature "
                         "matrix as input) needs a feature-based model such as 'lgbm'.")
    if model not in _NEURAL:
        if features is not False:
            feature_params = {"n_jobs": -1,
                              **(dict(features) if isinstance(features, Mapping) else {})}
            steps.append(("features", EpochFeatures(sfreq=sfreq, ch_names=ch_names,
                                                    ch_types=ch_types,
                                                    epoch_length=epoch_length,
                                                    **feature_params)))
        if scaler:
            steps.append(("scaler", scaler if isinstance(scaler, RecordingScaler)
                          else RecordingScaler(min_epochs=scaler_min_epochs(epoch_length),
                                               estimator=_first_pass(preset))))
        if context is not None and context is not False:
            if isinstance(context, TemporalContext):
                steps.append(("context", context))
            else:
                settings = dict(DEFAULT_CONTEXT if context is True else context)
                if settings.get("unit") == "seconds":
                    settings = {"epoch_length": epoch_length, **settings}
                if context is True:  # a centred window of one epoch repeats the epoch
                    settings["windows"] = tuple(
                        w for w in settings["windows"] if round(w / epoch_length) >= 2)
                steps.append(("context", TemporalContext(**settings)))
    steps.append(("classifier", classifier))
    return StagingPipeline(steps)


def _first_pass(preset: str):
    """The scaler's first-pass classifier for ``preset`` (None: the scaler's default)."""
    params = _FIRST_PASS_BY_PRESET[preset]
    if params is None:
        return None
    from lightgbm import LGBMClassifier

    return LGBMClassifier(**params, random_state=0, n_jobs=1, verbose=-1)


def make_pipeline(*args, **kwargs) -> Pipeline:
    """Deprecated alias of :func:`make_staging_pipeline`, kept for one release.

    The name collided with :func:`sklearn.pipeline.make_pipeline` (and imbalanced-learn's),
    which build a pipeline from the given steps.
    """
    warnings.warn(
        "sleepstage.pipelines.make_pipeline is deprecated and will be removed in the next "
        "release; use make_staging_pipeline (the name no longer shadows "
        "sklearn.pipeline.make_pipeline).",
        FutureWarning,
        stacklevel=2,
    )
    return make_staging_pipeline(*args, **kwargs)
