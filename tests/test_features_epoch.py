"""EpochFeatures: the composite extractor the pipelines use."""

from __future__ import annotations

import pickle

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sleepstage.features import (
    EMGFeatures,
    EpochFeatures,
    HjorthFeatures,
    SpectralFeatures,
    TimeFeatures,
)

FAMILIES = {"band_power", "spectral_shape", "emg", "hjorth", "time"}


@pytest.fixture(scope="module")
def epochs():
    """40 reference-layout epochs (3 x 512 at 128 Hz) and a label tied to their theta."""
    rng = np.random.default_rng(2024)
    n = 40
    t = np.arange(512) / 128
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 3, 512))
    X[:, :2] += 3 * y[:, None, None] * np.sin(2 * np.pi * 7 * t)  # "REM" theta
    X[:, 2] *= np.where(y == 1, 0.2, 1.0)[:, None]  # and atonia
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(epochs):
    X, _ = epochs
    est = EpochFeatures().fit(X)
    return est, est.transform(X)


def test_names_families_and_channels_match_columns(epochs, fitted):
    est, out = fitted
    names = est.get_feature_names_out()
    assert out.shape == (len(epochs[0]), names.size)
    assert out.dtype == np.float32
    assert len(set(names)) == names.size
    assert est.feature_families_.shape == est.feature_channels_.shape == names.shape
    assert set(est.feature_families_) == FAMILIES
    assert set(est.get_feature_families_out()) == FAMILIES
    for name, channel in zip(names, est.feature_channels_, strict=True):
        assert name.startswith(channel + "_")
    for expected in ("eeg1_theta_relpower", "emg_rms_log", "eeg2_hjorth_mobility",
                     "emg_abs_p90_log", "eeg1_line_length_log", "eeg2_sef95"):
        assert expected in names
    assert not any(n.startswith("emg") and "relpower" in n for n in names)
    assert [n for n, _ in est.transformers_] == ["spectral", "emg", "hjorth", "time"]


def test_equals_the_standalone_families(epochs, fitted):
    X, _ = epochs
    est, out = fitted
    parts = [cls().fit(X) for cls in (SpectralFeatures, EMGFeatures, HjorthFeatures,
                                      TimeFeatures)]
    np.testing.assert_array_equal(out, np.hstack([p.transform(X) for p in parts]))
    np.testing.assert_array_equal(
        est.get_feature_names_out(), np.concatenate([p.get_feature_names_out() for p in parts])
    )
    only = EpochFeatures(include=("time", "hjorth")).fit(X)
    np.testing.assert_array_equal(only.transform(X),
                                  np.hstack([parts[3].transform(X), parts[2].transform(X)]))


def test_layouts_batches_and_threads_do_not_change_output(epochs, fitted):
    X, _ = epochs
    est, out = fitted
    np.testing.assert_array_equal(est.transform(X.reshape(len(X), -1)), out)
    np.testing.assert_array_equal(est.transform(X.astype(np.float64)), out)
    small = EpochFeatures(batch_size=7, n_jobs=2).fit(X)
    np.testing.assert_array_equal(small.transform(X), out)
    np.testing.assert_array_equal(small.fit_transform(X), out)


def test_permuting_epochs_permutes_rows(epochs, fitted):
    X, _ = epochs
    est, out = fitted
    order = np.random.default_rng(5).permutation(len(X))
    np.testing.assert_array_equal(est.transform(X[order]), out[order])


def test_features_separate_the_toy_stages(epochs, fitted):
    _, y = epochs
    est, out = fitted
    names = list(est.get_feature_names_out())
    theta = out[:, names.index("eeg1_theta_relpower")]
    emg = out[:, names.index("emg_rms_log")]
    assert theta[y == 1].min() > theta[y == 0].max()
    assert emg[y == 1].max() < emg[y == 0].min()


@pytest.mark.parametrize(
    ("params", "X_shape", "match"),
    [
        ({}, (4, 1535), "1535 columns, which is not a multiple of the 3 declared channels"),
        ({}, (4, 2, 512), "X has 2 channels"),
        ({"ch_types": ("eeg", "eeg", "ecg")}, (4, 1536), "'ch_types' parameter"),
        ({"ch_names": ("a", "b"), "ch_types": ("eeg", "eeg", "emg")}, (4, 1536),
         "ch_names has 2 entries but ch_types has 3"),
        ({"sfreq": 16.0, "bands": {"delta": (0.5, 4), "gamma": (30, 45)}}, (4, 1536),
         r"'gamma' \[30, 45\) Hz lies outside .*sfreq=16 Hz"),
        ({"sfreq": 0}, (4, 1536), "'sfreq' parameter"),
        ({"include": ("spectral", "wavelets")}, (4, 1536), "'include' parameter"),
        ({"include": ()}, (4, 1536), "'include' parameter is empty"),
        ({"batch_size": 0}, (4, 1536), "'batch_size' parameter"),
        ({"batch_size": 2.5}, (4, 1536), "'batch_size' parameter"),
        ({"n_jobs": "x"}, (4, 1536), "'n_jobs' parameter must be None or a non-zero integer"),
        ({"n_jobs": 0}, (4, 1536), "'n_jobs' parameter"),
        ({"ch_names": ("eeg1", "eeg2"), "include": ("emg",)}, (4, 1024), "No feature"),
        ({"epoch_length": 30}, (4, 1536), r"512 samples per channel and epoch, i.e. 4-s epochs "
                                          r"at 128 Hz, but epoch_length=30 s was declared"),
        ({"epoch_length": -4}, (4, 1536), "'epoch_length' parameter"),
    ],
)
def test_bad_layouts_and_settings_raise_at_fit(params, X_shape, match):
    X = np.random.default_rng(0).standard_normal(X_shape).astype(np.float32)
    with pytest.raises(ValueError, match=match):
        EpochFeatures(**params).fit(X)


def test_bad_inputs_raise_at_transform(epochs, fitted):
    X, _ = epochs
    est, _ = fitted
    with pytest.raises(ValueError, match="511 samples per channel, but 512 were expected"):
        est.transform(X[:, :, :511])
    with pytest.raises(ValueError, match=r"1533 columns|511 samples"):
        est.transform(X[:, :, :511].reshape(len(X), -1))
    bad = X.copy()
    bad[3, 1, 17] = np.nan
    with pytest.raises(ValueError, match=r"non-finite .* NaN value is at index \(3, 1, 17\)"):
        est.transform(bad)
    bad[3, 1, 17] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(bad)
    with pytest.raises(TypeError, match="numeric"):
        est.transform(np.full((2, 1536), "a"))


def test_flat_channel_gives_finite_features(epochs):
    X = epochs[0].copy()
    X[:5, 0] = 0.0
    X[5:10, 2] = 2.0
    out = EpochFeatures().fit(X).transform(X)
    assert np.isfinite(out).all()


def test_clone_pickle_and_grid_search(epochs, fitted):
    X, y = epochs
    est, out = fitted
    params = EpochFeatures(window=1.0, bands="rodent", include=("spectral",)).get_params()
    assert clone(EpochFeatures(**params)).get_params() == params
    assert not hasattr(clone(est), "transformers_")
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), out)

    pipe = make_pipeline(EpochFeatures(include=("spectral", "emg")), StandardScaler(),
                         LogisticRegression())
    search = GridSearchCV(pipe, {"epochfeatures__window": [1.0, 2.0]},
                          cv=KFold(3), scoring="balanced_accuracy")
    search.fit(X.reshape(len(X), -1), y)
    assert search.best_score_ > 0.9
    assert search.best_estimator_[0].window in (1.0, 2.0)


def test_pandas_output_uses_the_names(epochs, fitted):
    X, _ = epochs
    est = EpochFeatures(include=("hjorth",)).set_output(transform="pandas").fit(X)
    frame = est.transform(X)
    assert list(frame.columns) == list(est.get_feature_names_out())


def test_human_layout_thirty_second_epochs():
    rng = np.random.default_rng(8)
    sfreq, n_samples = 100.0, 3000
    t = np.arange(n_samples) / sfreq
    X = rng.standard_normal((6, 3, n_samples)) * 1e-6
    X[:3, 0] += 20e-6 * np.sin(2 * np.pi * 10 * t)  # alpha, as in relaxed wake
    ch_names = ("EEG Fpz-Cz", "EOG horizontal", "EMG submental")
    est = EpochFeatures(sfreq=sfreq, ch_names=ch_names, bands="human").fit(X.astype(np.float32))
    out = est.transform(X.astype(np.float32))
    names = list(est.get_feature_names_out())
    assert est.bands_ == dict(SpectralFeatures(sfreq=sfreq).fit(np.zeros((1, 3, 3000))).bands_)
    assert "EOG horizontal_alpha_relpower" in names  # EOG gets spectral features
    assert "EMG submental_rms_log" in names
    assert not any(n.startswith("EMG submental") and "relpower" in n for n in names)
    alpha = out[:, names.index("EEG Fpz-Cz_alpha_relpower")]
    assert alpha[:3].min() > 0.8 > 0.3 > alpha[3:].max()
    assert np.isfinite(out).all()


def test_eeg_only_layout_has_no_emg_columns():
    X = np.random.default_rng(4).standard_normal((5, 2 * 512)).astype(np.float32)
    est = EpochFeatures(ch_names=("eeg1", "eeg2")).fit(X)
    assert "emg" not in set(est.feature_families_)
    assert est.transform(X).shape == (5, est.get_feature_names_out().size)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=hnp.arrays(np.float32, (3, 3, 128),
                      elements=st.floats(-1e4, 1e4, width=32, allow_subnormal=False)),
    scale=st.sampled_from([1e-12, 1e-6, 1.0, 1e6]),
    constant_channel=st.integers(-1, 2),
)
def test_any_finite_input_gives_finite_features(values, scale, constant_channel):
    X = values * np.float32(scale)
    if constant_channel >= 0:
        X[:, constant_channel] = X[0, constant_channel, 0]
    est = EpochFeatures(sfreq=32.0, high_band=(10, 16)).fit(X)
    out = est.transform(X)
    assert np.isfinite(out).all()
    names = est.get_feature_names_out()
    for ch in ("eeg1", "eeg2"):
        rel = out[:, [n.startswith(ch) and n.endswith("relpower") for n in names]]
        assert np.all(rel >= 0)
        assert np.all(rel.sum(axis=1) <= 1 + 1e-5)
