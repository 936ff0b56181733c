"""``sleepstage predict`` reads EDF files a chunk of epochs at a time: same outputs as whole.

The streamed path (``sleepstage.cli._stream``) computes the per-epoch features, artefact
statistics and spectral edges chunk by chunk and runs the per-recording steps on the whole
recording's rows; every output must equal the path that reads the recording at once
(``load_data`` then ``_score``), with chunk edges anywhere, a recording shorter than one
chunk and a file that does not hold a whole number of epochs.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main
from _edf_files import write_edf
from scipy.signal import resample_poly

from sleepstage.cli import _predict, _provenance, _stream
from sleepstage.cli._loading import load_data
from sleepstage.cli._main import build_parser
from sleepstage.data import make_synthetic
from sleepstage.io import load_model, write_edf_annotations
from sleepstage.pipelines import make_staging_pipeline, split_per_epoch

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=10", "--set", "num_leaves=7"]
FILE_NAMES = ["EEG C3", "EEG C4", "EMG chin"]  # mapped onto the model's with --rename
RENAMES = ["--rename", "EEG C3=eeg1", "--rename", "EEG C4=eeg2", "--rename", "EMG chin=emg"]


class _NoCapture:
    @staticmethod
    def readouterr():
        return "", ""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("stream")


@pytest.fixture(scope="module")
def model(folder):
    path = folder / "mice.joblib"
    assert run_main(_NoCapture(), "fit", "--synthetic", "2", "--hours", "0.25", *FAST,
                    "-o", path)[0] == 0
    return path


def _signals(seed: int, hours: float = 0.15) -> np.ndarray:
    """Continuous microvolts (3 x samples at 128 Hz) with a flat EMG and an EEG spike."""
    data = make_synthetic(n_recordings=1, hours=hours, sfreq=128.0, epoch_length=4.0,
                          random_state=seed, artefact_rate=0)
    signals = np.concatenate(list(data.X), axis=-1) * 1e6
    signals[2, 20 * 512 + 100: 20 * 512 + 400] = 0.0  # EMG lead off in epoch 20
    signals[1, 50 * 512: 50 * 512 + 200] += 40 * np.abs(signals[1]).max()  # epoch 50
    return signals


@pytest.fixture(scope="module")
def edf_1k(folder):
    """1 kHz file (resampled to the model's 128 Hz) ending 2.5 s into an epoch."""
    signals = resample_poly(_signals(1), 1000, 128, axis=1)
    signals = signals[:, : signals.shape[1] - 4000 + 2500 - signals.shape[1] % 1000]
    return write_edf(folder / "rat-1k.edf", signals, 1000, FILE_NAMES)


@pytest.fixture(scope="module")
def edf_128(folder):
    """128 Hz file (no resampling) with the EEG stuck at its maximum for 0.2 s."""
    signals = _signals(2)
    signals[0, 70 * 512 + 10: 70 * 512 + 36] = signals[0].max()
    return write_edf(folder / "rat-128.edf", signals, 128, FILE_NAMES)


def _args(model, edf, *extra):
    return build_parser().parse_args(["predict", str(model), "--edf", str(edf), *RENAMES,
                                      *extra])


def _whole(model_file, args, entry):
    one = copy.copy(args)
    one.edf = [entry]
    return _predict._score(model_file, load_data(one, need_labels=False,
                                                 model=model_file).data, None)


def _streamed(model_file, args, entry, chunk_epochs):
    streamed = _stream.stream_edf(model_file, args, entry, chunk_epochs=chunk_epochs)
    assert streamed is not None
    return _predict._score(model_file, *streamed)


@pytest.mark.filterwarnings("ignore:RecordingScaler")
@pytest.mark.parametrize("which", ["edf_1k", "edf_128"])
def test_streamed_tables_equal_whole_file(request, model, which):
    edf = request.getfixturevalue(which)
    model_file = load_model(model)
    args = _args(model, edf)
    entry = {"psg": str(edf), "hypnogram": None, "id": "rat"}
    whole = _whole(model_file, args, entry)
    reasons = set(whole.table["artefact_reasons"])
    assert {"emg:flat", "eeg2:amplitude"} <= reasons
    if which == "edf_128":
        assert "eeg1:clipping" in reasons
    # small chunks: edges everywhere, within the resampling filter's reach of each other;
    # 1000: one chunk longer than the recording
    for chunk_epochs in ((1, 64, 1000) if which == "edf_128" else (3, 1000)):
        streamed = _streamed(model_file, args, entry, chunk_epochs)
        pd.testing.assert_frame_equal(streamed.table, whole.table, check_exact=True)
        np.testing.assert_array_equal(streamed.proba, whole.proba)


@pytest.mark.filterwarnings("ignore:RecordingScaler")
def test_scored_recording_keeps_its_stages(folder, model, edf_128):
    onsets = np.arange(0, 130 * 4, 40.0)
    stages = ["Sleep stage W", "Sleep stage 2"] * 7
    hyp = write_edf_annotations(folder / "rat-128-Hypnogram.edf", onsets,
                                np.full(onsets.size, 40.0), stages[: onsets.size])
    model_file = load_model(model)
    args = _args(model, edf_128)
    entry = {"psg": str(edf_128), "hypnogram": str(hyp), "id": "rat"}
    whole = _whole(model_file, args, entry)
    streamed = _streamed(model_file, args, entry, 9)
    assert "scored" in whole.table
    pd.testing.assert_frame_equal(streamed.table, whole.table, check_exact=True)


@pytest.mark.filterwarnings("ignore:RecordingScaler")
def test_spectral_edges_are_those_of_the_sampled_epochs(monkeypatch, model, edf_1k):
    monkeypatch.setattr(_provenance, "_EDGE_EPOCHS", 20)  # every 7th epoch of 146
    model_file = load_model(model)
    args = _args(model, edf_1k)
    entry = {"psg": str(edf_1k), "hypnogram": None, "id": "rat"}
    one = copy.copy(args)
    one.edf = [entry]
    data = load_data(one, need_labels=False, model=model_file).data
    assert _provenance.edge_step(data.n_epochs) > 1
    for chunk_epochs in (5, 13):
        streamed, _ = _stream.stream_edf(model_file, args, entry, chunk_epochs=chunk_epochs)
        np.testing.assert_array_equal(streamed.edges, _provenance._edges(data.X, data.sfreq))


@pytest.mark.filterwarnings("ignore:RecordingScaler")
def test_predict_command_writes_the_whole_file_outputs(capsys, tmp_path, model, edf_1k):
    status, _, _ = run_main(capsys, "predict", model, "--edf", edf_1k, *RENAMES,
                            "-o", tmp_path)
    assert status == 0
    model_file = load_model(model)
    whole = _whole(model_file, _args(model, edf_1k),
                   {"psg": str(edf_1k), "hypnogram": None, "id": "rat-1k"})
    expected = tmp_path / "expected.csv"
    _predict._write(whole, [expected], force=False)
    assert (tmp_path / "rat-1k_hypnogram.csv").read_bytes() == expected.read_bytes()


def test_chunk_size_follows_the_memory_budget():
    assert _stream.chunk_epochs_for(1000, 3, 4.0) == _stream.CHUNK_BYTES // (1000 * 4 * 3 * 8)
    assert _stream.chunk_epochs_for(100, 3, 30.0, budget=1.0) == 1


def test_pipelines_without_a_per_epoch_step_are_read_whole():
    rng = np.random.default_rng(0)
    y = np.tile([1, 2, 3], 20)
    on_features = make_staging_pipeline(plain=True, features=False, n_estimators=5)
    on_features.fit(rng.standard_normal((60, 8)), y)
    assert split_per_epoch(on_features) is None
    assert split_per_epoch(on_features[-1]) is None  # a bare classifier
    X = rng.standard_normal((60, 3, 512)).astype("float32")
    full = make_staging_pipeline(n_estimators=5, context=False, scaler=False,
                                 smoothing=None).fit(X, y)
    step, rest = split_per_epoch(full)
    assert step is full.named_steps["features"]
    assert [name for name, _ in rest.steps] == ["classifier"]
