"""Progress of long library calls: silent by default, one line per task with verbose=1."""

from __future__ import annotations

import io
import logging

import joblib
import pytest

from sleepstage import _progress
from sleepstage.data import make_synthetic
from sleepstage.parallel import extract_features, fit_pipeline
from sleepstage.pipelines import cross_validate_recordings, fit_with_groups, make_pipeline


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n_recordings=3, hours=0.2, random_state=0)


def _pipeline():
    return make_pipeline(n_estimators=5, num_leaves=7, n_jobs=1)


@pytest.fixture
def quiet_logging():
    """Logging as in a fresh session: sleepstage's INFO records are not shown anywhere."""
    log = logging.getLogger("sleepstage")
    saved = log.handlers[:], log.level, log.propagate
    log.handlers[:] = []
    log.setLevel(logging.NOTSET)
    log.propagate = True
    yield
    log.handlers[:], log.level, log.propagate = saved


def test_cross_validation_is_silent_by_default(capsys, data, quiet_logging):
    with pytest.warns(UserWarning):  # the recordings are short for the scaler
        cross_validate_recordings(_pipeline(), data)
    assert capsys.readouterr().err == ""


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_cross_validation_verbose_reports_every_fold(capsys, data, quiet_logging):
    report = cross_validate_recordings(_pipeline(), data, verbose=1)
    err = capsys.readouterr().err
    for k in range(3):
        assert f"cross-validation folds: {k + 1}/3 done" in err
        score = report.folds[k]["balanced_accuracy"]
        assert f"fold {k}: balanced accuracy {score:.3f}" in err


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_cross_validation_progress_with_parallel_folds(capsys, data, quiet_logging):
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        cross_validate_recordings(_pipeline(), data, n_jobs=2, verbose=1)
    err = capsys.readouterr().err
    assert "cross-validation folds: 3/3 done" in err


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_verbose_goes_to_the_logger_when_logging_shows_it(capsys, caplog, data):
    with caplog.at_level(logging.INFO, logger="sleepstage"):
        fit_with_groups(_pipeline(), data.X, data.y, data.groups, verbose=1)
    assert "fitting features -> scaler -> context -> classifier on 540 epochs of 3" in caplog.text
    assert "fitted in" in caplog.text
    assert "fitting" not in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_fit_with_groups_and_fit_pipeline_silent_by_default(capsys, data, quiet_logging):
    fit_with_groups(_pipeline(), data.X, data.y, data.groups)
    fit_pipeline(_pipeline(), data, n_jobs=1)
    extract_features(data, n_jobs=1)
    assert capsys.readouterr().err == ""


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_feature_extraction_and_fit_pipeline_verbose(capsys, data, quiet_logging):
    with joblib.parallel_config(backend="threading"):
        extract_features(data, n_jobs=2, verbose=1)
    err = capsys.readouterr().err
    assert "feature extraction: recordings: 3/3 done" in err
    fit_pipeline(_pipeline(), data, n_jobs=1, verbose=1)
    err = capsys.readouterr().err
    assert "fitted in" in err


def test_progress_bar_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    with _progress.Progress(2, "folds", verbose=1, logger=logging.getLogger("x")) as bar:
        bar.update("fold 0")
        bar.update("fold 1")
    text = stream.getvalue()
    assert "folds" in text and "2/2" in text and "\r" in text  # a redrawn bar, not lines
