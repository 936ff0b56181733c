"""RecordingScaler: robust standardisation within each recording.

scikit-learn's estimator checks run in ``tests/test_estimator_checks.py``."""

from __future__ import annotations

import pickle
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sleepstage.features import RecordingScaler

#: The scaler with the recording's own statistics (its behaviour before the stage reference).
per_recording = partial(RecordingScaler, reference="recording")


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def _recordings(rng, n_rec=3, n=200, n_feat=4):
    """Same underlying features per recording, each with its own gain and offset."""
    base = rng.normal(size=(n, n_feat))
    gains = np.array([0.5, 1.0, 7.0])[:n_rec]
    offsets = np.array([-20.0, 0.0, 300.0])[:n_rec]
    X = np.vstack([base * gain + offset for gain, offset in zip(gains, offsets, strict=True)])
    groups = np.repeat(np.arange(n_rec), n)
    return base, X, groups


def test_removes_gain_and_offset_of_each_recording(rng):
    base, X, groups = _recordings(rng)
    out = per_recording(min_epochs=10).fit_transform(X, groups=groups)
    expected = per_recording(min_epochs=10).fit_transform(base)
    for r in range(3):
        np.testing.assert_allclose(out[groups == r], expected, atol=1e-10)


def test_median_zero_and_percentile_range_one(rng):
    _, X, groups = _recordings(rng)
    out = per_recording(min_epochs=10, quantile_range=(5, 95)).fit_transform(X, groups=groups)
    for r in range(3):
        block = out[groups == r]
        np.testing.assert_allclose(np.median(block, axis=0), 0.0, atol=1e-12)
        width = np.percentile(block, 95, axis=0) - np.percentile(block, 5, axis=0)
        np.testing.assert_allclose(width, 1.0, rtol=1e-10)


def test_mean_std_options(rng):
    _, X, groups = _recordings(rng)
    out = per_recording(min_epochs=10, center="mean", spread="std").fit_transform(
        X, groups=groups)
    for r in range(3):
        np.testing.assert_allclose(out[groups == r].mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(out[groups == r].std(axis=0), 1.0, rtol=1e-10)
    untouched = per_recording(min_epochs=10, center=None, spread=None).fit_transform(
        X, groups=groups)
    np.testing.assert_array_equal(untouched, X)


def test_without_groups_is_one_recording(rng):
    _, X, groups = _recordings(rng)
    scaler = per_recording(min_epochs=10)
    no_groups = scaler.fit_transform(X)
    assert scaler.n_recordings_ == 1
    one = per_recording(min_epochs=10)
    np.testing.assert_array_equal(no_groups, one.fit_transform(X, groups=np.zeros(
        len(X))))
    assert not np.allclose(no_groups, one.fit_transform(X, groups=groups))


def test_new_recording_uses_its_own_statistics(rng):
    _, X, groups = _recordings(rng)
    scaler = per_recording(min_epochs=10).fit(X[groups == 0])
    new = X[groups == 2]
    np.testing.assert_array_equal(scaler.transform(new),
                                  per_recording(min_epochs=10).fit_transform(new))
    np.testing.assert_array_equal(scaler.transform(X, groups=groups),
                                  scaler.fit_transform(X, groups=groups))


def test_zero_spread_divides_by_one():
    X = np.column_stack([np.full(150, 3.0), np.arange(150.0)])
    out = per_recording(min_epochs=10).fit_transform(X)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 0], 0.0)


def test_short_training_recording_turns_scaling_off(rng):
    X = rng.normal(size=(130, 2)) * 5 + 3
    groups = np.repeat(["long", "short"], [110, 20])
    scaler = per_recording(min_epochs=100)
    with pytest.warns(UserWarning, match=r"1 of 2 training recording\(s\) have fewer than "
                                         r"min_epochs=100 epochs \(shortest: 20\).*pass "
                                         r"through unchanged"):
        out = scaler.fit_transform(X, groups=groups)
    assert scaler.scaled_ is False
    np.testing.assert_array_equal(out, X)
    new = rng.normal(size=(500, 2)) * 9 - 1  # a long recording at predict time: still unscaled
    np.testing.assert_array_equal(scaler.transform(new), new)


def test_short_recording_at_predict_time_is_scaled_with_a_warning(rng):
    scaler = per_recording(min_epochs=100).fit(rng.normal(size=(300, 2)))
    assert scaler.scaled_ is True
    short = rng.normal(size=(20, 2)) * 4 + 2
    with pytest.warns(UserWarning, match=r"fewer than min_epochs=100.*\(20 epochs\)"):
        out = scaler.transform(short)
    np.testing.assert_allclose(np.median(out, axis=0), 0.0, atol=1e-12)


def test_short_recording_warning_points_at_the_callers_line(rng):
    """Through a pipeline and scikit-learn's output wrappers, the warning names the line
    that called predict (not a line inside scikit-learn), and an input given without
    groups is "the input", not a recording called 0."""
    import sys

    from sklearn.linear_model import LogisticRegression

    from sleepstage.pipelines import StagingPipeline

    X = rng.normal(size=(300, 2))
    y = (X[:, 0] > 0).astype(int)
    pipe = StagingPipeline([("scaler", per_recording(min_epochs=100)),
                            ("classifier", LogisticRegression())]).fit(X, y)
    with pytest.warns(UserWarning, match=r"the input \(one recording: no groups given\) "
                                         r"\(20 epochs\)") as caught:
        line = sys._getframe().f_lineno + 1
        pipe.predict(X[:20])
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def test_make_pipeline_sets_the_shortest_recording_from_the_epoch_length():
    from sleepstage.pipelines import make_staging_pipeline

    assert make_staging_pipeline()["scaler"].min_epochs == 2700             # 3 h of 4-s epochs
    human = make_staging_pipeline(sfreq=100, epoch_length=30)
    assert human["scaler"].min_epochs == 360                         # 3 h of 30-s epochs
    assert human["context"].epoch_length == 30
    assert human["features"].epoch_length == 30


def test_float32_preserved_and_names_passed_through(rng):
    frame = pd.DataFrame(rng.normal(size=(120, 2)).astype(np.float32),
                         columns=["eeg1_delta_relpower", "emg_rms_log"])
    scaler = per_recording(min_epochs=10)
    out = scaler.fit_transform(frame)
    assert out.dtype == np.float32
    assert scaler.feature_names_in_.tolist() == ["eeg1_delta_relpower", "emg_rms_log"]
    assert scaler.get_feature_names_out().tolist() == ["eeg1_delta_relpower", "emg_rms_log"]
    frame_out = clone(scaler).set_output(transform="pandas").fit_transform(frame)
    assert frame_out.columns.tolist() == ["eeg1_delta_relpower", "emg_rms_log"]


@pytest.mark.parametrize(
    ("kwargs", "fit_groups", "match"),
    [
        ({}, [0, 0, 1, 1, 0, 0], "reappears at epoch 4"),
        ({}, [0, 0, 1], "groups has 3 entries but X has 6 epochs"),
        ({}, [0, 0, 1, 1, np.nan, 1], "missing values"),
        ({"quantile_range": (95, 5)}, None, "0 <= low < high <= 100"),
        ({"center": "mode"}, None, "Invalid value for the 'center' parameter"),
        ({"spread": "mad"}, None, "Invalid value for the 'spread' parameter"),
        ({"min_epochs": -1}, None, "'min_epochs' parameter must be an integer"),
    ],
)
def test_errors(kwargs, fit_groups, match):
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match=match):
        per_recording(**{"min_epochs": 0, **kwargs}).fit(X, groups=fit_groups)


def test_nan_and_wrong_width_rejected(rng):
    X = rng.normal(size=(20, 3))
    scaler = per_recording(min_epochs=0).fit(X)
    with pytest.raises(ValueError, match="3 features"):
        scaler.transform(X[:, :2])
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        scaler.transform(X)


def test_clone_and_pickle(rng):
    _, X, groups = _recordings(rng)
    scaler = per_recording(quantile_range=(10, 90)).fit(X, groups=groups)
    restored = pickle.loads(pickle.dumps(scaler))
    np.testing.assert_array_equal(restored.transform(X, groups=groups),
                                  scaler.transform(X, groups=groups))
    assert clone(scaler).get_params() == scaler.get_params()
