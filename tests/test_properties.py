"""Property-based tests (hypothesis): invariances every user relies on without checking."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin

from sleepstage.artefacts import ArtefactDetector
from sleepstage.features import EpochFeatures, RecordingScaler, SpectralFeatures, TemporalContext
from sleepstage.models import HMMSmoother
from sleepstage.pipelines import make_classifier

HAS_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "skorch"))
FEW = settings(max_examples=15, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
EXPENSIVE = settings(max_examples=3, deadline=None)

seeds = st.integers(0, 2**32 - 1)


def epochs(seed: int, n_epochs: int = 6, n_channels: int = 3, n_samples: int = 512):
    """Random EEG-like epochs (volts): a rhythm per epoch plus noise, random gains."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / 128.0
    freq = rng.uniform(1, 40, (n_epochs, n_channels, 1))
    gain = rng.lognormal(np.log(30e-6), 1.0, (n_epochs, n_channels, 1))
    x = np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, freq.shape))
    x = x + 0.5 * rng.standard_normal((n_epochs, n_channels, n_samples))
    return (gain * x).astype(np.float32)


def lengths_to_groups(lengths) -> np.ndarray:
    return np.repeat(np.arange(len(lengths)), lengths)


# -- features -------------------------------------------------------------------------------
@FEW
@given(seed=seeds, gain=st.floats(1e-3, 1e3), method=st.sampled_from(["welch", "multitaper"]))
def test_relative_band_powers_are_invariant_to_gain(seed, gain, method):
    X = epochs(seed)
    spectral = SpectralFeatures(method=method).fit(X)
    names = spectral.get_feature_names_out()
    relative = [i for i, name in enumerate(names) if name.endswith(("_relpower", "_ratio_log"))]
    assert relative
    before = spectral.transform(X)[:, relative]
    after = spectral.transform(X * np.float32(gain))[:, relative]
    np.testing.assert_allclose(after, before, rtol=1e-3, atol=1e-5)


@FEW
@given(seed=seeds, data=st.data())
def test_per_epoch_features_are_equivariant_to_permutations(seed, data):
    X = epochs(seed, n_epochs=8)
    order = np.asarray(data.draw(st.permutations(range(8))))
    features = EpochFeatures(batch_size=3).fit(X)
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


# -- per-recording steps --------------------------------------------------------------------
recordings = st.lists(st.integers(1, 12), min_size=2, max_size=4)


@FEW
@given(lengths=recordings, seed=seeds, windows=st.lists(st.integers(1, 9), min_size=1,
                                                         max_size=2, unique=True),
       lags=st.lists(st.integers(1, 5), max_size=2, unique=True))
def test_rolling_context_never_mixes_recordings(lengths, seed, windows, lags):
    rng = np.random.default_rng(seed)
    groups = lengths_to_groups(lengths)
    X = rng.standard_normal((groups.size, 3))
    context = TemporalContext(windows=windows, past_windows=windows, lags=lags,
                              stats=("mean", "std"))
    out = context.fit_transform(X, groups=groups)
    changed = X.copy()
    changed[groups == 1] = rng.standard_normal(((groups == 1).sum(), 3)) * 1e3
    out_changed = context.fit_transform(changed, groups=groups)
    others = groups != 1
    # standard deviations from cumulative sums carry ~1e-8 absolute error (see Notes)
    np.testing.assert_allclose(out_changed[others], out[others], rtol=1e-7, atol=1e-6)
    # and each recording alone gives the same rows as within the batch
    for rec in np.unique(groups):
        alone = context.fit_transform(X[groups == rec])
        np.testing.assert_allclose(alone, out[groups == rec], rtol=1e-7, atol=1e-6)


@FEW
@given(lengths=recordings, seed=seeds)
def test_recording_scaler_never_mixes_recordings(lengths, seed):
    rng = np.random.default_rng(seed)
    groups = lengths_to_groups(lengths)
    X = rng.standard_normal((groups.size, 2))
    scaler = RecordingScaler(min_epochs=0)
    out = scaler.fit_transform(X, groups=groups)
    changed = X.copy()
    changed[groups == 0] *= 1e3
    np.testing.assert_allclose(scaler.fit_transform(changed, groups=groups)[groups != 0],
                               out[groups != 0])


# -- HMM --------------------------------------------------------------------------------------
class GivenProba(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose probabilities are its input: lets hypothesis choose them."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=float)

    def predict(self, X):
        return self.classes_[np.argmax(X, axis=1)]


def chain(rng, n, forbidden=((0, 2),)) -> np.ndarray:
    """A random 3-stage label sequence that never makes the ``forbidden`` transitions."""
    labels = [int(rng.integers(3))]
    while len(labels) < n:
        nxt = int(rng.integers(3))
        if (labels[-1], nxt) not in forbidden:
            labels.extend([nxt] * int(rng.integers(1, 6)))
    return np.asarray(labels[:n])


@st.composite
def probabilities(draw, n):
    """Rows of 3 probabilities, including extreme (near 0/1) and tied ones."""
    rows = draw(st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3).filter(
        lambda r: sum(r) > 1e-6), min_size=n, max_size=n))
    proba = np.asarray(rows)
    return proba / proba.sum(axis=1, keepdims=True)


@FEW
@given(seed=seeds, data=st.data(), lengths=recordings,
       floor=st.sampled_from([1e-12, 1e-6, 1e-2]))
def test_hmm_never_decodes_a_forbidden_transition(seed, data, lengths, floor):
    rng = np.random.default_rng(seed)
    y = chain(rng, 120)
    hmm = HMMSmoother(GivenProba(), proba_floor=floor).fit(np.eye(3)[y], y)
    forbidden = hmm.transmat_ == 0
    assert forbidden[0, 2]                  # never seen in training
    groups = lengths_to_groups(lengths)
    proba = data.draw(probabilities(groups.size))
    path = hmm.predict(proba, groups=groups)
    within = groups[1:] == groups[:-1]
    assert not forbidden[path[:-1][within], path[1:][within]].any()
    assert (hmm.startprob_[path[np.r_[True, ~within]]] > 0).all()


@FEW
@given(seed=seeds, data=st.data(), lengths=recordings)
def test_hmm_posteriors_are_probabilities(seed, data, lengths):
    rng = np.random.default_rng(seed)
    y = chain(rng, 60, forbidden=())
    hmm = HMMSmoother(GivenProba(), priors="uniform").fit(np.eye(3)[y], y)
    groups = lengths_to_groups(lengths)
    post = hmm.predict_proba(data.draw(probabilities(groups.size)), groups=groups)
    assert np.isfinite(post).all() and (post >= 0).all() and (post <= 1).all()
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-9)


@EXPENSIVE
@given(seed=seeds, scale=st.sampled_from([1e-9, 1.0, 1e9]))
def test_classifier_probabilities_are_probabilities(seed, scale):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((90, 4)) * scale
    y = np.repeat(["WAKE", "NREM", "REM"], 30)
    X[y == "REM", 0] += 2 * scale
    for model in ("lgbm", "logreg"):
        clf = HMMSmoother(make_classifier(model, n_estimators=5, n_jobs=1)
                          if model == "lgbm" else make_classifier(model))
        proba = clf.fit(X, y).predict_proba(X)
        assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)


# -- determinism ------------------------------------------------------------------------------
@EXPENSIVE
@given(seed=st.integers(0, 10_000))
def test_same_seed_same_lightgbm_predictions(seed):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 6))
    y = np.repeat([1, 2, 3], 50)
    X[:, 0] += y
    fits = [make_classifier("lgbm", random_state=seed, n_estimators=10, n_jobs=1).fit(X, y)
            for _ in range(2)]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


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
    settings_ = {"max_epochs": 2, "batch_size": 16, "verbose": 0, "n_threads": 1,
                 "random_state": seed}
    if model == "LSTMClassifier":
        settings_.update(hidden_size=4, n_layers=1)
    cls = getattr(models, model)
    fits = [cls(**settings_).fit(X, y, groups=groups) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
