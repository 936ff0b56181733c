"""Reading EDF files a chunk of epochs at a time: the chunks put together are read_edf's epochs."""

from __future__ import annotations

import numpy as np
import pytest
from _edf_files import START, write_edf

from sleepstage.data import EpochData, iter_edf, read_edf
from sleepstage.data import _edf as edf_module
from sleepstage.io import write_edf_annotations

STAGES = ["Sleep stage W", "Sleep stage 2", "Sleep stage ?", "Sleep stage R", "Sleep stage 1"]
# larger than any recording below, prime, and one epoch; with 60-s margins every chunk edge
# lies inside the resampling filter's reach of its neighbours
CHUNKS = [10**6, 7, 1]


def noise(seconds: int, sfreq: int, n_channels: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n_channels, seconds * sfreq)) * 50


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("stream")


@pytest.fixture(scope="module")
def hypnogram(folder):
    """0-120 s wake, 120-300 s N2, 300-420 s unscored, 420-600 s REM, 600-660 s N1."""
    return write_edf_annotations(folder / "night-Hypnogram.edf", [0, 120, 300, 420, 600],
                                 [120, 180, 120, 180, 60], STAGES, start=START)


@pytest.fixture(scope="module")
def files(folder):
    """Plain EDFs whose length (in s) is not a whole number of epochs, and an EDF+D."""
    gap_onsets = np.concatenate([np.arange(200.0), 400.5 + np.arange(250.0)])
    return {
        1000: write_edf(folder / "rat-1000.edf", noise(367, 1000), 1000, ["EEG a", "EMG b"]),
        256: write_edf(folder / "psg-256.edf", noise(687, 256), 256, ["EEG a", "EMG b"],
                       edf_plus=True),
        101: write_edf(folder / "odd-101.edf", noise(613, 101), 101, ["EEG a", "EMG b"]),
        "gap": write_edf(folder / "gap-256.edf", noise(450, 256), 256, ["EEG a", "EMG b"],
                         record_onsets=gap_onsets),
    }


def assert_same(parts: list[EpochData], whole: EpochData, chunk_epochs: int) -> None:
    """The chunks are at most chunk_epochs long, in order, and together equal ``whole``."""
    assert [p.n_epochs for p in parts[:-1]] == [chunk_epochs] * (len(parts) - 1)
    assert 1 <= parts[-1].n_epochs <= chunk_epochs
    joined = EpochData.concatenate(parts)
    np.testing.assert_array_equal(joined.X, whole.X)  # bit for bit
    np.testing.assert_array_equal(joined.onsets, whole.onsets)
    np.testing.assert_array_equal(joined.groups, whole.groups)
    if whole.y is None:
        assert joined.y is None
    else:
        np.testing.assert_array_equal(joined.y, whole.y)
    assert joined.layout() == whole.layout()
    assert all(p.info == whole.info for p in parts)


@pytest.mark.parametrize("chunk_epochs", CHUNKS)
@pytest.mark.parametrize(("rate", "kwargs"), [
    (1000, {"epoch_length": 4.0}),  # no resampling
    (1000, {"epoch_length": 4.0, "resample": 128}),  # up / down = 16 / 125
    (256, {"resample": 100}),  # 25 / 64: 30-s epochs of 7680 input samples
    (101, {"epoch_length": 2.5, "resample": 128}),  # 128 / 101: epochs of 252.5 samples
])
def test_chunks_equal_the_whole_read(files, rate, kwargs, chunk_epochs):
    whole = read_edf(files[rate], **kwargs)
    assert_same(list(iter_edf(files[rate], chunk_epochs=chunk_epochs, **kwargs)), whole,
                chunk_epochs)


@pytest.mark.parametrize("chunk_epochs", CHUNKS)
@pytest.mark.parametrize("kwargs", [
    {"resample": 128},
    {"resample": 128, "keep_wake_minutes": 1.0},
    {"resample": 128, "drop_unscored": False},
    {"drop_unscored": False, "keep_wake_minutes": 2.0},
])
def test_chunks_with_a_hypnogram(files, hypnogram, kwargs, chunk_epochs):
    whole = read_edf(files[1000], hypnogram, **kwargs)
    parts = list(iter_edf(files[1000], hypnogram, chunk_epochs=chunk_epochs, **kwargs))
    assert_same(parts, whole, chunk_epochs)
    # the unscored 300-420 s are dropped (a hole in the onsets) or kept as UNSCORED
    assert (whole.y == "UNSCORED").any() != kwargs.get("drop_unscored", True)


@pytest.mark.parametrize("chunk_epochs", [1, 3, 7])
@pytest.mark.parametrize("kwargs", [{}, {"resample": 100}, {"resample": 128, "epoch_length": 4}])
def test_chunks_of_an_edf_plus_d_file(files, hypnogram, kwargs, chunk_epochs):
    for hyp in (None, hypnogram):
        whole = read_edf(files["gap"], hyp, drop_unscored=False, **kwargs)
        # epochs lie on both sides of the gap (200 to 400.5 s) and none straddles it
        assert whole.onsets.min() < 200 < 400.5 < whole.onsets.max()
        assert not ((whole.onsets < 400.5) & (whole.onsets + whole.epoch_length > 200)).any()
        parts = list(iter_edf(files["gap"], hyp, chunk_epochs=chunk_epochs,
                              drop_unscored=False, **kwargs))
        assert_same(parts, whole, chunk_epochs)


def test_recording_shorter_than_a_chunk_and_not_whole_epochs(files):
    # 367 s of signal: 12 whole 30-s epochs, the last 7 s are not an epoch
    (chunk,) = iter_edf(files[1000], resample=128, chunk_epochs=120)
    assert chunk.n_epochs == 12 and chunk.onsets[-1] == 330.0
    np.testing.assert_array_equal(chunk.X, read_edf(files[1000], resample=128).X)


def test_each_read_is_bounded_by_the_chunk(files, monkeypatch):
    spans = []
    read_span = edf_module._read_span

    def recording(raw, picked, start, stop, path):
        spans.append(stop - start)
        return read_span(raw, picked, start, stop, path)

    monkeypatch.setattr(edf_module, "_read_span", recording)
    chunks = iter_edf(files[1000], epoch_length=4.0, resample=128, chunk_epochs=5)
    assert spans == []  # nothing is read before a chunk is asked for
    n_chunks = sum(1 for _ in chunks)
    # one read per chunk: 5 epochs of 4 s plus at most 60 s of margin on either side
    assert len(spans) == n_chunks == 19 and max(spans) <= (5 * 4 + 2 * 60) * 1000


def test_mixed_rates_fast_channels_identical(folder):
    """MNE upsamples slower channels per read window: only they may differ, and little."""
    edfio = pytest.importorskip("edfio")
    t = np.arange(600 * 10) / 10
    envelope = 20 + 5 * np.sin(2 * np.pi * t / 97) + np.random.default_rng(1).random(t.size)
    path = folder / "mixed.edf"
    edfio.Edf([
        edfio.EdfSignal(noise(600, 200, 1)[0], sampling_frequency=200, label="EEG a",
                        physical_dimension="uV", physical_range=(-400, 400)),
        edfio.EdfSignal(envelope, sampling_frequency=10, label="EMG env",
                        physical_dimension="uV", physical_range=(0, 40)),
    ]).write(path)
    whole = read_edf(path, epoch_length=10.0)
    joined = EpochData.concatenate(list(iter_edf(path, epoch_length=10.0, chunk_epochs=4)))
    np.testing.assert_array_equal(joined.X[:, 0], whole.X[:, 0])
    # the first and last epochs of the file carry MNE's edge effects in both reads
    np.testing.assert_allclose(joined.X[1:-1, 1], whole.X[1:-1, 1], rtol=0.005)


@pytest.mark.parametrize(("chunk_epochs", "error"), [
    (0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError), ("10", TypeError),
])
def test_bad_chunk_epochs(files, chunk_epochs, error):
    with pytest.raises(error, match="'chunk_epochs' parameter must be an integer >= 1"):
        iter_edf(files[1000], chunk_epochs=chunk_epochs)


def test_errors_are_raised_on_the_call(tmp_path, files):
    with pytest.raises(ValueError, match="EDF file not found"):
        iter_edf(tmp_path / "missing.edf")
    with pytest.raises(ValueError, match="not found in"):
        iter_edf(files[1000], channels=["EEG nowhere"])
    assert next(iter_edf(files[1000], chunk_epochs=np.int64(2))).n_epochs == 2


def test_chunks_know_the_recording_before_reading(files, hypnogram, monkeypatch):
    read = []
    monkeypatch.setattr(edf_module, "_read_span",
                        lambda *a, _read=edf_module._read_span: read.append(1) or _read(*a))
    chunks = iter_edf(files[1000], hypnogram, chunk_epochs=7, epoch_length=4.0)
    whole = read_edf(files[1000], hypnogram, epoch_length=4.0)
    read.clear()
    assert (chunks.n_epochs, chunks.chunk_epochs) == (whole.n_epochs, 7)
    assert chunks.info == whole.info and read == []
    assert iter(chunks) is chunks
    assert sum(c.n_epochs for c in chunks) == whole.n_epochs
    assert next(chunks, None) is None  # exhausted, like a generator
