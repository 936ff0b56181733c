"""Property-based tests (hypothesis): invariances every user relies on without checking.

- features: gain invariance of relative band powers (and of every scale-free feature), the
  exact shift of log amplitudes and powers, equivariance to permuting epochs;
- per-recording steps: rolling context and per-recording scaling never mix recordings;
- HMM: the decoded path never takes a transition (or a start) of zero learned probability,
  it is the most probable path and its posteriors are the exact marginals (brute force on
  short sequences);
- probabilities in [0, 1] summing to 1 for the HMM, LightGBM, logistic regression and the
  neural baselines;
- the same seed gives identical predictions for the default LightGBM pipeline and the neural
  models on CPU.

Examples are few and arrays small (the whole file takes a few seconds); hypothesis' own
database replays any failure it found.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from _estimator_registry import HAS_TORCH, TINY_NEURAL
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin

from sleepstage.data import make_synthetic
from sleepstage.features import ArtefactDetector, EpochFeatures, RecordingScaler, TemporalContext
from sleepstage.models import HMMSmoother
from sleepstage.pipelines import (
    fit_with_groups,
    make_classifier,
    make_staging_pipeline,
    predict_with_groups,
)

FEW = settings(max_examples=30, deadline=None)
EXPENSIVE = settings(max_examples=3, deadline=None)

seeds = st.integers(0, 2**32 - 1)
N_CHANNELS = 3


def epochs(seed: int, n_epochs: int = 6, n_channels: int = N_CHANNELS, n_samples: int = 512):
    """Random EEG-like epochs (volts) at 128 Hz: a rhythm per epoch plus noise, random gains."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / 128.0
    freq = rng.uniform(1, 40, (n_epochs, n_channels, 1))
    gain = rng.lognormal(np.log(30e-6), 1.0, (n_epochs, n_channels, 1))
    x = np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, freq.shape))
    x = x + 0.5 * rng.standard_normal((n_epochs, n_channels, n_samples))
    return (gain * x).astype(np.float32)


@st.composite
def recordings(draw, max_length: int = 12) -> np.ndarray:
    """Recording id of each epoch: 2-4 contiguous recordings with ids in no sorted order."""
    lengths = draw(st.lists(st.integers(1, max_length), min_size=2, max_size=4))
    ids = draw(st.permutations([f"night-{k}" for k in range(len(lengths))]))
    return np.repeat(ids, lengths)


def assert_probabilities(proba: np.ndarray) -> None:
    """Rows of finite probabilities in [0, 1] that sum to 1."""
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)


# -- features ---------------------------------------------------------------------------------
#: One gain per channel (electrode gains differ between channels), over six decades.
channel_gains = st.lists(st.floats(1e-3, 1e3), min_size=N_CHANNELS, max_size=N_CHANNELS)
methods = st.sampled_from(["welch", "multitaper"])


def gain_exponent(name: str) -> int:
    """How a feature scales with the signal: log power +2 log g, log amplitude +1, others 0."""
    if name.endswith(("power_log", "activity_log")):
        return 2
    if name.endswith("_log") and not name.endswith("ratio_log"):
        return 1
    return 0


def features_before_and_after_gain(seed, gains, method):
    """Names, features of random epochs, and features of the same epochs times ``gains``."""
    X = epochs(seed)
    features = EpochFeatures(method=method).fit(X)
    scaled = X * np.asarray(gains, dtype=np.float32)[None, :, None]
    return features.get_feature_names_out(), features.transform(X), features.transform(scaled)


def log_gain_per_column(names, gains) -> np.ndarray:
    channel_of = {name: k for k, name in enumerate(("eeg1", "eeg2", "emg"))}
    return np.log([gains[channel_of[name.split("_")[0]]] for name in names])


@FEW
@given(seed=seeds, gains=channel_gains, method=methods)
def test_relative_band_powers_are_invariant_to_gain(seed, gains, method):
    names, before, after = features_before_and_after_gain(seed, gains, method)
    scale_free = np.array([gain_exponent(name) == 0 for name in names])
    # relative powers and ratios, entropy, edge and peak frequencies, Hjorth mobility and
    # complexity, skewness, kurtosis, zero crossings
    assert any(name.endswith("_relpower") for name in names[scale_free])
    np.testing.assert_allclose(after[:, scale_free], before[:, scale_free],
                               rtol=1e-4, atol=1e-5)


@FEW
@given(seed=seeds, gains=channel_gains, method=methods)
def test_log_powers_and_amplitudes_shift_by_the_log_gain(seed, gains, method):
    names, before, after = features_before_and_after_gain(seed, gains, method)
    exponent = np.array([gain_exponent(name) for name in names])
    shift = exponent * log_gain_per_column(names, gains)
    assert set(exponent) == {0, 1, 2}
    np.testing.assert_allclose(after[:, exponent > 0] - shift[exponent > 0],
                               before[:, exponent > 0], rtol=0, atol=1e-4)


@FEW
@given(seed=seeds, data=st.data(), method=methods, batch_size=st.integers(1, 8))
def test_per_epoch_features_are_equivariant_to_permutations(seed, data, method, batch_size):
    X = epochs(seed, n_epochs=8)
    order = np.asarray(data.draw(st.permutations(range(8))))
    features = EpochFeatures(method=method, batch_size=batch_size).fit(X)
    np.testing.assert_allclose(features.transform(X[order]), features.transform(X)[order],
                               rtol=1e-5, atol=1e-6)


@FEW
@given(seed=seeds, data=st.data())
def test_artefact_flags_are_equivariant_to_permutations_within_a_recording(seed, data):
    X = epochs(seed, n_epochs=12)
    X[seed % 12, 2, :200] = 0.0            # one flat stretch somewhere
    order = np.asarray(data.draw(st.permutations(range(12))))
    detector = ArtefactDetector().fit(X)
    np.testing.assert_array_equal(detector.transform(X[order]), detector.transform(X)[order])


# -- per-recording steps ----------------------------------------------------------------------
def assert_recordings_do_not_mix(step, X, groups, changed_id, rng):
    """Changing one recording leaves every other's rows unchanged, and every recording alone
    gives the rows it gets within the batch."""
    out = step.fit_transform(X, groups=groups)
    changed = X.copy()
    mask = groups == changed_id
    changed[mask] = rng.standard_normal((mask.sum(), X.shape[1])) * 1e3 + 50
    # windowed standard deviations from cumulative sums carry ~1e-8 absolute error
    # (TemporalContext, Notes)
    np.testing.assert_allclose(step.fit_transform(changed, groups=groups)[~mask], out[~mask],
                               rtol=1e-7, atol=1e-6)
    for recording in np.unique(groups):
        alone = step.fit_transform(X[groups == recording])
        np.testing.assert_allclose(alone, out[groups == recording], rtol=1e-7, atol=1e-6)


windows = st.lists(st.integers(1, 9), min_size=1, max_size=2, unique=True)
# an even centred window covers the next odd length: two covering the same epochs are refused
centred_windows = st.lists(st.integers(1, 9), min_size=1, max_size=2,
                           unique_by=lambda w: w + 1 - w % 2)


@FEW
@given(groups=recordings(), seed=seeds, data=st.data(), centred=centred_windows, past=windows,
       lags=st.lists(st.integers(1, 5), max_size=2, unique=True))
def test_rolling_context_never_mixes_recordings(groups, seed, data, centred, past, lags):
    rng = np.random.default_rng(seed)
    context = TemporalContext(windows=centred, past_windows=past, lags=lags,
                              stats=("mean", "std"))
    assert_recordings_do_not_mix(context, rng.standard_normal((groups.size, 3)), groups,
                                 data.draw(st.sampled_from(sorted(set(groups)))), rng)


@FEW
@given(groups=recordings(), seed=seeds, data=st.data())
def test_recording_scaler_never_mixes_recordings(groups, seed, data):
    rng = np.random.default_rng(seed)
    assert_recordings_do_not_mix(RecordingScaler(reference="recording", min_epochs=0),
                                 rng.standard_normal((groups.size, 2)), groups,
                                 data.draw(st.sampled_from(sorted(set(groups)))), rng)


# -- HMM --------------------------------------------------------------------------------------
class GivenProba(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose probabilities are its input: lets hypothesis choose them."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=float)


def stage_sequence(rng, n, forbidden=((0, 2),)) -> np.ndarray:
    """Bouts of 3 stages that never make the ``forbidden`` transitions; every stage occurs."""
    labels = [0, 0, 1, 2]                  # valid for the default forbidden pair
    while len(labels) < n:
        nxt = int(rng.integers(3))
        if (labels[-1], nxt) not in forbidden:
            labels.extend([nxt] * int(rng.integers(1, 6)))
    return np.asarray(labels[:n])


def fit_hmm(seed, params, n=120) -> HMMSmoother:
    """An HMM over 3 stages whose training labels never go from stage 0 to stage 2."""
    y = stage_sequence(np.random.default_rng(seed), n)
    return HMMSmoother(GivenProba(), **params).fit(np.eye(3)[y], y)


#: The HMM settings that change which transitions and starts have zero probability.
hmm_params = st.fixed_dictionaries({
    "pseudocount": st.sampled_from([0.0, 0.5, 1.0]),
    "startprob": st.sampled_from(["frequency", "first", "uniform"]),
    "priors": st.sampled_from(["train", "uniform"]),
    "proba_floor": st.sampled_from([1e-12, 1e-6, 1e-2]),
})


@st.composite
def probabilities(draw, n):
    """Rows of 3 probabilities, including extreme (near 0/1) and tied ones."""
    rows = draw(st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3).filter(
        lambda r: sum(r) > 1e-6), min_size=n, max_size=n))
    proba = np.asarray(rows)
    return proba / proba.sum(axis=1, keepdims=True)


@FEW
@given(seed=seeds, params=hmm_params, groups=recordings(), data=st.data())
def test_hmm_never_decodes_a_transition_of_zero_probability(seed, params, groups, data):
    hmm = fit_hmm(seed, params)
    impossible = hmm.transmat_ == 0
    assert impossible[0, 2]                # never seen in training
    path = hmm.predict(data.draw(probabilities(groups.size)), groups=groups)
    within = groups[1:] == groups[:-1]
    assert not impossible[path[:-1][within], path[1:][within]].any()
    assert (hmm.startprob_[path[np.r_[True, ~within]]] > 0).all()


@FEW
@given(seed=seeds, params=hmm_params, groups=recordings(), data=st.data())
def test_hmm_posteriors_are_probabilities(seed, params, groups, data):
    hmm = fit_hmm(seed, params)
    assert_probabilities(hmm.predict_proba(data.draw(probabilities(groups.size)),
                                           groups=groups))


def brute_force(hmm, proba):
    """Log-probability of every state sequence of one recording (HMM's scaled likelihoods)."""
    n, k = proba.shape
    paths = np.array(list(itertools.product(range(k), repeat=n)))
    lik = np.maximum(proba, hmm.proba_floor) / hmm.class_prior_
    with np.errstate(divide="ignore"):
        log_p = (np.log(hmm.startprob_[paths[:, 0]])
                 + np.log(hmm.transmat_[paths[:, :-1], paths[:, 1:]]).sum(axis=1)
                 + np.log(lik[np.arange(n), paths]).sum(axis=1))
    return paths, log_p


@FEW
@given(seed=seeds, params=hmm_params, groups=recordings(max_length=6), data=st.data())
def test_hmm_decodes_the_most_probable_path_and_exact_posteriors(seed, params, groups, data):
    hmm = fit_hmm(seed, params)
    proba = data.draw(probabilities(groups.size))
    path = hmm.predict(proba, groups=groups)
    posteriors = hmm.predict_proba(proba, groups=groups)
    for recording in np.unique(groups):    # each recording on its own, whatever the batch
        mask = groups == recording
        paths, log_p = brute_force(hmm, proba[mask])
        best = log_p.max()
        decoded = np.flatnonzero((paths == path[mask]).all(axis=1))[0]
        np.testing.assert_allclose(log_p[decoded], best, rtol=1e-9, atol=1e-9)
        weight = np.exp(log_p - best)
        marginals = np.stack([(weight[:, None] * (paths == s)).sum(axis=0) for s in range(3)],
                             axis=1) / weight.sum()
        np.testing.assert_allclose(posteriors[mask], marginals, rtol=1e-6, atol=1e-9)


@EXPENSIVE
@given(seed=seeds, scale=st.sampled_from([1e-9, 1.0, 1e9]),
       model=st.sampled_from(["lgbm", "logreg"]))
def test_classifier_probabilities_are_probabilities(seed, scale, model):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((90, 4)) * scale
    y = np.repeat(["WAKE", "NREM", "REM"], 30)
    X[y == "REM", 0] += 2 * scale
    fast = {"n_estimators": 5, "n_jobs": 1} if model == "lgbm" else {}
    classifier = make_classifier(model, **fast).fit(X, y)
    assert_probabilities(classifier.predict_proba(X))
    assert_probabilities(HMMSmoother(classifier).fit(X, y).predict_proba(X))


# -- determinism ------------------------------------------------------------------------------
@functools.cache
def two_recordings():
    """Two synthetic animals of 108 epochs (the scaler's minimum is 100)."""
    return make_synthetic(n_recordings=2, hours=0.12, random_state=0)


@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_same_seed_same_lightgbm_predictions(seed):
    """The default pipeline: parallel features, multi-threaded LightGBM with bagging, HMM."""
    data = two_recordings()

    def probabilities_with(random_state):
        pipeline = fit_with_groups(
            make_staging_pipeline(n_estimators=10, random_state=random_state),
            data.X, data.y, data.groups)
        return predict_with_groups(pipeline, data.X, data.groups, method="predict_proba")

    proba = probabilities_with(seed)
    np.testing.assert_array_equal(probabilities_with(seed), proba)
    # the seed is used (bagging), so the equality above is not trivial
    assert not np.array_equal(probabilities_with(seed + 1), proba)
    assert_probabilities(proba)


@pytest.mark.neural
@pytest.mark.skipif(not HAS_TORCH, reason="needs the neural extra (torch, skorch)")
@pytest.mark.parametrize("model", ["LSTMClassifier", "ConvNetClassifier"])
@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_same_seed_same_neural_predictions(model, seed):
    from sleepstage import models

    X = epochs(1, n_epochs=40, n_samples=48)
    y = np.repeat(["WAKE", "NREM"], 20)
    groups = np.repeat([0, 1], 20)
    # two passes with the early-stopping split (the tails of both recordings) and shuffling
    params = {**TINY_NEURAL, "n_channels": N_CHANNELS, "max_epochs": 2,
              "validation_fraction": 0.2, "random_state": seed}
    if model == "LSTMClassifier":
        params.update(hidden_size=4, n_layers=1)
    cls = getattr(models, model)
    first, again = (cls(**params).fit(X, y, groups=groups) for _ in range(2))
    proba = first.predict_proba(X)
    np.testing.assert_array_equal(again.predict_proba(X), proba)
    assert_probabilities(proba)
