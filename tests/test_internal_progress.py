"""Progress of long library calls: silent by default, one line per task with verbose=1."""

from __future__ import annotations

import io
import logging

import joblib
import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline

from sleepstage._internal import progress as _progress
from sleepstage.data import make_synthetic
from sleepstage.features import EpochFeatures, RecordingScaler
from sleepstage.parallel import extract_features, fit_pipeline, grid_search
from sleepstage.pipelines import (
    cross_validate_recordings,
    fit_with_groups,
    make_staging_pipeline,
    predict_with_groups,
)


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n_recordings=3, hours=0.2, random_state=0)


def _pipeline():
    return make_staging_pipeline(n_estimators=5, num_leaves=7, n_jobs=1)


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
@pytest.mark.parametrize("exclude_artefacts", [True, False])
def test_fit_with_groups_verbose_reports_every_step(capsys, data, quiet_logging,
                                                    exclude_artefacts):
    shown = fit_with_groups(_pipeline(), data.X, data.y, data.groups,
                            exclude_artefacts=exclude_artefacts, verbose=1)
    lines = capsys.readouterr().err.splitlines()
    steps = [line for line in lines if line.startswith("fitting step")]
    assert [line.split(" on ")[0] for line in steps] == [
        "fitting step 'features' (1/4)", "fitting step 'scaler' (2/4)",
        "fitting step 'context' (3/4)", "fitting step 'classifier' (4/4)"]
    assert all(line.endswith(" epochs") for line in steps)
    assert lines[0].startswith("fitting features -> scaler") and lines[-1].startswith("fitted")
    # fitting one step at a time to say so is the same fit
    quiet = fit_with_groups(_pipeline(), data.X, data.y, data.groups,
                            exclude_artefacts=exclude_artefacts)
    np.testing.assert_allclose(
        predict_with_groups(shown, data.X, data.groups, method="predict_proba"),
        predict_with_groups(quiet, data.X, data.groups, method="predict_proba"))


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


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_grid_search_verbose_reports_every_fit_and_the_refit(capsys, data, quiet_logging):
    quick = Pipeline([("features", EpochFeatures(include=("spectral", "emg"))),
                      ("scaler", RecordingScaler(reference="recording", min_epochs=10)),
                      ("classifier", GaussianNB())])
    grid = {"classifier__var_smoothing": [1e-9, 1e-3]}
    grid_search(quick, data, grid, n_jobs=1)
    assert capsys.readouterr() == ("", "")  # silent by default
    grid_search(quick, data, grid, n_jobs=1, verbose=1)
    out, err = capsys.readouterr()
    assert out.splitlines() == ["Fitting 3 folds for each of 2 candidates, totalling 6 fits"]
    assert "fitting step 'features' (1/3)" in err and "fitted in" in err  # the refit
    grid_search(quick, data, grid, n_jobs=1, verbose=2)
    out, _ = capsys.readouterr()
    finished = [line for line in out.splitlines() if line.startswith("[CV] END")]
    assert len(finished) == 6  # one line per finished (candidate, fold) fit
    assert sum("var_smoothing=0.001" in line for line in finished) == 3


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
