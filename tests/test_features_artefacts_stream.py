"""Artefact detection from per-epoch statistics: chunk by chunk equals the whole recording.

:meth:`ArtefactDetector.epoch_statistics` is what a chunk of epochs contributes;
:meth:`ArtefactDetector.detect_statistics` judges them against their recording. Joined in
any chunking, they must give :meth:`ArtefactDetector.detect`'s table exactly, and the
clipping rule on the statistics must be the rule on the samples (a run of at least
``clip_samples_`` samples at a rail).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from sleepstage.features import ArtefactDetector, ArtefactStatistics
from sleepstage.features._artefacts import _run_levels


def _recordings(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two recordings of 60 and 40 epochs (3 channels, 512 samples) with artefacts."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((100, 3, 512)).astype(np.float32)
    X[5, 0, 100:140] = X[:60, 0].max()        # EEG at the top rail of recording a
    X[70, 1, 10:20] = X[60:, 1].min()         # at the bottom rail of recording b
    X[71, 1, 10:13] = X[60:, 1].min()         # too short a run: not clipping
    X[20, 2, 50:400] = 0.0                    # EMG lead off
    X[80, 0, 200:260] += 40.0                 # a large step
    groups = np.repeat(["a", "b"], [60, 40])
    return X, groups


@pytest.mark.parametrize("cuts", [[], [1], [7, 13, 59, 60, 61, 99], list(range(1, 100))])
def test_chunked_statistics_give_the_whole_table(cuts):
    X, groups = _recordings()
    detector = ArtefactDetector(batch_size=16).fit(X, groups=groups)
    whole = detector.detect(X, groups)
    assert set(whole["reasons"]) >= {"eeg1:clipping", "eeg2:clipping", "emg:flat",
                                     "eeg1:amplitude"}
    assert not whole.loc[71, "clipping"]
    edges = [0, *cuts, len(X)]
    parts = [detector.epoch_statistics(X[a:b]) for a, b in itertools.pairwise(edges)]
    joined = ArtefactStatistics.concatenate(parts)
    assert joined.n_epochs == len(X)
    pd.testing.assert_frame_equal(detector.detect_statistics(joined, groups), whole,
                                  check_exact=True)


@pytest.mark.parametrize("length", [1, 2, 3, 6, 7, 8, 50, 512])
def test_run_levels_are_the_run_rule(length):
    rng = np.random.default_rng(length)
    x = rng.integers(0, 4, (20, 2, 512)).astype(np.float32)  # many ties and runs
    run_low, run_high = _run_levels(x, length)
    windows = sliding_window_view(x, length, axis=-1)
    for level in (0.0, 1.0, 2.0, 3.0):
        at_or_above = (windows >= level).all(axis=-1).any(axis=-1)
        at_or_below = (windows <= level).all(axis=-1).any(axis=-1)
        np.testing.assert_array_equal(run_high >= level, at_or_above)
        np.testing.assert_array_equal(run_low <= level, at_or_below)


def test_detect_statistics_refuses_what_it_cannot_judge():
    X, groups = _recordings()
    detector = ArtefactDetector().fit(X)
    with pytest.raises(TypeError, match="ArtefactStatistics"):
        detector.detect_statistics(X, groups)
    other = ArtefactDetector(ch_names=["a", "b"], ch_types=["eeg", "emg"]).fit(X[:, :2])
    with pytest.raises(ValueError, match="3 channels; the detector was fitted on 2"):
        other.detect_statistics(detector.epoch_statistics(X))
    with pytest.raises(ValueError, match="at least one"):
        ArtefactStatistics.concatenate([])
