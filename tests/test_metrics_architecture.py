"""Sleep-architecture and calibration scores: hand-counted hypnograms, direct computations."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from _cli_runner import run_main

from sleepstage.data import make_synthetic
from sleepstage.demo import _row
from sleepstage.metrics import (
    errors_in_least_confident,
    expected_calibration_error,
    sleep_architecture,
    stage_bouts,
    staging_scores,
)
from sleepstage.pipelines import (
    CVReport,
    cross_validate_recordings,
    fit_with_groups,
    make_staging_pipeline,
    predict_with_groups,
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


# -- cross-validation: per fold, per recording, pooled ---------------------------------------
FAST = {"n_estimators": 10, "num_leaves": 7, "n_jobs": 1}


@pytest.fixture(scope="module")
def synthetic():
    """Three synthetic animals of 30 min (450 epochs of 4 s each); animal 0 has no REM."""
    return make_synthetic(n_recordings=3, hours=0.5, random_state=0)


@pytest.fixture(scope="module")
def report(synthetic):
    return cross_validate_recordings(make_staging_pipeline(**FAST), synthetic,
                                     return_predictions=True)


def test_cv_pooled_equals_direct_computation_on_held_out_epochs(synthetic, report):
    data, labels = synthetic, report.labels
    predictions = np.empty(data.n_epochs, dtype=data.y.dtype)
    probabilities = np.empty((data.n_epochs, len(labels)))
    for recording in data.recordings:                     # leave one animal out, by hand
        test = data.groups == recording
        model = fit_with_groups(make_staging_pipeline(**FAST), data.X[~test], data.y[~test],
                                data.groups[~test], layout=data.layout())
        predictions[test] = predict_with_groups(model, data.X[test], data.groups[test])
        proba = predict_with_groups(model, data.X[test], data.groups[test],
                                    method="predict_proba")
        assert list(model.classes_) == labels
        probabilities[test] = proba
    np.testing.assert_array_equal(report.predictions, predictions)   # predict, not argmax
    np.testing.assert_allclose(report.probabilities, probabilities)
    direct = staging_scores(data.y, predictions, labels=labels, groups=data.groups,
                            epoch_length=data.epoch_length, proba=probabilities)
    assert set(direct) <= set(report.overall)
    for key, value in direct.items():
        if key in ("confusion", "labels"):
            assert report.overall[key] == value
        else:
            assert report.overall[key] == pytest.approx(value, nan_ok=True), key
    assert report.pooled("expected_calibration_error") == direct["expected_calibration_error"]
    assert report.pooled("percent_time_error_REM") == direct["percent_time_error"]["REM"]
    for rec in report.recordings:
        test = data.groups == rec["recording"]
        one = staging_scores(data.y[test], predictions[test], labels=labels,
                             epoch_length=data.epoch_length, proba=probabilities[test])
        assert rec["kappa"] == pytest.approx(one["kappa"])
        assert rec["bouts_per_hour_pred"] == pytest.approx(one["bouts_per_hour_pred"])
        assert rec["errors_in_least_confident_10pct"] == pytest.approx(
            one["errors_in_least_confident_10pct"], nan_ok=True)


def test_cv_headline_numbers_are_pooled(report):
    summary = report.summary()
    pooled = summary.iloc[-1]
    assert pooled["fold"] == "pooled" and len(summary) == len(report.folds) + 1
    assert pooled["balanced_accuracy"] == report.overall["balanced_accuracy"]
    assert pooled["transitions_per_hour_pred"] == report.overall["transitions_per_hour_pred"]
    by_recording = report.summary(by="recording")
    assert by_recording.recording.tolist() == ["synthetic-0", "synthetic-1",
                                               "synthetic-2", "pooled"]
    as_dict = report.to_dict()
    assert as_dict["overall"] is report.overall and len(as_dict["recordings"]) == 3
    assert as_dict["mean_over_folds"]["kappa"] == pytest.approx(report.mean("kappa"))
    text = str(report)
    assert f"pooled: balanced accuracy {report.overall['balanced_accuracy']:.3f}" in text
    assert "% time error (points)" in text and "ECE" in text
    for key in ("expected_calibration_error", "mean_confidence",
                "errors_in_least_confident_10pct", "transitions_per_hour_true"):
        assert np.isfinite(report.overall[key]), key


def test_cv_mean_skips_folds_without_a_stage():
    labels = ["WAKE", "NREM", "REM"]
    with_rem = staging_scores(["WAKE", "REM", "NREM"], ["WAKE", "NREM", "NREM"], labels=labels)
    without_rem = staging_scores(["WAKE", "NREM"], ["WAKE", "NREM"], labels=labels)
    assert np.isnan(without_rem["f1"]["REM"])
    folds = [{**scores, "fold": k, "test_recordings": [k], "fit_seconds": 1.0,
              "predict_seconds": 0.1} for k, scores in enumerate([with_rem, without_rem])]
    report = CVReport(folds=folds, overall=with_rem, labels=labels, cv="recording")
    assert report.mean("f1_REM") == 0.0                  # only the fold that has REM
    assert report.mean("f1_WAKE") == 1.0
    assert report.to_dict()["mean_over_folds"]["f1_REM"] == 0.0
    with pytest.raises(KeyError, match="No per-fold score 'f1_N1'"):
        report.mean("f1_N1")


def test_evaluate_command_reports_architecture_and_calibration(capsys, tmp_path):
    out = tmp_path / "eval.json"
    status, stdout, err = run_main(
        capsys, "evaluate", "--synthetic", "2", "--hours", "0.25", "--set", "n_jobs=1",
        "--set", "n_estimators=10", "--set", "num_leaves=7", "-o", out)
    assert status == 0, err
    assert "%time err WAKE" in stdout and "pooled: balanced accuracy" in stdout
    assert "errors among the 10 % least confident epochs" in stdout
    results = json.loads(out.read_text())
    assert [rec["recording"] for rec in results["recordings"]] == ["synthetic-0",
                                                                    "synthetic-1"]
    for scores in (results["overall"], *results["recordings"]):
        for key in ("percent_time_true", "percent_time_pred", "percent_time_error",
                    "bouts_per_hour_true", "bouts_per_hour_pred", "mean_bout_seconds_true",
                    "mean_bout_seconds_pred"):
            assert set(scores[key]) == set(results["labels"]), key
        for key in ("transitions_per_hour_true", "transitions_per_hour_pred",
                    "expected_calibration_error", "mean_confidence"):
            assert isinstance(scores[key], float), key
    assert "errors_in_least_confident_10pct" in results["overall"]
    assert "balanced_accuracy" in results["mean_over_folds"]


def test_demo_table_reports_pooled_scores(synthetic, report):
    row = _row("synthetic", synthetic, report, seconds=0.0)
    assert row["balanced acc"] == report.overall["balanced_accuracy"]
    for label in report.labels:
        assert row[f"F1 {label}"] == report.overall["f1"][label]
        assert row[f"% time err {label}"] == report.overall["percent_time_error"][label]
    assert row["ECE"] == report.overall["expected_calibration_error"]
    assert row["trans/h pred"] == report.overall["transitions_per_hour_pred"]
    assert row["F1 WAKE"] != pytest.approx(report.mean("f1_WAKE"))   # not the fold mean


def test_predict_command_does_not_leak_sklearn_warnings(capsys, tmp_path, monkeypatch):
    from sleepstage._internal import routing

    model = tmp_path / "mice.joblib"
    status, _, err = run_main(capsys, "fit", "--synthetic", "2", "--hours", "0.5", "--set",
                              "n_jobs=1", "--set", "n_estimators=5", "--set", "num_leaves=4",
                              "-o", model)
    assert status == 0, err
    real = routing.predict_and_proba  # what predict calls for each recording

    def all_rem(estimator, X, groups=None):
        _, proba = real(estimator, X, groups)
        return np.full(len(X), "REM"), proba

    monkeypatch.setattr(routing, "predict_and_proba", all_rem)
    with warnings.catch_warnings(record=True) as caught:      # scored: NREM and WAKE only
        warnings.simplefilter("always")
        status, out, err = run_main(capsys, "predict", model, "--synthetic", "1", "--seed",
                                    "1", "--hours", "0.05", "-o", tmp_path / "scored")
    assert status == 0, err
    assert "balanced accuracy 0.000" in out
    messages = [str(w.message) for w in caught] + [err]
    assert not any("y_pred contains classes" in m for m in messages), messages


def test_proba_checked_with_rounding_tolerance():
    y = ["WAKE", "NREM"]
    rounded = np.array([[1 + 2e-16, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(y, rounded, classes=y) == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"finite probabilities in \[0, 1\]"):
        expected_calibration_error(y, [[1.5, -0.5], [0.0, 1.0]], classes=y)
    with pytest.raises(ValueError, match=r"Predicted stage\(s\) \['REM'\] have no column"):
        staging_scores(y, ["WAKE", "REM"], labels=LABELS, proba=rounded, classes=y)


# ----------------------------------------------------------------------------------------------
# merge_short_bouts (minimum bout length)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("y", "min_bout", "expected"), [
    ("WWNWW", 2, "WWWWW"),          # same stage on both sides: the three merge
    ("WWNRRR", 2, "WWRRRR"),        # different sides: the longer neighbour takes it
    ("WWNRR", 2, "WWWRR"),          # a tie: the earlier neighbour
    ("NWWWW", 2, "WWWWW"),          # recording edge: its only neighbour
    ("WNRWWWW", 3, "WWWWWWW"),      # shortest first; the merged run is queued again
    ("WWNNRRRR", 1, "WWNNRRRR"),    # 1 changes nothing
])
def test_merge_short_bouts_hand_counted(y, min_bout, expected):
    from sleepstage.metrics import merge_short_bouts

    assert "".join(merge_short_bouts(list(y), min_bout)) == expected


def test_merge_short_bouts_keeps_unscored_and_recording_boundaries():
    from sleepstage.metrics import merge_short_bouts

    y = ["W", "W", "U", "N", "U", "R", "R", "R", "N", "W", "W"]
    out = merge_short_bouts(y, 2, unscored="U").tolist()
    # the unscored epochs stay; N between two of them has no scored neighbour and stays;
    # the N before W W (other recording) can only join R R R of its own recording
    assert out == ["W", "W", "U", "N", "U", "R", "R", "R", "R", "W", "W"]
    groups = [0] * 9 + [1] * 2
    assert merge_short_bouts(y, 2, unscored="U", groups=groups).tolist() == out
    alone = merge_short_bouts(["W", "W", "N", "R", "R"], 2, groups=[0, 0, 1, 2, 2])
    assert alone.tolist() == ["W", "W", "N", "R", "R"]  # a one-epoch recording stays


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_merge_short_bouts_rejects_bad_min_bout(bad):
    from sleepstage.metrics import merge_short_bouts

    with pytest.raises(ValueError, match="'min_bout' parameter must be an integer >= 1"):
        merge_short_bouts(["W", "N"], bad)
