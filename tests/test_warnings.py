"""One warning per cause and run: grid search, the command line, repeated predictions."""

from __future__ import annotations

import re
import warnings

import pytest
from _cli_runner import run_main
from sklearn.base import BaseEstimator, TransformerMixin

from sleepstage._internal.warnings import cause, warn_once_per_message
from sleepstage.data import make_synthetic
from sleepstage.parallel import grid_search
from sleepstage.pipelines import make_staging_pipeline

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=5", "--set", "num_leaves=7"]


class NoisyStep(TransformerMixin, BaseEstimator):
    """Passes features through and warns at every fit, with a number that varies."""

    def fit(self, X, y=None):
        warnings.warn(f"noisy step fitted on {len(X)} epochs", UserWarning, stacklevel=2)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return X


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n_recordings=3, hours=0.2, random_state=0)


def _noisy_pipeline():
    pipeline = make_staging_pipeline(plain=True, n_estimators=5, num_leaves=7, n_jobs=1)
    pipeline.steps.insert(1, ("noisy", NoisyStep()))
    return pipeline


def test_grid_search_shows_each_cause_once(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # the strictest setting: every occurrence shown
        grid_search(_noisy_pipeline(), data, {"learning_rate": [0.1, 0.2]})
    noisy = [w for w in caught if "noisy step" in str(w.message)]
    # 2 candidates x 3 folds + the refit fit the step 7 times; one warning is shown
    assert len(noisy) == 1, [str(w.message) for w in noisy]


def test_grid_search_keeps_ignore_and_error_filters(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="noisy step")
        grid_search(_noisy_pipeline(), data, {"learning_rate": [0.1]})
    assert not [w for w in caught if "noisy step" in str(w.message)]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="noisy step")
        with pytest.raises(UserWarning, match="noisy step"):
            grid_search(_noisy_pipeline(), data, {"learning_rate": [0.1]}, error_score="raise")


def test_each_run_shows_its_warnings_again():
    def run():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            with warn_once_per_message():
                for n in (269, 270, 271):
                    with warnings.catch_warnings():  # as each scikit-learn task does
                        warnings.warn(f"shortest: {n}", UserWarning, stacklevel=1)
                warnings.warn("recording 'a' is short", UserWarning, stacklevel=1)
                warnings.warn("recording 'b' is short", UserWarning, stacklevel=1)
        return [str(w.message) for w in caught]

    assert run() == ["shortest: 269", "recording 'a' is short", "recording 'b' is short"]
    assert run() == ["shortest: 269", "recording 'a' is short", "recording 'b' is short"]


def test_cause_ignores_numbers_but_not_quoted_names():
    assert cause(UserWarning, "fold 1: 3 epochs") == cause(UserWarning, "fold 4: 12 epochs")
    assert cause(UserWarning, "recording 'rec-1'") != cause(UserWarning, "recording 'rec-2'")
    assert cause(UserWarning, "x 1") != cause(RuntimeWarning, "x 1")


def _warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_cli_grid_search_shows_the_scaler_warning_once(capsys, tmp_path):
    # 0.2-h recordings are too short for the per-recording scaler: every fit warns
    status, _, err = run_main(capsys, "grid-search", "--synthetic", "2", "--hours", "0.2",
                              *FAST, "--grid", "learning_rate=0.1,0.2", "-o", tmp_path / "gs")
    assert status == 0, err
    lines = _warning_lines(err)
    assert lines, err
    causes = [cause(UserWarning, line) for line in lines]
    assert len(causes) == len(set(causes)), lines


def test_cli_predict_shows_each_warning_once(capsys, tmp_path):
    # scaling on for 270-epoch training recordings; the 90-epoch recording scored below is
    # shorter than min_epochs, which the scaler reports at predict_proba and at predict
    model = tmp_path / "m.joblib"
    status, _, err = run_main(capsys, "fit", "--synthetic", "2", "--hours", "0.3", *FAST,
                              "--set", "min_epochs=100", "-o", model)
    assert status == 0, err
    status, _, err = run_main(capsys, "predict", model, "--synthetic", "1", "--seed", "4",
                              "--hours", "0.1", "-o", tmp_path / "out")
    assert status == 0, err
    lines = _warning_lines(err)
    assert any("min_epochs=100" in line for line in lines), err
    assert len(lines) == len(set(lines)), lines


@pytest.mark.slow
def test_artefact_counts_agree_between_commands(capsys, tmp_path, data_dir):
    """SC4001: evaluate with 5 blocks, fit and the detector itself flag the same epochs."""
    from sleepstage.data import load_sleep_edf
    from sleepstage.features import detect_artefacts

    night = load_sleep_edf(subjects=(0,), recordings=(1,), path=data_dir)
    expected = int(detect_artefacts(night.X, night.groups, **night.layout())["artefact"].sum())
    common = ["--sleep-edf", "0", "--data-dir", data_dir, *FAST]
    counts = []
    for command, extra in (("evaluate", ["--cv", "blocks:5", "-o", tmp_path / "ev.json"]),
                           ("fit", ["-o", tmp_path / "m.joblib"])):
        status, _, err = run_main(capsys, command, *common, *extra)
        assert status == 0, err
        lines = [line for line in err.splitlines() if "flagged as artefacts" in line]
        assert lines, err
        for line in lines:
            counts.append(re.search(r"(\d+) of (\d+) (?:training )?epochs", line).groups())
            if "by reason" in line:
                assert "which can overlap" in line
    assert set(counts) == {(str(expected), str(night.n_epochs))}, counts


def test_cross_validation_shows_each_cause_once(data):
    from sleepstage.pipelines import cross_validate_recordings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cross_validate_recordings(_noisy_pipeline(), data)
    noisy = [w for w in caught if "noisy step" in str(w.message)]
    assert len(noisy) == 1, [str(w.message) for w in noisy]  # 3 folds, one warning
