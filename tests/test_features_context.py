"""TemporalContext: rolling statistics and lags that never cross a recording boundary.

scikit-learn's estimator checks run in ``tests/test_estimator_checks.py``."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sleepstage.features import TemporalContext


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _reference(X, groups, *, windows, past_windows, lags, stats):
    """Slow reference with pandas rolling windows, one recording at a time."""
    parts = []
    for g in pd.unique(groups):
        frame = pd.DataFrame(X[groups == g].astype(np.float64))
        blocks = [frame]
        for kind, widths in (("c", windows), ("p", past_windows)):
            for stat in stats:
                for w in widths:
                    if kind == "c":
                        roll = frame.rolling(2 * (w // 2) + 1, center=True, min_periods=1)
                    else:
                        roll = frame.rolling(w, min_periods=1)
                    blocks.append(roll.mean() if stat == "mean" else roll.std(ddof=0))
        for k in lags:
            blocks.append(frame.shift(k).fillna(frame.iloc[0]))
            blocks.append(frame.shift(-k).fillna(frame.iloc[-1]))
        parts.append(pd.concat(blocks, axis=1).to_numpy())
    return np.vstack(parts)


def test_matches_rolling_reference_with_groups(rng):
    lengths = [40, 3, 25]  # the middle recording is shorter than every window
    X = rng.normal(size=(sum(lengths), 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -3.0]
    groups = np.repeat(["a", "b", "c"], lengths)
    settings = dict(windows=(5, 2), past_windows=(3, 8), lags=(1, 2), stats=("mean", "std"))
    ctx = TemporalContext(**settings)
    out = ctx.fit_transform(X, groups=groups)
    expected = _reference(X, groups, **settings)
    is_std = np.char.find(ctx.get_feature_names_out().astype(str), "__std_") >= 0
    np.testing.assert_allclose(out[:, ~is_std], expected[:, ~is_std], rtol=1e-10, atol=1e-10)
    # running sums of squares: absolute error ~ sqrt(n * eps) x the recording's spread
    np.testing.assert_allclose(out[:, is_std], expected[:, is_std], rtol=1e-6, atol=1e-5)


def test_hand_checked_example():
    X = np.array([[0.0], [3.0], [6.0], [9.0]])
    ctx = TemporalContext(windows=(3,), past_windows=(2,), lags=(1,), stats=("mean", "std"))
    out = ctx.fit_transform(X)
    assert ctx.get_feature_names_out().tolist() == [
        "x0", "x0__mean_c3", "x0__std_c3", "x0__mean_p2", "x0__std_p2", "x0__lag_m1",
        "x0__lag_p1",
    ]
    expected = np.array([
        # x, mean_c3, std_c3, mean_p2, std_p2, lag_m1, lag_p1
        [0.0, 1.5, 1.5, 0.0, 0.0, 0.0, 3.0],
        [3.0, 3.0, np.sqrt(6.0), 1.5, 1.5, 0.0, 6.0],
        [6.0, 6.0, np.sqrt(6.0), 4.5, 1.5, 3.0, 9.0],
        [9.0, 7.5, 1.5, 7.5, 1.5, 6.0, 9.0],
    ])
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_constant_within_recording_stays_constant(rng):
    lengths = [30, 12, 50]
    levels = np.array([[1.0, -4.0], [7.5, 0.1], [-2.0, 1e3]])
    X = np.repeat(levels, lengths, axis=0)
    groups = np.repeat([10, 20, 30], lengths)
    ctx = TemporalContext(windows=(15, 61), past_windows=(15,), lags=(3,), stats=("mean", "std"))
    out = ctx.fit_transform(X, groups=groups)
    names = ctx.get_feature_names_out()
    for r, level in enumerate(levels):
        block = out[groups == (r + 1) * 10]
        for j, name in enumerate(names):
            value = 0.0 if "__std_" in name else level[j % 2]
            np.testing.assert_allclose(block[:, j], value, rtol=1e-12, atol=1e-12)
    # the same data as one recording mixes the levels at the boundaries
    mixed = ctx.fit_transform(X)
    assert not np.allclose(mixed, out)



def test_edges_without_nan(rng):
    lengths = [1, 2, 7, 40]  # recordings shorter than every window and lag, and a longer one
    X = rng.normal(size=(sum(lengths), 3)) * 50.0
    groups = np.repeat([0, 1, 2, 3], lengths)
    ctx = TemporalContext(windows=(15, 61), past_windows=(15,), lags=(1, 5),
                          stats=("mean", "std"))
    out = ctx.fit_transform(X, groups=groups)
    names = ctx.get_feature_names_out()
    assert out.shape == (len(X), len(names)) and np.isfinite(out).all()
    # a one-epoch recording: every window is the epoch itself, every lag repeats it
    single = out[0]
    for j, name in enumerate(names):
        expected = 0.0 if "__std_" in name else X[0, j % 3]
        assert single[j] == pytest.approx(expected, abs=1e-9), name
    # the edges of the long recording use the epochs that exist, never a neighbour recording
    last = out[groups == 3]
    col = names.tolist().index("x1__mean_c15")
    np.testing.assert_allclose(last[0, col], X[groups == 3][:8, 1].mean())
    np.testing.assert_allclose(last[-1, col], X[groups == 3][-8:, 1].mean())
    col = names.tolist().index("x2__lag_m5")
    np.testing.assert_array_equal(last[:5, col], X[groups == 3][0, 2])

def test_past_window_uses_no_future(rng):
    X = rng.normal(size=(60, 2))
    ctx = TemporalContext(windows=(), past_windows=(10,), lags=())
    full = ctx.fit_transform(X)
    changed = X.copy()
    changed[30:] += 100.0  # altering the future must not change past-only features
    np.testing.assert_allclose(ctx.fit_transform(changed)[:30], full[:30])


def test_seconds_equal_epochs(rng):
    X = rng.normal(size=(80, 2))
    groups = np.repeat([0, 1], 40)
    in_epochs = TemporalContext(windows=(15,), past_windows=(5,), lags=(1,), stats=("mean", "std"))
    in_seconds = TemporalContext(windows=(60,), past_windows=(20,), lags=(4,),
                                 stats=("mean", "std"), unit="seconds", epoch_length=4)
    np.testing.assert_array_equal(in_seconds.fit_transform(X, groups=groups),
                                  in_epochs.fit_transform(X, groups=groups))
    assert in_seconds.windows_ == (15,) and in_seconds.past_windows_ == (5,)
    assert in_seconds.lags_ == (1,)
    assert "x1__mean_c60s" in in_seconds.get_feature_names_out().tolist()
    assert "x1__lag_p4s" in in_seconds.get_feature_names_out().tolist()



@pytest.mark.parametrize(("epoch_length", "centred", "past"),
                         [(4.0, (5, 15), (15,)), (30.0, (2,), (2,))])
def test_default_pipeline_context_is_in_seconds(rng, epoch_length, centred, past):
    from sleepstage.pipelines import make_staging_pipeline

    ctx = clone(make_staging_pipeline(epoch_length=epoch_length)["context"])
    frame = pd.DataFrame(rng.normal(size=(20, 2)),
                         columns=["eeg1_delta_relpower", "emg_rms_log"])
    ctx.fit(frame)
    # the 20-s window is left out where it would be the epoch itself (30-s epochs)
    assert ctx.windows_ == centred and ctx.past_windows_ == past and ctx.lags_ == (1,)
    names = ctx.get_feature_names_out().tolist()
    windows = ["c20s", "c60s"] if epoch_length == 4.0 else ["c60s"]
    expected = ["eeg1_delta_relpower", "emg_rms_log"]
    for suffix in [f"mean_{w}" for w in windows] + ["mean_p60s", "lag_m4s", "lag_p4s"]:
        expected += [f"eeg1_delta_relpower__{suffix}", f"emg_rms_log__{suffix}"]
    assert names == expected
    in_epochs = TemporalContext(windows=centred, past_windows=past, lags=(1,))
    np.testing.assert_array_equal(ctx.transform(frame), in_epochs.fit_transform(frame))
    # recording boundaries hold in seconds too: constant per recording stays constant
    X = np.repeat([[1.0, -2.0], [5.0, 3.0]], [30, 25], axis=0)
    groups = np.repeat(["a", "b"], [30, 25])
    out = ctx.fit_transform(X, groups=groups)
    np.testing.assert_array_equal(out, np.tile(X, len(expected) // 2))

def test_even_window_rounds_up_to_odd(rng):
    X = rng.normal(size=(30, 1))
    even = TemporalContext(windows=(4,), past_windows=()).fit_transform(X)
    odd = TemporalContext(windows=(5,), past_windows=()).fit_transform(X)
    np.testing.assert_array_equal(even[:, 1], odd[:, 1])


def test_names_extend_input_names(rng):
    frame = pd.DataFrame(rng.normal(size=(20, 2)),
                         columns=["eeg1_delta_relpower", "emg_rms_log"])
    ctx = TemporalContext(lags=(1,)).fit(frame)
    names = ctx.get_feature_names_out().tolist()
    assert names == [
        "eeg1_delta_relpower", "emg_rms_log",
        "eeg1_delta_relpower__mean_c15", "emg_rms_log__mean_c15",
        "eeg1_delta_relpower__mean_p15", "emg_rms_log__mean_p15",
        "eeg1_delta_relpower__lag_m1", "emg_rms_log__lag_m1",
        "eeg1_delta_relpower__lag_p1", "emg_rms_log__lag_p1",
    ]
    assert ctx.transform(frame).shape == (20, len(names))
    out = clone(ctx).set_output(transform="pandas").fit_transform(frame)
    assert out.columns.tolist() == names
    np.testing.assert_array_equal(out["emg_rms_log__lag_m1"].to_numpy()[1:],
                                  frame["emg_rms_log"].to_numpy()[:-1])


def test_float32_long_recording_keeps_precision(rng):
    n = 21_600
    X = (1000.0 + rng.normal(size=(n, 2))).astype(np.float32)
    out = TemporalContext(windows=(15,), past_windows=(15,), stats=("mean", "std")).fit_transform(X)
    assert out.dtype == np.float32
    frame = pd.DataFrame(X.astype(np.float64))
    ref_mean = frame.rolling(15, center=True, min_periods=1).mean().to_numpy()
    ref_std = frame.rolling(15, min_periods=1).std(ddof=0).to_numpy()
    np.testing.assert_allclose(out[:, 2:4], ref_mean, rtol=1e-6)
    np.testing.assert_allclose(out[:, 8:10], ref_std, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unit": "seconds"}, "needs the 'epoch_length' parameter"),
        ({"unit": "minutes"}, "Invalid value for the 'unit' parameter"),
        ({"windows": (7.5,)}, "not a whole number of epochs"),
        ({"windows": (0,)}, "'windows' parameter must be a finite number > 0"),
        ({"past_windows": (5, 5)}, "holds duplicates"),
        ({"windows": (2, 3)}, r"holds 2 and 3, which cover the same 3 epoch\(s\) and would "
                              r"give identical columns \(an even centred window"),
        ({"lags": (4.0, 5.0), "unit": "seconds", "epoch_length": 4.0},
         r"holds 4.0 and 5.0, which cover the same 1 epoch\(s\) at epoch_length=4 s"),
        ({"stats": ("median",)}, "Invalid value for the 'stats' parameter"),
    ],
)
def test_parameter_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TemporalContext(**kwargs).fit(np.zeros((5, 2)))


def test_type_and_group_errors():
    X = np.zeros((6, 2))
    with pytest.raises(TypeError, match="'lags' parameter must be a sequence"):
        TemporalContext(lags="1").fit(X)
    with pytest.raises(ValueError, match="Recording id 'a' reappears at epoch 4"):
        TemporalContext().fit_transform(X, groups=["a", "a", "b", "b", "a", "a"])
    ctx = TemporalContext().fit(X)
    with pytest.raises(ValueError, match="groups has 5 entries but X has 6 epochs"):
        ctx.transform(X, groups=[0] * 5)


def test_clone_and_pickle(rng):
    X = rng.normal(size=(50, 3))
    groups = np.repeat([0, 1], 25)
    ctx = TemporalContext(windows=(5,), lags=(2,), stats=("mean", "std")).fit(X, groups=groups)
    restored = pickle.loads(pickle.dumps(ctx))
    np.testing.assert_array_equal(restored.transform(X, groups=groups),
                                  ctx.transform(X, groups=groups))
    assert clone(ctx).get_params() == ctx.get_params()
