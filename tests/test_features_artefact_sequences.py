"""Artefact epochs left out of training never join their neighbours in time.

A stretch of flagged epochs between two stages must not become a transition between those
stages, and the temporal context of the epochs around it must be the one they get at predict
time (computed over the true sequence), whichever fitting function is used.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from sleepstage._internal.groups import cut_recordings
from sleepstage.data import EpochData, make_synthetic
from sleepstage.features import detect_artefacts
from sleepstage.models import HMMSmoother
from sleepstage.parallel import fit_pipeline, grid_search
from sleepstage.pipelines import fit_with_groups, make_staging_pipeline, predict_with_groups

WAKE, NREM, REM = "WAKE", "NREM", "REM"


class FeatureRecorder(ClassifierMixin, BaseEstimator):
    """Test double: remembers the rows it was fitted on; predicts the training stage mix."""

    def fit(self, X, y):
        self.X_fit_, self.classes_ = np.asarray(X), np.unique(y)
        self.prior_ = np.array([(np.asarray(y) == c).mean() for c in self.classes_])
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.fixture(scope="module")
def flagged_recording():
    """Two recordings; in "a", a flat (flagged) stretch of NREM separates WAKE from REM.

    Mice never go from WAKE to REM directly, and no such pair occurs in the labels.
    """
    source = make_synthetic(n_recordings=1, hours=1, random_state=0)
    clean = ~detect_artefacts(source.X, **source.layout())["artefact"].to_numpy()
    rng = np.random.default_rng(0)
    bouts = {"a": [(WAKE, 60), (NREM, 12), (REM, 30), (WAKE, 40), (NREM, 60), (REM, 20),
                   (WAKE, 30)],
             "b": [(NREM, 50), (REM, 20), (WAKE, 40), (NREM, 40)]}
    index, groups = [], []
    for recording, parts in bouts.items():
        for stage, length in parts:
            index.append(rng.choice(np.flatnonzero(clean & (source.y == stage)), length))
            groups += [recording] * length
    index = np.concatenate(index)
    X, y = source.X[index].copy(), source.y[index]
    flat = np.arange(60, 72)  # the NREM bout of recording "a"
    X[flat] = 0.0
    data = EpochData(X=X, y=y, groups=np.array(groups), **source.layout())
    flagged = detect_artefacts(data.X, data.groups, **data.layout())["artefact"].to_numpy()
    np.testing.assert_array_equal(np.flatnonzero(flagged), flat)
    return data, flagged


def _pipeline(data, estimator):
    return make_staging_pipeline(**data.layout(), scaler=False, n_estimators=5, n_jobs=1,
                         features={"n_jobs": 1}).set_params(classifier=estimator)


def _fit(how, pipeline, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # short recordings, few epochs
        if how == "fit_with_groups":
            return fit_with_groups(pipeline, data.X, data.y, data.groups)
        return fit_pipeline(pipeline, data, n_jobs=1)


@pytest.mark.parametrize("how", ["fit_with_groups", "fit_pipeline"])
def test_no_transition_across_left_out_epochs(flagged_recording, how):
    data, _ = flagged_recording
    hmm = HMMSmoother(FeatureRecorder(), priors="uniform", unseen_pseudocount=0.0)
    model = _fit(how, _pipeline(data, hmm), data)
    fitted = model.named_steps["classifier"]
    wake, rem = (list(fitted.classes_).index(stage) for stage in (WAKE, REM))
    assert fitted.transition_counts_[wake, rem] == 0
    assert fitted.transmat_[wake, rem] == 0.0  # stays forbidden
    assert fitted.transition_counts_.sum() == len(data.y) - 12 - 2 - 1  # pairs within pieces


#: transition counts learnt by every CountingHMM.fit, in call order
COUNTS: list[np.ndarray] = []


class CountingHMM(HMMSmoother):
    """HMMSmoother that keeps the transition counts of each of its fits."""

    def fit(self, X, y, groups=None, **fit_params):
        super().fit(X, y, groups=groups, **fit_params)
        COUNTS.append(self.transition_counts_)
        return self


def test_grid_search_folds_count_no_transition_across_left_out_epochs(flagged_recording):
    data, _ = flagged_recording
    hmm = CountingHMM(FeatureRecorder(), priors="uniform", unseen_pseudocount=0.0)
    COUNTS.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search = grid_search(_pipeline(data, hmm), data, {"classifier__pseudocount": [1.0]},
                             cv="recording")
    assert len(COUNTS) == 3  # two folds and the refit
    wake, rem = (search.best_estimator_.classes_.tolist().index(s) for s in (WAKE, REM))
    assert all(counts[wake, rem] == 0 for counts in COUNTS)


@pytest.mark.parametrize("how", ["fit_with_groups", "fit_pipeline"])
def test_context_of_kept_epochs_is_computed_over_the_true_sequence(flagged_recording, how):
    data, flagged = flagged_recording
    model = _fit(how, _pipeline(data, FeatureRecorder()), data)
    trained_on = model.named_steps["classifier"].X_fit_
    # the rows the classifier learnt from are the ones predict computes for those epochs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = predict_with_groups(model[:-1], data.X, data.groups,
                                       method="transform")[~flagged]
    assert trained_on.shape == expected.shape
    np.testing.assert_allclose(trained_on, expected, rtol=1e-6)


def test_cut_recordings_gives_each_uninterrupted_stretch_its_own_id():
    groups = np.array([7, 7, 7, 7, 7, 8, 8, 8, 9, 9])
    keep = np.array([1, 0, 1, 1, 0, 0, 1, 1, 1, 1], dtype=bool)
    assert cut_recordings(groups, keep).tolist() == [
        "7/part0", "7/part1", "7/part1", "8", "8", "9", "9"]
    edges = np.array([0, 1, 1, 1, 1, 1, 1, 0, 1, 1], dtype=bool)  # a start and an end
    np.testing.assert_array_equal(cut_recordings(groups, edges), groups[edges])
    assert cut_recordings(None, np.ones(4, dtype=bool)) is None
    assert cut_recordings(None, np.array([1, 0, 0, 1, 1], dtype=bool)).tolist() == [0, 1, 1]


def test_cached_pipeline_keeps_its_fitted_steps(tmp_path):
    """With ``memory=``, a slice of a pipeline fits clones of its steps: every fitted step
    must still end up in the pipeline that was given."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    from sleepstage.pipelines import fit_kept_epochs

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.tile([1, 2], 30)
    keep = np.ones(60, dtype=bool)
    keep[10:12] = False
    pipe = Pipeline([("standard", StandardScaler()), ("minmax", MinMaxScaler()),
                     ("logreg", LogisticRegression())], memory=str(tmp_path))
    fit_kept_epochs(pipe, X, y, None, keep)
    assert hasattr(pipe.named_steps["standard"], "mean_")
    assert hasattr(pipe.named_steps["minmax"], "data_min_")
    assert pipe.predict(X).shape == (60,)
