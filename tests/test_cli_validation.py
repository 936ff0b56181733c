"""Command-line settings checked before any recording is read: --set, --grid, --n-jobs."""

from __future__ import annotations

import argparse
import logging

import pytest
from _cli_runner import run_main

from sleepstage._cli import _evaluate, _fit, _grid_search
from sleepstage._cli._args import UsageError, parse_grid
from sleepstage._cli._parallel import resolve_n_jobs
from sleepstage.pipelines import make_pipeline

SYNTH = ["--synthetic", "2", "--hours", "0.2"]


@pytest.fixture
def no_loading(monkeypatch):
    """Make any attempt to load data fail loudly: the checks must come first."""
    def refuse(*args, **kwargs):
        raise RuntimeError("data were loaded before the settings were checked")

    for module in (_fit, _evaluate, _grid_search):
        monkeypatch.setattr(module, "load_data", refuse)


# -- --grid -----------------------------------------------------------------------------------
def test_grid_short_and_full_name_of_one_parameter_is_an_error():
    pipeline = make_pipeline(n_jobs=1)
    with pytest.raises(UsageError, match=r"num_leaves=7.*classifier__estimator__num_leaves=15"):
        parse_grid(["num_leaves=7", "classifier__estimator__num_leaves=15"], None, pipeline)
    with pytest.raises(UsageError, match="both set 'classifier__estimator__num_leaves'"):
        parse_grid(["num_leaves=7", "num_leaves=15"], None, pipeline)


def test_grid_file_with_two_names_of_one_parameter_is_an_error(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("num_leaves: [7]\nclassifier__estimator__num_leaves: [15]\n")
    with pytest.raises(UsageError, match="'num_leaves' and 'classifier__estimator__num_leaves'"):
        parse_grid(None, str(grid), make_pipeline(n_jobs=1))


def test_grid_command_line_replacing_a_file_value_says_so(tmp_path, caplog):
    grid = tmp_path / "grid.yaml"
    grid.write_text("num_leaves: [7, 15]\nlearning_rate: [0.1]\n")
    with caplog.at_level(logging.WARNING, logger="sleepstage.cli"):
        grids = parse_grid(["classifier__estimator__num_leaves=31"], str(grid),
                           make_pipeline(n_jobs=1))
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
