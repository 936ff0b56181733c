"""HMMSmoother learns its transition weight and a temperature from cross-fitted posteriors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sleepstage.metrics import count_transitions, expected_calibration_error
from sleepstage.models import HMMSmoother
from sleepstage.models._hmm import TRANSITION_WEIGHTS


def _fragmented(seed: int, n_bouts: int = 600):
    """Long NREM/WAKE bouts broken by brief arousals (1-3 epochs), and features whose
    evidence is correlated from epoch to epoch (a 5-epoch running mean, as context gives)."""
    rng = np.random.default_rng(seed)
    stages, lengths = [], []
    for _ in range(n_bouts):
        stage = int(rng.choice([1, 2, 3], p=[0.35, 0.5, 0.15]))
        stages.append(stage)
        lengths.append(int(rng.integers(1, 4)) if stage == 1 and rng.random() < 0.6
                       else int(rng.integers(10, 40)))
    y = np.repeat(stages, lengths)
    evidence = np.eye(3)[y - 1] * 1.2 + rng.normal(scale=1.0, size=(len(y), 3))
    kernel = np.ones(5) / 5
    smooth = np.column_stack([np.convolve(evidence[:, k], kernel, mode="same")
                              for k in range(3)])
    return np.hstack([evidence, smooth]), y


@pytest.fixture(scope="module")
def data():
    return _fragmented(0), _fragmented(1)


def _fit(X, y, **params):
    return HMMSmoother(LogisticRegression(max_iter=500), priors="uniform", **params).fit(X, y)


def test_learned_weight_keeps_brief_arousals(data):
    (X, y), (X_new, y_new) = data
    plain = _fit(X, y)
    learned = _fit(X, y, transition_weight="auto")
    assert plain.transition_weight_ == 1.0
    assert learned.transition_weight_ < 1.0
    scores = learned.cross_fit_scores_
    assert scores["true_transitions"] == count_transitions(y)  # one recording, 2 halves
    assert set(scores["decoded_transitions"]) == set(TRANSITION_WEIGHTS)
    true = count_transitions(y_new)
    plain_error = abs(count_transitions(plain.predict(X_new)) - true)
    learned_error = abs(count_transitions(learned.predict(X_new)) - true)
    assert learned_error < plain_error
    assert learned_error < 0.2 * true


def test_forbidden_transitions_stay_forbidden_at_any_weight(data):
    (X, y), _ = data
    y = y.copy()
    learned = _fit(X, y, transition_weight=0.05)
    forbidden = learned.transmat_ == 0
    path = learned.predict(X)
    codes = np.searchsorted(learned.classes_, path)
    assert not forbidden[codes[:-1], codes[1:]].any()


def test_temperature_calibrates_held_out_posteriors_and_keeps_the_stages(data):
    (X, y), (X_new, y_new) = data
    raw = _fit(X, y, transition_weight=0.5)
    calibrated = _fit(X, y, transition_weight=0.5, calibration="temperature")
    assert calibrated.temperature_ != 1.0
    assert calibrated.cross_fit_scores_["nll_calibrated"] <= calibrated.cross_fit_scores_["nll"]
    np.testing.assert_array_equal(raw.predict(X_new), calibrated.predict(X_new))
    pred = calibrated.predict(X_new)
    ece_raw = expected_calibration_error(y_new, raw.predict_proba(X_new), classes=raw.classes_,
                                         y_pred=pred)
    ece = expected_calibration_error(y_new, calibrated.predict_proba(X_new),
                                     classes=calibrated.classes_, y_pred=pred)
    assert ece < ece_raw
    np.testing.assert_allclose(calibrated.predict_proba(X_new).sum(axis=1), 1.0)


def test_cross_fit_by_recording_when_there_are_enough(data):
    (X, y), _ = data
    groups = np.repeat(["a", "b", "c"], -(-len(y) // 3))[: len(y)]
    learned = HMMSmoother(LogisticRegression(max_iter=500), transition_weight="auto",
                          cv=3).fit(X, y, groups=groups)
    assert 0 < learned.transition_weight_ <= 1


@pytest.mark.parametrize("params, match", [
    ({"transition_weight": 0.0}, "'transition_weight' parameter"),
    ({"transition_weight": 1.5}, "'transition_weight' parameter"),
    ({"transition_weight": "fast"}, "'transition_weight' parameter"),
    ({"calibration": "isotonic"}, "'calibration' parameter"),
    ({"cv": 1, "calibration": "temperature"}, "'cv' parameter"),
])
def test_bad_parameters(params, match):
    X, y = np.arange(20.0)[:, None], np.repeat([1, 2], 10)
    with pytest.raises(ValueError, match=match):
        _fit(X, y, **params)


def test_a_fold_without_two_stages_falls_back_with_a_warning():
    X, y = np.arange(40.0)[:, None], np.repeat([1, 2], 20)  # first half holds only stage 1
    with pytest.warns(UserWarning, match="cannot cross-fit with cv=2"):
        hmm = _fit(X, y, transition_weight="auto", calibration="temperature")
    assert hmm.transition_weight_ == 1.0 and hmm.temperature_ == 1.0
    assert hmm.predict(X).shape == (40,)


def test_folds_balance_epochs_across_recordings_of_unequal_length():
    from sleepstage._internal.groups import recording_segments
    from sleepstage.models._hmm import _cross_fit_folds

    groups = np.repeat(["long", "a", "b", "c"], [900, 30, 30, 40])
    folds = _cross_fit_folds(recording_segments(groups, groups.size), 2)
    assert set(np.bincount(folds)) == {450, 550} or min(np.bincount(folds)) >= 100
    one_long = np.repeat(["long", "tiny"], [990, 10])
    folds = _cross_fit_folds(recording_segments(one_long, one_long.size), 2)
    assert min(np.bincount(folds)) >= 400  # the long recording is split in time
