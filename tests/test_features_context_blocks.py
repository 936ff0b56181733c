"""TemporalContext computed in column and row blocks equals the one-pass computation."""

import numpy as np
import pytest

from sleepstage._internal.groups import recording_segments
from sleepstage.features import TemporalContext


def _reference(ctx, X, segments):
    """The one-pass implementation the blocks replaced (whole-matrix temporaries)."""
    n, n_feat = X.shape
    n_blocks = 1 + len(ctx._suffixes())
    out = np.empty((n, n_feat * n_blocks), dtype=X.dtype)
    out[:, :n_feat] = X
    if n_blocks == 1 or n == 0:
        return out
    seg_lo, seg_hi = segments.epoch_bounds()
    index = np.arange(n)
    need_std = "std" in ctx.stats_
    sums = squares = rms = offset = None
    if ctx.windows_ or ctx.past_windows_:
        lengths = segments.lengths
        means = np.add.reduceat(X, segments.starts, axis=0, dtype=np.float64)
        means /= lengths[:, None]
        centred = X - np.repeat(means, lengths, axis=0)
        rms = np.sqrt(np.add.reduceat(np.square(centred), segments.starts, axis=0)
                      / lengths[:, None])
        rms = np.repeat(np.where(rms > 0, rms, 1.0), lengths, axis=0)
        centred /= rms
        sums = np.zeros((n + 1, n_feat))
        np.cumsum(centred, axis=0, out=sums[1:])
        if need_std:
            squares = np.zeros((n + 1, n_feat))
            np.cumsum(np.square(centred), axis=0, out=squares[1:])
        offset = np.repeat(means, lengths, axis=0)
    col = n_feat

    def window_stats(lo, hi):
        count = (hi - lo)[:, None].astype(np.float64)
        mean_c = (sums[hi] - sums[lo]) / count
        result = {"mean": mean_c * rms + offset}
        if need_std:
            var = (squares[hi] - squares[lo]) / count - np.square(mean_c)
            result["std"] = np.sqrt(np.maximum(var, 0.0)) * rms
        return result

    centred_ranges = [(np.maximum(index - w // 2, seg_lo), np.minimum(index + w // 2 + 1, seg_hi))
                      for w in ctx.windows_]
    past_ranges = [(np.maximum(index - w + 1, seg_lo), index + 1) for w in ctx.past_windows_]
    for ranges in (centred_ranges, past_ranges):
        computed = [window_stats(lo, hi) for lo, hi in ranges]
        for stat in ctx.stats_:
            for values in computed:
                out[:, col:col + n_feat] = values[stat]
                col += n_feat
    for lag in ctx.lags_:
        out[:, col:col + n_feat] = X[np.maximum(index - lag, seg_lo)]
        out[:, col + n_feat:col + 2 * n_feat] = X[np.minimum(index + lag, seg_hi - 1)]
        col += 2 * n_feat
    return out


PARAMS = [
    {},
    {"windows": (3, 7, 20), "past_windows": (5,), "lags": (1, 3), "stats": ("mean", "std")},
    {"windows": (), "past_windows": (), "lags": (2,)},
    {"windows": (20.0, 60.0), "past_windows": (60.0,), "lags": (4.0,), "unit": "seconds",
     "epoch_length": 4.0},
    {"windows": (5,), "past_windows": (3, 9), "stats": ("std", "mean")},  # std columns first
]


def _data(dtype, n_feat=19):
    rng = np.random.default_rng(0)
    scale, shift = rng.uniform(0.1, 1e4, n_feat), rng.uniform(-1e3, 1e3, n_feat)
    X = (rng.standard_normal((1500, n_feat)) * scale + shift).astype(dtype)
    X[:, 3] = 5.0  # a constant column (RMS 0)
    groups = np.repeat([3, 1, 2, 7], [300, 700, 1, 499])  # several recordings, one of 1 epoch
    return X, groups


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_equals_one_pass_bit_for_bit(params, dtype):
    X, groups = _data(dtype)
    ctx = TemporalContext(**params).fit(X, groups=groups)
    out = ctx.transform(X, groups=groups)
    expected = _reference(ctx, X, recording_segments(groups, len(X)))
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("params", PARAMS[1:2] + PARAMS[-1:])
def test_transform_writes_row_blocks_into_its_output_bit_for_bit(params, monkeypatch):
    from sleepstage.features import _context

    X, groups = _data(np.float32)
    ctx = TemporalContext(**params).fit(X, groups=groups)
    monkeypatch.setattr(_context, "_ROWS", 7)  # 215 blocks, the last one of 2 rows
    out = ctx.transform(X, groups=groups)
    np.testing.assert_array_equal(out, _reference(ctx, X, recording_segments(groups, len(X))))


@pytest.mark.parametrize("rows", [1, 7, 1500, 10_000])
@pytest.mark.parametrize("params", PARAMS[:2])
def test_iter_transform_blocks_concatenate_to_transform(params, rows):
    X, groups = _data(np.float32)
    ctx = TemporalContext(**params).fit(X, groups=groups)
    whole = ctx.transform(X, groups=groups)
    blocks = list(ctx.iter_transform(X, groups, rows=rows))
    assert [b.shape[0] for _, b in blocks] == [s.stop - s.start for s, _ in blocks]
    assert blocks[0][0].start == 0 and blocks[-1][0].stop == len(X)
    assert len(blocks) == -(-len(X) // rows)
    np.testing.assert_array_equal(np.vstack([b for _, b in blocks]), whole)


def test_iter_transform_checks_rows_and_input_when_called():
    X, groups = _data(np.float32)
    ctx = TemporalContext().fit(X, groups=groups)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="rows must be a positive"):
            ctx.iter_transform(X, groups, rows=bad)
    with pytest.raises(ValueError, match="features"):
        ctx.iter_transform(X[:, :5], groups)
