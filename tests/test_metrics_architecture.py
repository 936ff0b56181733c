"""Sleep-architecture and calibration scores: hand-counted hypnograms, direct computations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sleepstage.metrics import (
    errors_in_least_confident,
    expected_calibration_error,
    sleep_architecture,
    stage_bouts,
    staging_scores,
)

LABELS = ["WAKE", "NREM", "REM"]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- bouts, time in stage, transitions ------------------------------------------------------
def test_bouts_hand_counted_and_split_at_recording_boundary():
    #        rec a: W W N N N R | rec b: R R W W
    y = ["WAKE", "WAKE", "NREM", "NREM", "NREM", "REM", "REM", "REM", "WAKE", "WAKE"]
    groups = ["a"] * 6 + ["b"] * 4
    bouts = stage_bouts(y, groups, epoch_length=4)
    assert bouts[["recording", "stage", "first_epoch", "n_epochs"]].values.tolist() == [
        ["a", "WAKE", 0, 2], ["a", "NREM", 2, 3], ["a", "REM", 5, 1],
        ["b", "REM", 6, 2], ["b", "WAKE", 8, 2],
    ]
    assert bouts.duration.tolist() == [8.0, 12.0, 4.0, 8.0, 8.0]
    # without groups the REM run 5..7 is one bout of 3 epochs
    assert stage_bouts(y).n_epochs.tolist() == [2, 3, 3, 2]


def test_architecture_hand_counted():
    # 10 epochs of 36 s = 0.1 h, two recordings
    y = ["WAKE", "WAKE", "NREM", "NREM", "NREM", "REM", "REM", "REM", "WAKE", "WAKE"]
    groups = [0] * 6 + [1] * 4
    arch = sleep_architecture(y, LABELS, epoch_length=36, groups=groups)
    assert arch["percent_time"] == {"WAKE": 40.0, "NREM": 30.0, "REM": 30.0}
    # bouts: WAKE 2 (2 + 2 epochs), NREM 1 (3), REM 2 (1 + 2: split at the boundary)
    assert arch["bouts_per_hour"] == pytest.approx({"WAKE": 20.0, "NREM": 10.0, "REM": 20.0})
    assert arch["mean_bout_seconds"] == pytest.approx({"WAKE": 72.0, "NREM": 108.0,
                                                       "REM": 54.0})


def test_staging_scores_architecture_true_pred_and_error():
    y_true = ["WAKE"] * 4 + ["NREM"] * 4 + ["REM"] * 2          # 10 epochs of 36 s = 0.1 h
    y_pred = ["WAKE", "NREM", "WAKE", "WAKE"] + ["NREM"] * 6
    scores = staging_scores(y_true, y_pred, labels=LABELS, epoch_length=36)
    assert scores["percent_time_true"] == {"WAKE": 40.0, "NREM": 40.0, "REM": 20.0}
    assert scores["percent_time_pred"] == {"WAKE": 30.0, "NREM": 70.0, "REM": 0.0}
    assert scores["percent_time_error"] == pytest.approx({"WAKE": -10.0, "NREM": 30.0,
                                                          "REM": -20.0})
    assert scores["transitions_per_hour_true"] == pytest.approx(20.0)   # 2 changes / 0.1 h
    assert scores["transitions_per_hour_pred"] == pytest.approx(30.0)   # 3 changes
    assert scores["bouts_per_hour_true"] == pytest.approx({"WAKE": 10, "NREM": 10, "REM": 10})
    assert scores["bouts_per_hour_pred"] == pytest.approx({"WAKE": 20, "NREM": 20, "REM": 0})
    assert scores["mean_bout_seconds_true"] == pytest.approx(
        {"WAKE": 144.0, "NREM": 144.0, "REM": 72.0})
    pred_seconds = scores["mean_bout_seconds_pred"]
    assert pred_seconds["WAKE"] == pytest.approx(54.0)   # bouts of 1 and 2 epochs
    assert pred_seconds["NREM"] == pytest.approx(126.0)  # bouts of 1 and 6 epochs
    assert np.isnan(pred_seconds["REM"])                 # no bout to average


def test_transitions_and_bouts_not_counted_across_recordings():
    y = ["WAKE"] * 5 + ["NREM"] * 5
    one = staging_scores(y, y, labels=LABELS, epoch_length=36)
    two = staging_scores(y, y, labels=LABELS, epoch_length=36, groups=[0] * 5 + [1] * 5)
    assert one["transitions_per_hour_true"] == pytest.approx(10.0)
    assert two["transitions_per_hour_true"] == 0.0
    assert one["bouts_per_hour_true"] == two["bouts_per_hour_true"]   # one bout each stage
    y = ["WAKE"] * 10
    split = staging_scores(y, y, labels=LABELS, epoch_length=36, groups=[0] * 5 + [1] * 5)
    assert split["bouts_per_hour_true"]["WAKE"] == pytest.approx(20.0)   # 2 bouts / 0.1 h
    assert split["mean_bout_seconds_true"]["WAKE"] == pytest.approx(180.0)


# -- calibration ----------------------------------------------------------------------------
def _direct_ece(correct, confidence, n_bins=15):
    """Textbook ECE, one bin at a time."""
    ece = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        member = (confidence > lo) & (confidence <= hi) if b else confidence <= hi
        if member.any():
            ece += abs(correct[member].mean() - confidence[member].mean()) * member.mean()
    return ece


def test_ece_equals_direct_computation(rng):
    n = 2000
    proba = rng.dirichlet([0.5, 0.5, 0.5], size=n)
    sharper = proba ** 2 / (proba ** 2).sum(axis=1, keepdims=True)   # over-confident truth
    y_true = np.asarray(LABELS)[[rng.choice(3, p=p) for p in sharper]]
    y_pred = np.asarray(LABELS)[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    expected = _direct_ece(y_true == y_pred, confidence)
    assert expected > 0.01
    assert expected_calibration_error(y_true, proba, classes=LABELS) == pytest.approx(expected)
    scores = staging_scores(y_true, y_pred, labels=LABELS, proba=proba, classes=LABELS)
    assert scores["expected_calibration_error"] == pytest.approx(expected)
    assert scores["mean_confidence"] == pytest.approx(confidence.mean())


def test_ece_uses_confidence_of_the_given_prediction():
    # Viterbi-style prediction that is not the argmax: the confidence is proba[pred].
    proba = np.array([[0.7, 0.3, 0.0], [0.2, 0.8, 0.0]])
    y_true = np.array(["NREM", "NREM"])
    y_pred = np.array(["NREM", "NREM"])          # argmax of row 0 would be WAKE
    ece = expected_calibration_error(y_true, proba, classes=LABELS, y_pred=y_pred)
    assert ece == pytest.approx(_direct_ece(np.array([1.0, 1.0]), np.array([0.3, 0.8])))
    scores = staging_scores(y_true, y_pred, labels=LABELS, proba=proba)
    assert scores["mean_confidence"] == pytest.approx(0.55)


def test_ece_classes_order_follows_the_columns():
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    y = np.array(["REM", "WAKE"])
    # columns are (REM, WAKE): both predictions right
    assert expected_calibration_error(y, proba, classes=["REM", "WAKE"]) == pytest.approx(0.15)
    with pytest.raises(ValueError, match=r"proba must have shape \(n_epochs, 3\)"):
        staging_scores(y, y, labels=LABELS, proba=proba)


def test_errors_in_least_confident_10pct(rng):
    n = 100
    confidence = np.linspace(0.5, 0.99, n)
    proba = np.column_stack([confidence, 1 - confidence])
    y_pred = np.full(n, "WAKE")
    y_true = y_pred.copy()
    y_true[[0, 3, 7, 50]] = "NREM"              # 3 of the 4 errors in the 10 lowest
    scores = staging_scores(y_true, y_pred, labels=["WAKE", "NREM"], proba=proba,
                            classes=["WAKE", "NREM"])
    assert scores["errors_in_least_confident_10pct"] == pytest.approx(0.75)
    # ties at the cut count with the share of them that fits: 20 tied epochs, 10 selected
    tied = np.column_stack([np.full(20, 0.6), np.full(20, 0.4)])
    y_true = np.array(["WAKE"] * 19 + ["NREM"])
    assert errors_in_least_confident(y_true, tied, classes=["WAKE", "NREM"],
                                     share=0.5) == pytest.approx(0.5)
    assert np.isnan(errors_in_least_confident(y_pred, proba, classes=["WAKE", "NREM"]))


# -- F1 of absent stages, warnings ----------------------------------------------------------
def test_f1_of_a_stage_absent_from_truth_and_prediction_is_nan():
    scores = staging_scores(["WAKE", "NREM"], ["WAKE", "NREM"], labels=LABELS)
    assert scores["f1"]["WAKE"] == 1.0 and scores["f1"]["NREM"] == 1.0
    assert np.isnan(scores["f1"]["REM"])
    # present in the truth but never predicted: a real 0
    assert staging_scores(["WAKE", "REM"], ["WAKE", "WAKE"], labels=LABELS)["f1"]["REM"] == 0.0


def test_no_sklearn_warning_leaks():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # predicted stage absent from the truth ("y_pred contains classes not in y_true")
        scores = staging_scores(["WAKE", "WAKE"], ["WAKE", "REM"], labels=LABELS,
                                epoch_length=4)
        assert scores["balanced_accuracy"] == 0.5
        # one identical stage in both: kappa undefined, F1 of the others undefined
        scores = staging_scores(["NREM"] * 3, ["NREM"] * 3, labels=LABELS, epoch_length=4)
        assert np.isnan(scores["kappa"]) and scores["f1"]["NREM"] == 1.0
