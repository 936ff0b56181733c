"""``sleepstage.data.channel_type`` (the one name -> type rule) and ``resample_epochs``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from sleepstage.data import EpochData, channel_type, make_synthetic, resample_epochs
from sleepstage.features import SpectralFeatures


@pytest.mark.parametrize(("name", "expected"), [
    ("EEG Fpz-Cz", "eeg"),
    ("EMG submental", "emg"),
    ("EOG horizontal", "eog"),
    ("emg", "emg"),
    ("eeg1", "eeg"),
    ("EEG-EMG bipolar", "emg"),  # EMG wins over EEG, EOG over EEG
    ("EEG EOG", "eog"),
    ("Fpz-Cz", "eeg"),  # no type in the name: the default
])
def test_channel_type(name, expected):
    assert channel_type(name) == expected


def test_channel_type_default_none_skips_unnamed_channels():
    assert channel_type("Resp oro-nasal", None) is None
    assert channel_type("Event marker", default="eog") == "eog"


def test_feature_extractors_use_the_same_rule():
    names = ("EEG Fpz-Cz", "Pz-Oz", "EMG chin", "EOG left")
    X = np.zeros((2, 4, 512), np.float32)
    step = SpectralFeatures(sfreq=128.0, ch_names=names).fit(X)
    assert step.ch_types_ == tuple(channel_type(n) for n in names)


def _data(sfreq: float = 128.0, epoch_length: float = 4.0) -> EpochData:
    rng = np.random.default_rng(0)
    n = round(sfreq * epoch_length)
    return EpochData(rng.standard_normal((3, 2, n)).astype(np.float32), None, np.zeros(3),
                     sfreq, ("eeg", "emg"), ("eeg", "emg"), epoch_length)


def test_resample_epochs_matches_resample_poly():
    data = _data()
    out = resample_epochs(data, 100.0)
    assert out.X.shape == (3, 2, 400) and out.X.dtype == np.float32 and out.sfreq == 100.0
    expected = resample_poly(data.X, 25, 32, axis=-1).astype(np.float32)
    np.testing.assert_allclose(out.X, expected, rtol=1e-6)
    assert out.ch_names == data.ch_names and out.epoch_length == data.epoch_length


def test_resample_epochs_same_rate_returns_the_data():
    data = _data()
    assert resample_epochs(data, 128.0) is data


def test_resample_epochs_needs_whole_samples():
    with pytest.raises(ValueError, match="not a whole number of samples"):
        resample_epochs(_data(epoch_length=1.0), 100.5)
    with pytest.raises(ValueError, match="'sfreq' parameter must be a finite number > 0"):
        resample_epochs(_data(), 0)


def test_resample_epochs_of_synthetic_data():
    data = make_synthetic(n_recordings=1, hours=0.1)
    assert resample_epochs(data, 64.0).X.shape == (90, 3, 256)
