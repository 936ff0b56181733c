"""One registry of every public estimator with fast settings, and of the scikit-learn estimator
checks each is expected to fail, with the reason.

``tests/test_estimator_checks.py`` runs :func:`sklearn.utils.estimator_checks.
parametrize_with_checks` over :func:`estimators` with :func:`expected_failed_checks`. A check
listed here fails by design (an ``xfail``); everything else must pass.

Layout used by the raw-epoch transformers: the checks feed 2-D ``X`` with a handful of
columns, so the extractors are registered with a single channel (``ch_names=("c0",)``) at
8 Hz, whose epochs are then the 2-10 columns of ``X``, and with bands and the EMG high band
spanning ``[0, 4)`` Hz so that even a 2-sample epoch has a frequency bin. The composite
:class:`~sleepstage.features.EpochFeatures` is registered without its Hjorth family, whose
4-sample minimum the checks' data do not meet (HjorthFeatures is registered on its own, with
those checks listed).

An estimator with a minimum epoch length the checks' X cannot meet (:data:`EPOCH_MINIMUM`)
lists the checks that length blocks; ``tests/test_estimator_checks.py`` verifies that they
fail for that reason only, and tests what they check on epochs long enough.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression

from sleepstage.features import (
    ArtefactDetector,
    EMGFeatures,
    EpochFeatures,
    HjorthFeatures,
    RecordingScaler,
    SpectralFeatures,
    TemporalContext,
    TimeFeatures,
)
from sleepstage.models import HMMSmoother

HAS_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "skorch"))

#: One EEG channel at 8 Hz: every column of a check's X is one sample of a short epoch.
ONE_EEG = {"sfreq": 8.0, "ch_names": ("c0",), "ch_types": ("eeg",)}
ONE_EMG = {"sfreq": 8.0, "ch_names": ("c0",), "ch_types": ("emg",)}
#: A band every epoch of 2 or more samples resolves at 8 Hz (its DC bin at least).
TINY_SPECTRAL = {"bands": {"low": (0.0, 4.0)}, "fmin": 0.0, "ratios": None}
TINY_EMG = {"high_band": (0.0, 4.0)}
#: The neural baselines at their cheapest: one pass, no validation split, one thread.
TINY_NEURAL = {"n_channels": 1, "max_epochs": 1, "batch_size": 16, "validation_fraction": 0.0,
               "verbose": 0, "n_threads": 1, "random_state": 0}
#: Enough training for the LSTM to pass ``check_classifiers_train``: it needs accuracy > 0.83
#: on three blobs and gets 0.93-0.94 (seeds 0-2); about 3 s more over all its checks.
# the checks' epochs have as few as 3 samples: every sample is a step (the default averages 4)
TRAINED_LSTM = {**TINY_NEURAL, "hidden_size": 4, "n_layers": 1, "max_epochs": 5, "lr": 0.05,
                "downsample": 1}

# -- reasons ----------------------------------------------------------------------------------
SEQUENCE = ("the output for an epoch depends on its neighbours in time (windows over the "
            "recording), so it changes when epochs are subsampled or reordered")
RECORDING = ("statistics come from the whole recording being transformed (per-recording "
             "robust scaling / artefact references), so a subset is scaled differently")
VITERBI = ("predict is the Viterbi path of the whole sequence, which can differ from the argmax "
           "of the forward-backward posteriors (and from per-epoch predictions)")
NEURAL_WEIGHTS = ("class_weight accepts 'balanced' or None (the loss weights are derived from "
                  "the training labels); per-class dictionaries are not supported")


def _features():
    return [
        EpochFeatures(**ONE_EEG, **TINY_SPECTRAL, include=("spectral", "time")),
        SpectralFeatures(**ONE_EEG, **TINY_SPECTRAL),
        EMGFeatures(**ONE_EMG, **TINY_EMG),
        HjorthFeatures(**ONE_EEG),
        TimeFeatures(**ONE_EEG),
        ArtefactDetector(**ONE_EEG),
    ]


def _sequence():
    return [
        RecordingScaler(reference="recording", min_epochs=0),
        RecordingScaler(min_epochs=0, estimator=LogisticRegression(max_iter=200)),
        TemporalContext(windows=(3,), past_windows=(2,), lags=(1,), stats=("mean", "std")),
        HMMSmoother(LogisticRegression()),
        HMMSmoother(LGBMClassifier(n_estimators=5, num_leaves=4, min_child_samples=2,
                                   n_jobs=1, verbose=-1, random_state=0)),
    ]


def _neural():
    if not HAS_TORCH:
        return []
    from sleepstage.models import ConvNetClassifier, LSTMClassifier

    return [
        LSTMClassifier(**TRAINED_LSTM),
        ConvNetClassifier(**TINY_NEURAL),
    ]


def estimators() -> list:
    """Every public estimator of the package, configured to be fast on the checks' data."""
    return [*_features(), *_sequence(), *_neural()]


@dataclass(frozen=True)
class EpochMinimum:
    """A minimum epoch length that the checks' X does not meet, and the checks it blocks.

    ``tests/test_estimator_checks.py`` verifies that each of ``checks`` fails with ``error``
    and nothing else, and tests what those checks would have tested on epochs of ``samples``
    or more.
    """

    samples: int
    error: str  # regular expression of the ValueError raised below the minimum
    reason: str
    checks: tuple[str, ...]

    def expected(self) -> dict[str, str]:
        return dict.fromkeys(self.checks, self.reason)


#: Estimators with a minimum epoch length, keyed by class name.
EPOCH_MINIMUM: dict[str, EpochMinimum] = {
    "HjorthFeatures": EpochMinimum(
        samples=4,
        error=r"Hjorth parameters need at least 4 samples per epoch",
        reason=("Hjorth complexity needs the variance of the second difference, so the "
                "extractor requires at least 4 samples per epoch and raises a ValueError saying "
                "so; these checks use X with 2 or 3 columns (one channel: 2-3 samples per "
                "epoch)"),
        checks=(
            "check_dict_unchanged", "check_dont_overwrite_parameters",
            "check_estimators_fit_returns_self", "check_estimators_nan_inf",
            "check_estimators_overwrite_params", "check_estimators_pickle",
            "check_f_contiguous_array_estimator", "check_fit2d_predict1d",
            "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
            "check_methods_sample_order_invariance", "check_methods_subset_invariance",
            "check_n_features_in", "check_pipeline_consistency", "check_readonly_memmap_input",
            "check_transformer_data_not_an_array", "check_transformer_general",
            "check_transformer_preserve_dtypes",
        ),
    ),
    "ConvNetClassifier": EpochMinimum(
        samples=24,
        error=r"needs at least 24 samples per epoch",
        reason=("the fixed reference architecture pools time by 2 x 3 x 4, so it needs at least "
                "24 samples per epoch; the checks' X has 1-20 columns"),
        checks=(
            "check_classifier_data_not_an_array", "check_classifiers_classes",
            "check_classifiers_train", "check_dict_unchanged", "check_dont_overwrite_parameters",
            "check_dtype_object", "check_estimators_dtypes", "check_estimators_fit_returns_self",
            "check_estimators_nan_inf", "check_estimators_overwrite_params",
            "check_estimators_pickle", "check_f_contiguous_array_estimator",
            "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent",
            "check_fit_score_takes_y", "check_methods_sample_order_invariance",
            "check_methods_subset_invariance", "check_n_features_in",
            "check_n_features_in_after_fitting", "check_pipeline_consistency",
            "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
            "check_supervised_y_2d",
        ),
    ),
}

#: Checks each estimator fails by design, keyed by class name.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "HjorthFeatures": EPOCH_MINIMUM["HjorthFeatures"].expected(),
    "RecordingScaler": {"check_methods_subset_invariance": RECORDING},
    "TemporalContext": {
        "check_methods_subset_invariance": SEQUENCE,
        "check_methods_sample_order_invariance": SEQUENCE,
    },
    "HMMSmoother": {
        "check_methods_subset_invariance": SEQUENCE,
        "check_methods_sample_order_invariance": SEQUENCE,
    },
    "LSTMClassifier": {"check_class_weight_classifiers": NEURAL_WEIGHTS},
    "ConvNetClassifier": {
        **EPOCH_MINIMUM["ConvNetClassifier"].expected(),
        "check_class_weight_classifiers": NEURAL_WEIGHTS,
    },
}


def expected_failed_checks(estimator) -> dict[str, str]:
    """The checks ``estimator`` is expected to fail, with the reason (for xfail)."""
    expected = dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
    if isinstance(estimator, HMMSmoother) and isinstance(estimator.estimator, LogisticRegression):
        # a linear model's posteriors are smooth enough for the path to differ from them
        expected["check_classifiers_train"] = VITERBI
    if isinstance(estimator, RecordingScaler) and estimator.reference == "stage":
        # the checks' data hold fewer than MIN_STAGE_EPOCHS epochs of a stage per recording:
        # every recording keeps the training reference, so subsets are transformed alike
        expected.pop("check_methods_subset_invariance")
    return expected
