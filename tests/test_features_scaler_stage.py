"""RecordingScaler(reference="stage"): normalisation that does not follow the stage mix."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sleepstage.features import RecordingScaler

#: Feature means of each stage (WAKE, NREM, REM) in the reference animal, 4 features.
MEANS = np.array([[0.0, 2.0, -1.0, 1.0],
                  [3.0, 0.0, 1.0, -1.0],
                  [1.0, 3.0, 2.0, 0.0]])


def _hypnogram(rng, n_epochs: int, share: tuple[float, float, float]) -> np.ndarray:
    """Stages in bouts of 5-40 epochs with the given share of WAKE / NREM / REM."""
    stages = []
    while len(stages) < n_epochs:
        stages += [int(rng.choice(3, p=share))] * int(rng.integers(5, 40))
    return np.array(stages[:n_epochs]) + 1


def _recording(rng, y, gain=1.0, offset=0.0):
    """Features of a recording: stage means plus noise, distorted by a gain and an offset."""
    u = MEANS[y - 1] + rng.normal(scale=0.6, size=(len(y), MEANS.shape[1]))
    return gain * u + offset, u


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X, y, groups = [], [], []
    for r, (gain, offset) in enumerate([(1.0, 0.0), (2.0, 5.0), (0.5, -3.0)]):
        labels = _hypnogram(rng, 3000, (0.5, 0.4, 0.1))
        X.append(_recording(rng, labels, gain, offset)[0])
        y.append(labels)
        groups.append(np.full(len(labels), r))
    scaler = RecordingScaler(min_epochs=1000, estimator=LogisticRegression(max_iter=500))
    scaler.fit(np.vstack(X), np.concatenate(y), groups=np.concatenate(groups))
    return scaler


def test_normalisation_does_not_follow_the_stage_mix(fitted):
    """Duplicating a recording's NREM epochs leaves its WAKE epochs where they were."""
    rng = np.random.default_rng(1)
    y = _hypnogram(rng, 6000, (0.6, 0.3, 0.1))
    X, _ = _recording(rng, y, gain=1.5, offset=2.0)
    nrem = np.flatnonzero(y == 2)
    more_sleep = np.sort(np.concatenate([np.arange(len(y)), nrem]))  # every NREM epoch twice
    X2, y2 = X[more_sleep], y[more_sleep]
    assert (y2 == 2).mean() > 0.45 > (y == 2).mean()
    wake = fitted.transform(X)[y == 1].mean(axis=0)
    wake2 = fitted.transform(X2)[y2 == 1].mean(axis=0)
    spread = fitted.transform(X).std(axis=0)
    assert np.max(np.abs(wake - wake2) / spread) < 0.05
    # the quantile scaling of the recording's own epochs moves them far more
    own = RecordingScaler(reference="recording", min_epochs=1000)
    own.fit(X)
    shift = np.abs(own.transform(X)[y == 1].mean(0) - own.transform(X2)[y2 == 1].mean(0))
    assert np.max(shift / own.transform(X).std(axis=0)) > 0.2


def test_gain_and_offset_of_a_new_recording_are_removed(fitted):
    rng = np.random.default_rng(2)
    y = _hypnogram(rng, 5000, (0.3, 0.55, 0.15))
    X, _ = _recording(rng, y, gain=3.0, offset=-7.0)
    reference, _ = _recording(np.random.default_rng(2), y)  # the same animal, undistorted
    out = fitted.transform(X)
    np.testing.assert_allclose(out.mean(axis=0), fitted.transform(reference).mean(axis=0),
                               atol=0.1)
    for stage in (1, 2, 3):
        np.testing.assert_allclose(np.median(out[y == stage], axis=0),
                                   fitted.stage_medians_[stage - 1], atol=0.15)


def test_training_gauge_is_the_average_recording(fitted):
    np.testing.assert_allclose(fitted.offsets_.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.log(fitted.gains_).mean(axis=0), 0.0, atol=1e-9)
    assert fitted.stage_medians_.shape == (3, 4)
    assert fitted.classes_.tolist() == [1, 2, 3]


def test_short_recording_keeps_the_training_reference_with_one_warning(fitted):
    rng = np.random.default_rng(3)
    y = _hypnogram(rng, 300, (0.2, 0.8, 0.0))  # 300 < min_epochs, no REM: its own
    X, _ = _recording(rng, y, gain=1.0, offset=4.0)  # statistics would be the wrong basis
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fitted.transform(np.vstack([X, X]), groups=np.repeat(["a", "b"], len(X)))
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1
    assert "2 recording(s) have fewer than min_epochs=1000" in messages[0]
    assert "training reference" in messages[0]
    np.testing.assert_array_equal(out, np.vstack([X, X]))


def test_short_training_recordings_pass_through():
    rng = np.random.default_rng(4)
    y = _hypnogram(rng, 200, (0.4, 0.4, 0.2))
    X, _ = _recording(rng, y, offset=1.0)
    scaler = RecordingScaler(min_epochs=500, estimator=LogisticRegression())
    with pytest.warns(UserWarning, match="keep the training reference"):
        out = scaler.fit_transform(X, y)
    np.testing.assert_array_equal(out, X)


def test_fit_transform_uses_the_true_stages_and_equals_fit_then_training_reference(fitted):
    rng = np.random.default_rng(5)
    y = _hypnogram(rng, 2000, (0.5, 0.4, 0.1))
    X, _ = _recording(rng, y, gain=2.0, offset=1.0)
    scaler = RecordingScaler(min_epochs=100, estimator=LogisticRegression())
    out = scaler.fit_transform(X, y)
    # one recording is its own reference: features pass through in training
    np.testing.assert_allclose(out, X)
    assert not hasattr(scaler, "_training_normalised")


def test_labels_are_required():
    with pytest.raises(ValueError, match="requires y to be passed"):
        RecordingScaler().fit(np.ones((10, 2)))


@pytest.mark.parametrize("name, value", [("reference", "animal"), ("n_iter", -1)])
def test_bad_parameters(name, value):
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        RecordingScaler(**{name: value}).fit(np.ones((10, 2)), np.arange(10) % 2)


def test_normalising_in_blocks_equals_the_whole_matrix(monkeypatch):
    """Statistics per column block and first-pass stages per row block: same output."""
    from sleepstage.features import _scaler

    rng = np.random.default_rng(3)
    X, y, groups = [], [], []
    for r, (gain, offset, n) in enumerate([(1.0, 0.0, 900), (2.0, 5.0, 700), (0.5, -3.0, 50)]):
        labels = _hypnogram(rng, n, (0.5, 0.4, 0.1))
        X.append(_recording(rng, labels, gain, offset)[0])
        y.append(labels)
        groups.append(np.full(n, r))
    X = np.hstack([np.vstack(X)] * 3).astype(np.float32)  # 12 columns: blocks of 8 and 4
    y, groups = np.concatenate(y), np.concatenate(groups)
    scaler = RecordingScaler(min_epochs=100).fit(X, y, groups=groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the 50-epoch recording is short
        monkeypatch.setattr(_scaler, "_COLUMN_BLOCK", 10**6)
        monkeypatch.setattr(_scaler, "_ROW_BLOCK", 10**9)
        whole = scaler.transform(X, groups=groups)
        monkeypatch.setattr(_scaler, "_COLUMN_BLOCK", 5)
        monkeypatch.setattr(_scaler, "_ROW_BLOCK", 7)
        blocks = scaler.transform(X, groups=groups)
    assert blocks.dtype == whole.dtype == np.float32
    np.testing.assert_array_equal(blocks, whole)
    np.testing.assert_array_equal(blocks[groups == 2], X[groups == 2])  # short: unchanged
