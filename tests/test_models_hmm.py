"""HMMSmoother: learned stage transitions, Viterbi and forward-backward decoding.

scikit-learn's estimator checks run in ``tests/test_estimator_checks.py``."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from sleepstage.models import HMMSmoother

#: Mouse-like chain over WAKE=1, NREM=2, REM=3: no WAKE -> REM, no REM -> NREM.
MOUSE_TRANSITIONS = np.array([
    [0.97, 0.03, 0.00],
    [0.02, 0.96, 0.02],
    [0.08, 0.00, 0.92],
])


class ProbaPassthrough(ClassifierMixin, BaseEstimator):
    """Test double: its input columns are the class probabilities it "predicts".

    They are made up without the class priors, like a classifier trained with balanced class
    weights, hence ``priors="uniform"`` in the tests that use it.
    """

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        return X / X.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def _chain(rng, n, trans=MOUSE_TRANSITIONS):
    states = np.empty(n, dtype=int)
    states[0] = 0
    for t in range(1, n):
        states[t] = rng.choice(len(trans), p=trans[states[t - 1]])
    return states


def _one_hot_proba(states, n_classes=3, high=0.6):
    proba = np.full((len(states), n_classes), (1 - high) / (n_classes - 1))
    proba[np.arange(len(states)), states] = high
    return proba


def _within_pairs(path, groups):
    keep = groups[1:] == groups[:-1]
    return path[:-1][keep], path[1:][keep]


def test_transitions_counted_within_recordings():
    y = np.array([1, 1, 2, 2, 3, 3, 1, 1])
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    X = _one_hot_proba(y - 1)
    hmm = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(X, y, groups=groups)
    np.testing.assert_array_equal(hmm.transition_counts_, [[2, 1, 0], [0, 1, 0], [1, 0, 1]])
    as_one = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(X, y)
    assert as_one.transition_counts_[1, 2] == 1  # 2 -> 3 across the boundary


def test_pseudocount_only_on_seen_transitions_and_diagonal(rng):
    y = _chain(rng, 3000) + 1
    X = _one_hot_proba(y - 1)
    hmm = HMMSmoother(ProbaPassthrough(), pseudocount=2.0, priors="uniform").fit(X, y)
    counts = hmm.transition_counts_
    assert counts[0, 2] == 0 and counts[2, 1] == 0  # WAKE -> REM, REM -> NREM never seen
    assert hmm.transmat_[0, 2] == 0.0 and hmm.transmat_[2, 1] == 0.0
    expected = (counts + 2.0 * ((counts > 0) | np.eye(3, dtype=bool)))
    np.testing.assert_allclose(hmm.transmat_, expected / expected.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(hmm.transmat_.sum(axis=1), 1.0)
    soft = HMMSmoother(ProbaPassthrough(), unseen_pseudocount=1e-3, priors="uniform").fit(X, y)
    assert 0 < soft.transmat_[0, 2] < 1e-5


def _bouts(rng, n_bouts, min_len=10, max_len=60):
    """Stage sequence of bouts (10-60 epochs) following the allowed mouse transitions."""
    following = {0: [1], 1: [0, 2], 2: [0]}
    stages = [0]
    for _ in range(n_bouts - 1):
        stages.append(rng.choice(following[stages[-1]]))
    return np.repeat(stages, rng.integers(min_len, max_len + 1, n_bouts))


def test_isolated_flips_are_recovered(rng):
    parts = [_bouts(rng, 25), _bouts(rng, 15)]
    truth = np.concatenate(parts)
    groups = np.repeat([0, 1], [len(p) for p in parts])
    # corrupt isolated epochs at least 3 epochs away from any true transition or other flip
    far = np.ones(len(truth), dtype=bool)
    for c in np.flatnonzero(np.diff(truth) != 0):
        far[max(c - 2, 0):c + 4] = False
    flips = []
    for c in rng.permutation(np.flatnonzero(far)):
        if all(abs(c - f) > 3 for f in flips):
            flips.append(c)
        if len(flips) == 60:
            break
    observed = truth.copy()
    observed[flips] = (truth[flips] + rng.integers(1, 3, len(flips))) % 3
    X = _one_hot_proba(observed, high=0.6)
    hmm = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(X, truth + 1, groups=groups)
    assert (hmm.estimator_.predict(X) != truth + 1).sum() == 60
    np.testing.assert_array_equal(hmm.predict(X, groups=groups), truth + 1)


def test_output_never_contains_a_forbidden_transition(rng):
    lengths = [1500, 900, 600]
    truth = np.concatenate([_chain(rng, n) for n in lengths])
    groups = np.repeat([0, 1, 2], lengths)
    noisy = 0.5 * _one_hot_proba(truth, high=0.8) + 0.5 * rng.dirichlet([0.3] * 3, len(truth))
    hmm = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(noisy, truth + 1, groups=groups)
    assert (hmm.transmat_ == 0).sum() == 2
    base = hmm.estimator_.predict(noisy) - 1
    src, dst = _within_pairs(base, groups)
    assert (hmm.transmat_[src, dst] == 0).any()  # the per-epoch classifier does produce them
    path = hmm.predict(noisy, groups=groups) - 1
    src, dst = _within_pairs(path, groups)
    assert (hmm.transmat_[src, dst] > 0).all()
    assert (path == truth).mean() > (base == truth).mean()


def test_per_recording_decoding_differs_from_one_sequence(rng):
    y = _chain(rng, 3000) + 1
    hmm = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(_one_hot_proba(y - 1), y)
    # recording A ends awake, recording B starts in REM: legal only across a boundary
    states = np.repeat([0, 2], 20)
    X = _one_hot_proba(states, high=0.9)
    groups = np.repeat(["A", "B"], 20)
    per_recording = hmm.predict(X, groups=groups)
    np.testing.assert_array_equal(per_recording, states + 1)
    as_one = hmm.predict(X)
    assert not np.array_equal(as_one, per_recording)
    src, dst = as_one[:-1] - 1, as_one[1:] - 1
    assert (hmm.transmat_[src, dst] > 0).all()
    proba_groups, proba_one = hmm.predict_proba(X, groups=groups), hmm.predict_proba(X)
    assert proba_groups[20, 2] > 0.9 and proba_one[20, 2] < proba_groups[20, 2]


def _brute_force(hmm, proba, groups):
    """Exact Viterbi path and posteriors by enumerating every state sequence."""
    lik = np.maximum(proba, hmm.proba_floor) / hmm.class_prior_
    k = len(hmm.classes_)
    path, post = [], []
    for g in np.unique(groups):
        lk = lik[groups == g]
        seqs = np.array(list(itertools.product(range(k), repeat=len(lk))))
        with np.errstate(divide="ignore"):
            score = (np.log(hmm.startprob_[seqs[:, 0]])
                     + np.log(lk[np.arange(len(lk)), seqs]).sum(axis=1)
                     + np.log(hmm.transmat_[seqs[:, :-1], seqs[:, 1:]]).sum(axis=1))
        path.append(seqs[np.argmax(score)])
        weight = np.exp(score - score.max())
        marg = np.stack([(weight[:, None] * (seqs == s)).sum(axis=0) for s in range(k)], axis=1)
        post.append(marg / weight.sum())
    return np.concatenate(path), np.vstack(post)


@pytest.mark.parametrize("priors", ["train", "uniform"])
def test_matches_brute_force_enumeration(rng, priors):
    y = np.array([1, 1, 2, 2, 2, 3, 3, 1, 1, 2, 2, 1])
    hmm = HMMSmoother(ProbaPassthrough(), priors=priors).fit(_one_hot_proba(y - 1), y)
    assert hmm.transmat_[0, 2] == 0  # a structural zero is part of the check
    proba = rng.dirichlet([0.7] * 3, 13)
    groups = np.repeat([0, 1], [7, 6])
    path, post = _brute_force(hmm, proba, groups)
    np.testing.assert_array_equal(hmm.predict(proba, groups=groups), hmm.classes_[path])
    np.testing.assert_allclose(hmm.predict_proba(proba, groups=groups), post, atol=1e-10)


def test_long_extreme_input_gives_valid_posteriors(rng):
    truth = _bouts(rng, 1000)[:21_600]
    y = truth + 1
    proba = np.eye(3)[rng.integers(0, 3, len(truth))]  # exact zeros and ones, mostly wrong
    hmm = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(_one_hot_proba(truth), y)
    post = hmm.predict_proba(proba)
    assert post.shape == (len(truth), 3) and np.isfinite(post).all()
    assert post.min() >= 0
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    path = hmm.predict(proba) - 1
    assert (hmm.transmat_[path[:-1], path[1:]] > 0).all()


def test_any_label_values(rng):
    names = np.array(["N", "R", "W"])  # sorted: N=0, R=1, W=2
    states = _chain(rng, 800)
    y = names[[2, 0, 1]][states]  # WAKE -> "W", NREM -> "N", REM -> "R"
    X = _one_hot_proba(np.searchsorted(names, y), high=0.5)
    hmm = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(X, y)
    assert hmm.classes_.tolist() == ["N", "R", "W"]
    assert hmm.transmat_[2, 1] == 0  # W -> R
    pred = hmm.predict(X)
    assert set(pred) <= {"N", "R", "W"} and (pred == y).mean() > 0.97


def test_priors_and_startprob_options(rng):
    y = np.repeat([1, 2, 3, 2], [10, 60, 20, 10])
    X = _one_hot_proba(y - 1)
    hmm = HMMSmoother(ProbaPassthrough()).fit(X, y)
    np.testing.assert_allclose(hmm.class_prior_, [0.1, 0.7, 0.2])
    np.testing.assert_allclose(hmm.startprob_, [0.1, 0.7, 0.2])
    uniform = HMMSmoother(ProbaPassthrough(), priors="uniform", startprob="uniform").fit(X, y)
    np.testing.assert_allclose(uniform.class_prior_, 1 / 3)
    np.testing.assert_allclose(uniform.startprob_, 1 / 3)
    given = HMMSmoother(ProbaPassthrough(), priors=[1, 1, 2], startprob="first").fit(X, y)
    np.testing.assert_allclose(given.class_prior_, [0.25, 0.25, 0.5])
    np.testing.assert_allclose(given.startprob_, [2 / 4, 1 / 4, 1 / 4])  # first stage 1, +1 each
    with pytest.raises(ValueError, match="'priors' parameter must be"):
        HMMSmoother(ProbaPassthrough(), priors=[1, 0, 1]).fit(X, y)
    with pytest.raises(ValueError, match="Invalid value for the 'startprob' parameter"):
        HMMSmoother(ProbaPassthrough(), startprob="last").fit(X, y)


def _features(rng, states, noise=1.2):
    return np.eye(3)[states] + rng.normal(scale=noise, size=(len(states), 3))


@pytest.mark.parametrize("model", ["logreg", "lgbm"])
def test_smoothing_improves_real_classifiers(rng, model):
    if model == "lgbm":
        lightgbm = pytest.importorskip("lightgbm")
        base = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, verbose=-1, n_jobs=1,
                                       random_state=0)
    else:
        base = LogisticRegression()
    train, test = _chain(rng, 2000), _chain(rng, 1000)
    X_train, X_test = _features(rng, train), _features(rng, test)
    hmm = HMMSmoother(base).fit(X_train, train + 1)
    base_acc = (hmm.estimator_.predict(X_test) == test + 1).mean()
    hmm_acc = hmm.score(X_test, test + 1)
    assert base_acc < 0.85 and hmm_acc > base_acc + 0.08
    post = hmm.predict_proba(X_test)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)


def test_score_uses_groups(rng):
    y = _chain(rng, 3000) + 1
    hmm = HMMSmoother(ProbaPassthrough(), priors="uniform").fit(_one_hot_proba(y - 1), y)
    X = _one_hot_proba(np.repeat([0, 2], 20), high=0.9)
    labels = np.repeat([1, 3], 20)
    groups = np.repeat([0, 1], 20)
    assert hmm.score(X, labels, groups=groups) == 1.0
    assert hmm.score(X, labels) < 1.0


def test_errors(rng):
    X, y = rng.normal(size=(40, 2)), np.repeat([0, 1], 20)
    with pytest.raises(TypeError, match="needs a classifier with predict_proba"):
        HMMSmoother(LinearSVC()).fit(X, y)
    with pytest.raises(ValueError, match="reappears at epoch 30"):
        HMMSmoother(LogisticRegression()).fit(X, y, groups=np.repeat([0, 1, 2, 0], 10))
    with pytest.raises(ValueError, match="'pseudocount' parameter must be a finite number >= 0"):
        HMMSmoother(LogisticRegression(), pseudocount=-1).fit(X, y)
    with pytest.raises(ValueError, match="'proba_floor' parameter must be < 1"):
        HMMSmoother(LogisticRegression(), proba_floor=1.0).fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        HMMSmoother(LogisticRegression()).fit(X, rng.normal(size=40))


def test_fit_params_reach_the_estimator_without_routing(rng):
    X, y = rng.normal(size=(60, 2)), np.repeat([0, 1], 30)
    weight = rng.uniform(0.1, 3.0, 60)
    hmm = HMMSmoother(LogisticRegression()).fit(X, y, sample_weight=weight)
    direct = LogisticRegression().fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(hmm.estimator_.coef_, direct.coef_)


def test_clone_and_pickle(rng):
    states = _chain(rng, 500)
    X = _features(rng, states)
    hmm = HMMSmoother(LogisticRegression(C=0.5), pseudocount=0.5).fit(X, states + 1)
    restored = pickle.loads(pickle.dumps(hmm))
    np.testing.assert_array_equal(restored.predict(X), hmm.predict(X))
    copy = clone(hmm)
    assert copy.get_params()["estimator__C"] == 0.5
    assert not hasattr(copy, "estimator_")


class _BrokenProba(ClassifierMixin, BaseEstimator):
    """A classifier whose probabilities have a wrong column count or hold NaN."""

    def __init__(self, broken="shape"):
        self.broken = broken

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        if self.broken == "shape":
            return np.full((len(X), len(self.classes_) - 1), 0.5)
        return np.full((len(X), len(self.classes_)), np.nan)


def test_bad_probabilities_are_refused_naming_where_they_came_from(rng):
    X, y = rng.normal(size=(40, 2)), np.repeat([0, 1, 2, 1], 10)
    hmm = HMMSmoother(_BrokenProba()).fit(X, y)
    with pytest.raises(ValueError, match=r"^predict_proba of the classifier returned shape "
                                         r"\(40, 2\), expected \(n_epochs, 3\)\.$"):
        hmm.predict(X)
    with pytest.raises(ValueError, match=r"^proba has shape \(40, 2\), expected "
                                         r"\(n_epochs, 3\)\.$"):
        hmm.decode(np.full((40, 2), 0.5))
    hmm = HMMSmoother(_BrokenProba("nan")).fit(X, y)
    with pytest.raises(ValueError, match=r"^predict_proba of the classifier returned NaN or "
                                         r"infinite values\.$"):
        hmm.predict_proba(X)
    with pytest.raises(ValueError, match=r"^proba holds NaN or infinite values\.$"):
        hmm.decode(np.full((40, 3), np.nan))
