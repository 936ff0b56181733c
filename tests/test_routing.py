"""Recording ids reach the per-recording steps through scikit-learn's metadata routing."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import get_routing_for_object

from sleepstage.features import RecordingScaler, TemporalContext
from sleepstage.models import HMMSmoother

#: (method, number of recordings seen) for every call of a spy step, in call order
CALLS: list[tuple[str, int | None]] = []


def _recordings_seen(groups) -> int | None:
    return None if groups is None else len(set(groups))


class _SpyMixin:
    """Records, in ``CALLS``, how many recordings each fit_transform/transform received."""

    _call_prefix = ""

    def fit_transform(self, X, y=None, groups=None):
        CALLS.append((f"{self._call_prefix}fit_transform", _recordings_seen(groups)))
        return super().fit_transform(X, y, groups=groups)

    def transform(self, X, groups=None):
        CALLS.append((f"{self._call_prefix}transform", _recordings_seen(groups)))
        return super().transform(X, groups=groups)


class SpyScaler(_SpyMixin, RecordingScaler):
    """RecordingScaler that records whether it received recording ids."""


class SpyContext(_SpyMixin, TemporalContext):
    """TemporalContext that records whether it received recording ids."""

    _call_prefix = "context."


class GroupsSpyClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that asks for ``groups`` in fit and keeps what it got."""

    __metadata_request__fit: ClassVar[dict[str, bool]] = {"groups": True}

    def fit(self, X, y, groups=None):
        self.groups_seen_ = groups
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def _recordings(seed=0, n_rec=4, n_bouts=12):
    """Stage bouts whose features carry a strong per-recording gain and offsets."""
    rng = np.random.default_rng(seed)
    following = {0: [1], 1: [0, 2], 2: [0]}
    X, y, groups = [], [], []
    for r in range(n_rec):
        stages = [0]
        for _ in range(n_bouts - 1):
            stages.append(rng.choice(following[stages[-1]]))
        states = np.repeat(stages, rng.integers(10, 40, n_bouts))
        signal = np.eye(3)[states] + rng.normal(scale=0.7, size=(len(states), 3))
        X.append(signal * (1 + 2 * r) + 6.0 * rng.normal(size=3))
        y.append(states + 1)
        groups.append(np.full(len(states), f"animal{r}"))
    return np.vstack(X), np.concatenate(y), np.concatenate(groups)


def _pipeline(scaler=None):
    return Pipeline([
        ("scaler", scaler if scaler is not None else RecordingScaler(min_epochs=10)),
        ("context", TemporalContext(windows=(5,), past_windows=(5,))),
        ("classifier", HMMSmoother(LogisticRegression(max_iter=500))),
    ])


def test_default_requests_need_no_set_request():
    pipe = _pipeline()
    routing = get_routing_for_object(pipe)
    for method in ("fit", "predict", "predict_proba", "score", "transform"):
        assert routing.consumes(method, ["groups"]) == {"groups"}, method
    assert get_routing_for_object(RecordingScaler()).consumes("fit_transform", ["groups"])
    assert get_routing_for_object(TemporalContext()).consumes("fit_transform", ["groups"])


def test_pipeline_fit_reaches_every_step():
    X, y, groups = _recordings()
    pipe = _pipeline()
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(X, y, groups=groups)
        pred = pipe.predict(X, groups=groups)
    assert pipe.named_steps["scaler"].n_recordings_ == 4
    hmm = pipe.named_steps["classifier"]
    assert hmm.transition_counts_.sum() == len(y) - 4  # no pair across recordings
    assert (pred == y).mean() > 0.9


def test_without_routing_and_groups_is_one_recording():
    X, y, _ = _recordings()
    pipe = _pipeline().fit(X, y)
    assert pipe.named_steps["scaler"].n_recordings_ == 1
    assert pipe.named_steps["classifier"].transition_counts_.sum() == len(y) - 1
    assert pipe.predict(X).shape == y.shape
    np.testing.assert_allclose(pipe.predict_proba(X).sum(axis=1), 1.0)


def test_cross_val_score_with_group_kfold_takes_per_recording_path():
    X, y, groups = _recordings()
    pipe = _pipeline(SpyScaler(min_epochs=10))
    cv = GroupKFold(n_splits=2)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_val_score(pipe, X, y, cv=cv, params={"groups": groups})
        routed_calls = list(CALLS)
        CALLS.clear()
        withheld = cross_val_score(pipe, X, y, cv=list(cv.split(X, y, groups)))
    # each fold: fit on 2 recordings, score (pipeline.score) on the other 2, all with ids
    assert routed_calls == [("fit_transform", 2), ("transform", 2)] * 2
    assert all(n is None for _, n in CALLS)
    # per-recording scaling removes the gain/offset that otherwise confuses the classifier
    assert routed.min() > 0.85
    assert routed.mean() > withheld.mean() + 0.2


def test_cross_validate_estimators_learned_per_recording():
    X, y, groups = _recordings()
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(_pipeline(), X, y, cv=GroupKFold(n_splits=4),
                                params={"groups": groups}, return_estimator=True)
    for fitted in result["estimator"]:
        assert fitted.named_steps["scaler"].n_recordings_ == 3
        counts = fitted.named_steps["classifier"].transition_counts_
        assert counts[0, 2] == 0  # WAKE -> REM only appears across recording boundaries


def test_grid_search_with_group_kfold():
    X, y, groups = _recordings()
    pipe = _pipeline(SpyScaler(min_epochs=10))
    search = GridSearchCV(pipe, {"classifier__pseudocount": [0.5, 2.0]}, cv=GroupKFold(2))
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, groups=groups)
    assert CALLS[-1] == ("fit_transform", 4)  # refit on all recordings
    assert all(n == 2 for _, n in CALLS[:-1])  # 2 candidates x 2 folds, fit and score
    assert len(CALLS) == 2 * 2 * 2 + 1
    assert search.best_estimator_.named_steps["scaler"].n_recordings_ == 4
    assert search.cv_results_["mean_test_score"].min() > 0.85


def test_hmm_forwards_groups_to_an_estimator_that_requests_them():
    X, y, groups = _recordings(n_rec=2)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = HMMSmoother(GroupsSpyClassifier()).fit(X, y, groups=groups)
    np.testing.assert_array_equal(routed.estimator_.groups_seen_, groups)
    plain = HMMSmoother(GroupsSpyClassifier()).fit(X, y, groups=groups)
    assert plain.estimator_.groups_seen_ is None  # routing off: groups serve the HMM only
    assert plain.transition_counts_.sum() == len(y) - 2


def test_lightgbm_inside_routed_pipeline():
    lightgbm = pytest.importorskip("lightgbm")
    X, y, groups = _recordings()
    pipe = _pipeline()
    pipe.set_params(classifier__estimator=lightgbm.LGBMClassifier(
        n_estimators=15, num_leaves=7, min_child_samples=5, verbose=-1, n_jobs=1,
        random_state=0))
    with sklearn.config_context(enable_metadata_routing=True):
        scores = cross_val_score(pipe, X, y, cv=GroupKFold(2), params={"groups": groups})
    assert scores.min() > 0.8


@pytest.mark.parametrize("scoring", [None, "staging"])
def test_default_pipeline_in_grid_search_with_group_kfold(scoring):
    """make_staging_pipeline's own steps (features -> scaler -> context -> HMM) under GridSearchCV.

    Held-out folds keep their recording ids when scored by the pipeline's own ``score``
    (``scoring=None``) or by ``StagingScorer``; a string scorer such as
    ``"balanced_accuracy"`` calls ``predict(X)`` without them (scikit-learn 1.9).
    """
    from sleepstage.data import make_synthetic
    from sleepstage.parallel import StagingScorer
    from sleepstage.pipelines import DEFAULT_CONTEXT, make_staging_pipeline

    data = make_synthetic(n_recordings=4, hours=0.1, random_state=0)  # 4 x 90 epochs
    context = SpyContext(**DEFAULT_CONTEXT, epoch_length=data.epoch_length)
    pipe = make_staging_pipeline(scaler=SpyScaler(min_epochs=10), context=context,
                         features={"n_jobs": 1}, n_estimators=10, num_leaves=7, n_jobs=1,
                         **data.layout())
    assert [name for name, _ in pipe.steps] == ["features", "scaler", "context", "classifier"]
    scorer = StagingScorer("balanced_accuracy") if scoring == "staging" else None
    search = GridSearchCV(pipe, {"classifier__pseudocount": [0.5, 2.0]}, cv=GroupKFold(2),
                          scoring=scorer)
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(data.X, data.y, groups=data.groups)
    # 2 candidates x 2 folds: fit on 2 recordings, score on the other 2; then refit on all 4
    scaler_calls = [n for name, n in CALLS if not name.startswith("context.")]
    context_calls = [n for name, n in CALLS if name.startswith("context.")]
    assert scaler_calls == context_calls == [2] * 8 + [4]
    best = search.best_estimator_
    assert best.named_steps["scaler"].n_recordings_ == 4
    names = best.named_steps["context"].get_feature_names_out()
    assert any(name.endswith("__mean_p60s") for name in names)
    assert names[-1].endswith("__lag_p4s")
    hmm = best.named_steps["classifier"]
    assert hmm.transition_counts_.sum() == data.n_epochs - 4  # no pair across recordings
    assert search.cv_results_["mean_test_score"].min() > 0.7  # sanity only: routing is the point


def _staging_pipeline(final=None):
    from sleepstage.pipelines import StagingPipeline

    return StagingPipeline([
        ("scaler", SpyScaler(min_epochs=10)),
        ("context", SpyContext(windows=(5,), past_windows=(5,))),
        ("classifier", final if final is not None else HMMSmoother(LogisticRegression(
            max_iter=500))),
    ])


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "transform"])
def test_staging_pipeline_routes_groups_with_routing_off(method):
    """A plain Pipeline without routing gives ``groups`` to its final step alone (the
    scaler and the context before it would treat every recording as one): the package's
    pipeline gives them to every step, as with routing on."""
    X, y, groups = _recordings()
    assert not sklearn.get_config()["enable_metadata_routing"]
    pipe = _staging_pipeline().fit(X, y, groups=groups)
    assert pipe.named_steps["scaler"].n_recordings_ == 4
    assert pipe.named_steps["classifier"].transition_counts_.sum() == len(y) - 4
    call = (lambda p: p.score(X, y, groups=groups)) if method == "score" else (
        lambda p: getattr(p if method != "transform" else p[:-1], method)(X, groups=groups))
    if method == "transform":  # a slice of a StagingPipeline is one too
        assert type(pipe[:-1]).__name__ == "StagingPipeline"
    CALLS.clear()
    off = call(pipe)
    assert CALLS == [("transform", 4), ("context.transform", 4)]
    with sklearn.config_context(enable_metadata_routing=True):
        on = call(pipe)
    np.testing.assert_array_equal(off, on)
    if method != "transform":  # what the subclass prevents: a plain Pipeline, routing off
        CALLS.clear()
        call(Pipeline(pipe.steps))
        assert CALLS == [("transform", None), ("context.transform", None)]


def test_staging_pipeline_offers_the_methods_its_final_step_has():
    from sklearn.svm import LinearSVC

    pipe = _staging_pipeline(LinearSVC())
    assert not hasattr(pipe, "predict_proba") and not hasattr(pipe, "transform")
    assert hasattr(pipe, "decision_function") and hasattr(pipe, "predict")
    X, y, groups = _recordings()
    assert pipe.fit(X, y, groups=groups).decision_function(X, groups=groups).shape == (len(y), 3)


def test_staging_pipeline_refuses_unscored_labels():
    X, y, groups = _recordings()
    labels = np.where(y == 1, "WAKE", np.where(y == 2, "NREM", "REM")).astype(object)
    labels[5:8] = "UNSCORED"
    with pytest.raises(ValueError, match=r"y holds 3 epoch\(s\) labelled 'UNSCORED'"):
        _staging_pipeline().fit(X, labels, groups=groups)
    with pytest.raises(ValueError, match="UNSCORED"):
        _staging_pipeline().fit(X, y=labels)


def test_staging_pipeline_refuses_groups_with_other_metadata_without_routing():
    """Without routing scikit-learn would give sample_weight (and groups) to the final step
    alone: refused by name instead of a half-routed call."""
    X, y, groups = _recordings()
    pipe = _staging_pipeline(HMMSmoother(LogisticRegression(max_iter=500)))
    with pytest.raises(ValueError, match=r"fit was given groups together with "
                                         r"\['classifier__sample_weight'\]"):
        pipe.fit(X, y, groups=groups, classifier__sample_weight=np.ones(len(y)))
    pipe.fit(X, y, groups=groups)
    for call in (lambda: pipe.score(X, y, np.ones(len(y)), groups=groups),
                 lambda: pipe.score(X, y, sample_weight=np.ones(len(y)), groups=groups)):
        with pytest.raises(ValueError, match=r"score was given groups together with "
                                             r"\['sample_weight'\]"):
            call()
    assert 0 <= pipe.score(X, y=y, groups=groups) <= 1
