import numpy as np
import pytest

from sleepstage.metrics import count_transitions, staging_scores, transitions_per_hour


def test_transitions_not_counted_across_recordings():
    y = ["W", "W", "N", "N", "R", "R"]
    assert count_transitions(y) == 2
    assert count_transitions(y, groups=[0, 0, 0, 1, 1, 1]) == 2
    assert count_transitions(y, groups=[0, 0, 1, 1, 2, 2]) == 0


def test_transitions_per_hour_uses_epoch_length():
    y = np.repeat(["W", "N"], 450)  # 900 epochs of 4 s = 1 h, one transition
    assert transitions_per_hour(y, 4.0) == pytest.approx(1.0)
    assert transitions_per_hour(y, 2.0) == pytest.approx(2.0)


def test_staging_scores_perfect_and_confusion_order():
    y = np.array(["WAKE", "NREM", "REM", "NREM"])
    scores = staging_scores(y, y, labels=["WAKE", "NREM", "REM"], epoch_length=4.0)
    assert scores["balanced_accuracy"] == 1.0
    assert scores["kappa"] == 1.0
    assert scores["f1"] == {"WAKE": 1.0, "NREM": 1.0, "REM": 1.0}
    assert scores["confusion"] == [[1, 0, 0], [0, 2, 0], [0, 0, 1]]
    assert scores["transitions_per_hour_pred"] == scores["transitions_per_hour_true"]


def test_staging_scores_chance_level():
    rng = np.random.default_rng(0)
    y = rng.integers(1, 4, 3000)
    pred = rng.integers(1, 4, 3000)
    scores = staging_scores(y, pred)
    assert abs(scores["kappa"]) < 0.05
    assert scores["balanced_accuracy"] == pytest.approx(1 / 3, abs=0.03)


def test_staging_scores_rejects_length_mismatch():
    with pytest.raises(ValueError, match="shape"):
        staging_scores([1, 2], [1, 2, 3])


def test_staging_scorer_lives_beside_the_metrics_and_parallel_re_exports_it():
    import sleepstage.metrics
    import sleepstage.parallel

    assert sleepstage.parallel.StagingScorer is sleepstage.metrics.StagingScorer
    assert sleepstage.parallel.SCORING == sleepstage.metrics.SCORING
    with pytest.raises(ValueError, match="Allowed values are 'balanced_accuracy'"):
        sleepstage.metrics.StagingScorer("auc")(None, np.zeros((2, 1)), [1, 2])


def test_staging_scores_refuse_unscored_truth_and_columns():
    with pytest.raises(ValueError, match=r"y_true holds 1 epoch\(s\) labelled 'UNSCORED'"):
        staging_scores(["WAKE", "UNSCORED", "NREM"], ["WAKE", "NREM", "NREM"])
    with pytest.raises(ValueError, match=r"must be 1-D .* shape \(2, 1\)"):
        staging_scores([[1], [2]], [[1], [2]])


def test_proba_rows_must_sum_to_one():
    with pytest.raises(ValueError, match=r"row 0 sums to 1\.8"):
        staging_scores(["W", "N"], ["W", "N"], proba=[[0.9, 0.9], [0.1, 0.9]],
                       classes=["W", "N"])
    rounded = [[0.333, 0.333, 0.333], [0.8, 0.1, 0.1]]  # as exported with 3 decimals
    assert staging_scores(["W", "N"], ["W", "W"], proba=rounded,
                          classes=["W", "N", "R"])["mean_confidence"] == pytest.approx(0.5665)
