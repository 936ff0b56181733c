"""``sleepstage.pipelines.adapt`` and ``sleepstage.metrics.review_epochs``.

Synthetic mice as feature matrices (the features computed once per module): fit on three
animals, score a fourth and a fifth, review their least confident epochs, adapt with the
true stages, rescore. Adaptation must never lower the accuracy on the epochs not reviewed;
the labelled epochs carry their label; the input pipeline is untouched; every bad label is
refused with a message naming it.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from sleepstage.data import make_synthetic
from sleepstage.features import EpochFeatures
from sleepstage.metrics import review_epochs
from sleepstage.pipelines import (
    AdaptedStager,
    adapt,
    fit_with_groups,
    make_staging_pipeline,
    predict_with_groups,
)


@pytest.fixture(scope="module")
def mice():
    """A fitted feature-matrix pipeline and two new synthetic animals (features, stages)."""
    train = make_synthetic(n_recordings=3, hours=1.0, random_state=0)
    features = EpochFeatures(**train.layout(), n_jobs=1)
    # no per-recording scaler: its first-pass classifier would make every prediction slow
    model = make_staging_pipeline(features=False, epoch_length=train.epoch_length,
                                  scaler=False, n_estimators=30, num_leaves=7, n_jobs=1,
                                  random_state=0)
    fit_with_groups(model, features.fit_transform(train.flat()), train.y, train.groups)
    new = []
    for seed in (11, 12):
        animal = make_synthetic(n_recordings=1, hours=0.75, random_state=seed)
        new.append((features.transform(animal.flat()), np.asarray(animal.y)))
    return model, new


def _confidence(model, X):
    proba = model.predict_proba(X)
    pred = model.predict(X)
    return proba[np.arange(len(pred)), pd.Index(model.classes_).get_indexer(pred)]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Stage.*fewer than:UserWarning")
@pytest.mark.parametrize("n", [20, 60])  # 3 % and 9 % of a 45-min recording reviewed
def test_adaptation_never_lowers_accuracy_on_the_epochs_not_reviewed(mice, n):
    model, new = mice
    for X, y in new:
        pick = review_epochs(_confidence(model, X), n=n)
        rest = np.ones(len(y), dtype=bool)
        rest[pick] = False
        before = balanced_accuracy_score(y[rest], model.predict(X)[rest])
        adapted = adapt(model, X, {int(i): y[i] for i in pick})
        after = balanced_accuracy_score(y[rest], adapted.predict(X)[rest])
        assert after >= before - 1e-12, (n, before, after)


def test_adapt_returns_a_new_pipeline_and_leaves_the_input_alone(mice):
    model, [(X, _), _] = mice
    pred = model.predict(X)
    proba = model.predict_proba(X)
    labels = {5: "REM", 6: "REM", 100: "WAKE"}
    with pytest.warns(UserWarning, match="Fewer than 2 stages have 5 or more"):
        adapted = adapt(model, X, labels, recording_model=False)  # quicker
    assert adapted is not model and adapted[-1] is not model[-1]
    assert isinstance(adapted[-1], AdaptedStager)
    np.testing.assert_array_equal(model.predict(X), pred)
    np.testing.assert_allclose(model.predict_proba(X), proba)
    assert not isinstance(model[-1], AdaptedStager)
    # the labelled epochs carry their label, with probability 1
    out, out_proba = adapted.predict(X), adapted.predict_proba(X)
    assert [out[i] for i in labels] == list(labels.values())
    column = {c: k for k, c in enumerate(adapted.classes_)}
    assert all(out_proba[i, column[s]] == 1.0 for i, s in labels.items())
    np.testing.assert_allclose(out_proba.sum(axis=1), 1.0)
    assert list(adapted.classes_) == list(model.classes_)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Stage.*fewer than:UserWarning")
def test_adapted_pipeline_records_what_it_did_and_pickles(mice):
    model, [(X, y), _] = mice
    pick = review_epochs(_confidence(model, X), n=60)
    adapted = adapt(model, X, {int(i): y[i] for i in pick})
    record = adapted[-1].adaptation_
    assert record["n_labels"] == 60
    assert sum(record["labels_per_stage"].values()) == 60
    assert "labelled epochs held" in record["method"]
    assert set(record["recording_model_check"]) == {
        "held_out_loss_without", "held_out_loss_with", "held_out_balanced_accuracy_without",
        "held_out_balanced_accuracy_with"}
    assert set(record["bias"]) == {str(c) for c in model.classes_}
    again = pickle.loads(pickle.dumps(adapted))
    np.testing.assert_array_equal(again.predict(X), adapted.predict(X))


def test_labels_hold_only_in_the_recording_they_came_from(mice):
    model, [(X, _), (X2, _)] = mice
    n = min(len(X), len(X2))
    wrong = {i: "REM" for i in range(0, 200, 2)}  # deliberately wrong labels
    adapted = adapt(model, X[:n], wrong, recording_model=False, bias=False)
    assert all(adapted.predict(X[:n])[i] == "REM" for i in wrong)
    # another animal of the same length: same positions are not forced
    np.testing.assert_array_equal(adapted.predict(X2[:n]), model.predict(X2[:n]))


def test_adapt_with_groups_holds_labels_in_each_recording(mice):
    model, [(X, _), (X2, _)] = mice
    both = np.vstack([X, X2])
    groups = np.repeat(["a", "b"], [len(X), len(X2)])
    labels = {3: "WAKE", len(X) + 7: "REM"}
    adapted = adapt(model, both, labels, groups, recording_model=False, bias=False)
    pred = predict_with_groups(adapted, both, groups)
    assert pred[3] == "WAKE" and pred[len(X) + 7] == "REM"
    assert adapted[-1].adaptation_["recordings"] == ["a", "b"]
    # the second recording alone, under its id: still recognised
    alone = predict_with_groups(adapted, X2, np.full(len(X2), "b"))
    assert alone[7] == "REM"


def test_too_few_labels_of_a_stage_warn_and_leave_it_uncorrected(mice):
    model, [(X, y), _] = mice
    nrem = np.flatnonzero(y == "NREM")[:10]
    wake = np.flatnonzero(y == "WAKE")[:10]
    labels = {int(i): y[i] for i in np.r_[nrem, wake]}
    labels[int(np.flatnonzero(y == "REM")[0])] = "REM"
    with pytest.warns(UserWarning, match=r"\['REM'\] have fewer than 5 labelled epochs"):
        adapted = adapt(model, X, labels, recording_model=False)
    step = adapted[-1]
    assert step.adaptation_["stages_not_corrected"] == ["REM"]
    assert step.bias_.any()  # the other two stages are corrected


@pytest.mark.parametrize(("labels", "message"), [
    ({3: "N2"}, r"Unknown stage\(s\) \['N2'\].*stages are"),
    ({10**6: "WAKE"}, r"1 labelled epoch\(s\) do not exist: indices \[1000000\]"),
    ({-1: "WAKE"}, r"do not exist: indices \[-1\]"),
    (pd.Series(["WAKE", "NREM"], index=[4, 4]), r"Epoch\(s\) \[4\] are labelled more than once"),
    ({}, "No labelled epoch"),
    ({2.5: "WAKE"}, "integer row positions"),
    ({3: None}, r"Epoch\(s\) \[3\] have no stage"),
    ([("WAKE")], "must be a mapping"),
])
def test_bad_labels_are_refused_naming_them(mice, labels, message):
    model, [(X, _), _] = mice
    with pytest.raises((ValueError, TypeError), match=message):
        adapt(model, X, labels)


def test_bad_parameters_are_refused(mice):
    model, [(X, _), _] = mice
    with pytest.raises(ValueError, match="'recording_weight' parameter must be a number in"):
        adapt(model, X, {0: "WAKE"}, recording_weight=2)
    with pytest.raises(ValueError, match="'clamp' parameter must be True or False"):
        adapt(model, X, {0: "WAKE"}, clamp="yes")


def test_a_clone_of_an_adapted_stager_says_why_it_cannot_be_refitted(mice):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    model, [(X, y), _] = mice
    adapted = adapt(model, X, {i: y[i] for i in range(0, 600, 20)})
    with pytest.raises(NotFittedError, match=r"AdaptedStager corrects a fitted stager, but "
                                             r"its estimator \(HMMSmoother\) is not fitted"):
        clone(adapted[-1]).fit(adapted[:-1].transform(X), y)


# -- review_epochs ------------------------------------------------------------------------------
def test_review_lists_the_n_least_confident_lowest_first():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.3, 1.0, 500)
    rows = review_epochs(confidence, n=40)
    assert rows.size == 40 and np.unique(rows).size == 40
    assert np.all(np.diff(confidence[rows]) >= 0)
    assert confidence[rows].max() <= np.sort(confidence)[39]
    assert review_epochs(confidence, n=900).size == 500  # all of them, no more
    assert review_epochs(confidence, n=0).size == 0


def test_review_picks_n_per_recording():
    confidence = np.r_[np.linspace(0.5, 1, 10), np.linspace(0.9, 1, 10)]
    groups = np.repeat(["a", "b"], 10)
    rows = review_epochs(confidence, n=3, groups=groups)
    assert sorted(rows.tolist()) == [0, 1, 2, 10, 11, 12]
    assert np.all(np.diff(confidence[rows]) >= 0)


def test_review_minutes_picks_whole_non_overlapping_stretches():
    confidence = np.full(300, 0.99)
    confidence[40:55] = 0.5  # the least confident minute (15 epochs of 4 s)
    confidence[200:215] = 0.6
    rows = review_epochs(confidence, minutes=2, epoch_length=4)
    assert rows.size == 30 and np.unique(rows).size == 30
    assert rows[:15].tolist() == list(range(40, 55))
    assert rows[15:].tolist() == list(range(200, 215))
    # stretches never cross a recording boundary
    groups = np.repeat(["a", "b"], [45, 255])
    rows = review_epochs(confidence, minutes=1, epoch_length=4, groups=groups)
    for start in range(0, rows.size, 15):
        stretch = rows[start:start + 15]
        assert np.all(np.diff(stretch) == 1)
        assert len(set(groups[stretch])) == 1


def test_review_minutes_beyond_the_recording_lists_every_epoch():
    # 40 epochs, stretches of 15: the best two whole stretches leave runs shorter than 15
    confidence = np.linspace(0.4, 0.99, 40)
    confidence[10:25] = 0.3
    rows = review_epochs(confidence, minutes=100, epoch_length=4)
    assert sorted(rows.tolist()) == list(range(40))  # the recording is used up
    assert rows[:15].tolist() == list(range(10, 25))  # the whole stretches first
    assert rows[15:30].tolist() == list(range(25, 40))
    assert rows[30:].tolist() == list(range(0, 10))  # then the run left between them
    # only as much as asked for: one 4-s epoch more than the whole stretches
    rows = review_epochs(confidence, minutes=31 * 4 / 60, epoch_length=4)
    assert rows.size == 40 and rows[30:].tolist() == list(range(0, 10))
    # with several recordings, each one is used up on its own
    rows = review_epochs(np.r_[confidence, confidence], minutes=100, epoch_length=4,
                         groups=np.repeat(["a", "b"], 40))
    assert sorted(rows.tolist()) == list(range(80))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "not neither"),
    ({"n": 3, "minutes": 1.0, "epoch_length": 4}, "not both"),
    ({"n": -1}, "n must be an integer >= 0"),
    ({"minutes": 1.0}, "positive epoch_length"),
    ({"minutes": -1.0, "epoch_length": 4}, "minutes must be a number >= 0"),
])
def test_review_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        review_epochs(np.ones(10), **kwargs)
    with pytest.raises(ValueError, match="NaN at epoch"):
        review_epochs([0.5, np.nan], n=1)


def test_hmm_decode_of_the_classifier_probabilities_is_predict(mice):
    model, [(X, _), _] = mice
    hmm, Xt = model[-1], model[:-1].transform(X)
    proba = hmm.estimator_.predict_proba(Xt)
    np.testing.assert_array_equal(hmm.decode(proba), hmm.predict(Xt))
    np.testing.assert_allclose(hmm.decode(proba, posteriors=True), hmm.predict_proba(Xt))
    labels, posteriors = hmm.decode_and_proba(proba)
    np.testing.assert_array_equal(labels, hmm.decode(proba))
    np.testing.assert_array_equal(posteriors, hmm.decode(proba, posteriors=True))
    with pytest.raises(ValueError, match="proba has shape"):
        hmm.decode(proba[:, :2])
    with pytest.raises(ValueError, match="proba has shape"):
        hmm.decode_and_proba(proba[:, :2])


def test_adapted_predict_and_proba_is_predict_and_predict_proba(mice):
    model, [(X, y), _] = mice
    adapted = adapt(model, X, {3: y[3], 50: y[50]}, recording_model=False, bias=False)
    stager, Xt = adapted[-1], adapted[:-1].transform(X)
    pred, proba = stager.predict_and_proba(Xt)
    np.testing.assert_array_equal(pred, stager.predict(Xt))
    np.testing.assert_array_equal(proba, stager.predict_proba(Xt))
    assert isinstance(stager, AdaptedStager) and pred[3] == y[3]



def test_scores_computed_a_block_of_rows_at_a_time_are_the_same(mice, monkeypatch):
    from lightgbm import LGBMClassifier

    from sleepstage._internal import rows as _rows
    from sleepstage.pipelines import _adapt

    model, [(X, y), _] = mice
    adapted = adapt(model, X, {3: y[3], 50: y[50]}, recording_model=False, bias=False)
    stager, Xt = adapted[-1], adapted[:-1].transform(X)
    codes = pd.Index(stager.classes_).get_indexer(y)
    own = LGBMClassifier(n_estimators=5, num_leaves=7, verbose=-1, n_jobs=1).fit(Xt, codes)
    expected = stager.predict_and_proba(Xt), _adapt._full_proba(own, Xt, 3)
    monkeypatch.setattr(_rows, "SCORE_ROWS", 100)  # classifiers scored 100 rows at a time
    assert len(Xt) > 100
    (pred, proba), full = stager.predict_and_proba(Xt), _adapt._full_proba(own, Xt, 3)
    np.testing.assert_array_equal(pred, expected[0][0])
    np.testing.assert_array_equal(proba, expected[0][1])
    np.testing.assert_array_equal(full, expected[1])
