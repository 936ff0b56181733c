"""``sleepstage predict`` over many recordings: one at a time, in parallel, from lists and globs.

Each recording is read, scored and written on its own; the results must equal scoring every
recording at once (the per-recording steps work within a recording), one recording's
failure must leave the others' outputs, and ``--n-jobs`` / ``--dask-scheduler`` must give
the serial run's files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main
from _edf_files import START, write_edf

from sleepstage.data import EpochData, make_synthetic, read_edf
from sleepstage.io import load_model, write_edf_annotations
from sleepstage.pipelines import predict_with_groups

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=10", "--set", "num_leaves=7"]
CHANNELS = {"eeg1": "eeg", "eeg2": "eeg", "emg": "emg"}
NAMES = ["mouse-a", "mouse-b", "mouse-c"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("many")


@pytest.fixture(scope="module")
def model(folder):
    path = folder / "mice.joblib"
    status = run_main(_NoCapture(), "fit", "--synthetic", "2", "--hours", "0.25", *FAST,
                      "-o", path)[0]
    assert status == 0
    return path


class _NoCapture:
    """Stands in for ``capsys`` in module fixtures (output is not checked there)."""

    @staticmethod
    def readouterr():
        return "", ""


@pytest.fixture(scope="module")
def edfs(folder):
    """Three 6-minute synthetic recordings (128 Hz, 2 EEG + EMG) as EDF files."""
    data = make_synthetic(n_recordings=3, hours=0.1, sfreq=128.0, epoch_length=4.0,
                          random_state=5)
    (folder / "edf").mkdir()
    paths = []
    for name, rec in zip(NAMES, data.recordings, strict=True):
        X = data.X[data.groups == rec]  # epochs x channels x samples, volts
        signals = np.concatenate(list(X), axis=-1) * 1e6
        paths.append(write_edf(folder / "edf" / f"{name}.edf", signals, 128, list(CHANNELS)))
    return paths


def expected_tables(model_path, paths) -> dict[str, pd.DataFrame]:
    """Every recording scored at once with the library (the behaviour before per-recording)."""
    model = load_model(model_path)
    data = EpochData.concatenate([
        read_edf(p, channels=CHANNELS, epoch_length=4.0, recording_id=p.stem) for p in paths])
    proba = predict_with_groups(model.pipeline, data.X, data.groups, method="predict_proba")
    pred = np.asarray(predict_with_groups(model.pipeline, data.X, data.groups))
    out = {}
    for rec in data.recordings:
        mask = data.groups == rec
        table = pd.DataFrame({"stage": pred[mask]})
        for i, c in enumerate(model.pipeline.classes_):
            table[f"proba_{c}"] = np.asarray(proba)[mask, i]
        out[str(rec)] = table
    return out


def read_outputs(out_dir, names=NAMES) -> dict[str, pd.DataFrame]:
    return {n: pd.read_csv(out_dir / f"{n}_hypnogram.csv") for n in names}


def test_glob_scores_each_recording_as_all_at_once(capsys, tmp_path, model, edfs, folder):
    status, out, err = run_main(capsys, "predict", model, "--edf", folder / "edf" / "*.edf",
                                "-o", tmp_path)
    assert status == 0, err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == NAMES  # sorted, in order
    assert lines[-1] == f"Outputs written to {tmp_path}"
    tables = read_outputs(tmp_path)
    for name, expected in expected_tables(model, edfs).items():
        table = tables[name]
        assert len(table) == 90 and table.epoch.tolist() == list(range(90))
        np.testing.assert_allclose(table.onset, np.arange(90) * 4.0)
        assert table.stage.tolist() == expected.stage.tolist()
        for column in expected.columns[1:]:  # the CSV keeps 10 decimals
            np.testing.assert_allclose(table[column], expected[column], rtol=0, atol=1e-9)


def test_n_jobs_2_equals_serial(capsys, tmp_path, model, edfs):
    sources = [a for p in edfs for a in ("--edf", p)]
    assert run_main(capsys, "predict", model, *sources, "-o", tmp_path / "serial")[0] == 0
    status, out, err = run_main(capsys, "predict", model, *sources, "--n-jobs", "2",
                                "-o", tmp_path / "parallel")
    assert status == 0, err
    assert sorted(line.split(":")[0] for line in out.splitlines()[:3]) == NAMES
    for name in NAMES:
        serial = (tmp_path / "serial" / f"{name}_hypnogram.csv").read_bytes()
        assert (tmp_path / "parallel" / f"{name}_hypnogram.csv").read_bytes() == serial


def test_a_failing_recording_is_reported_and_the_others_kept(capsys, tmp_path, model, edfs):
    broken = tmp_path / "broken.edf"
    broken.write_bytes(b"not an EDF file at all" * 20)
    wrong = write_edf(tmp_path / "wrong.edf", np.zeros((2, 128 * 60)), 128, ["EEG x", "EMG y"])
    sources = ["--edf", edfs[0], "--edf", broken, "--edf", wrong, "--edf", edfs[1]]
    status, out, err = run_main(capsys, "predict", model, *sources, "-o", tmp_path / "out")
    assert status == 1
    errors = [line for line in err.splitlines() if line.startswith("sleepstage: error:")]
    assert len(errors) == 3 and "Traceback" not in err
    assert errors[0].startswith("sleepstage: error: recording broken:")
    assert errors[1].startswith("sleepstage: error: recording wrong:") and "'eeg1'" in errors[1]
    assert "2 of 4 recordings failed (broken, wrong)" in errors[2]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["mouse-a_hypnogram.csv", "mouse-b_hypnogram.csv"]
    assert "mouse-a: 90 epochs" in out and "mouse-b: 90 epochs" in out


def test_edf_list_with_comments_relative_paths_and_hypnograms(capsys, tmp_path, model, edfs):
    hyp = write_edf_annotations(tmp_path / "a-Hypnogram.edf", [0, 120], [120, 240],
                                ["Sleep stage W", "Sleep stage 2"], start=START)
    listing = tmp_path / "lists" / "study.txt"
    listing.parent.mkdir()
    listing.write_text(f"# the study\n\n{edfs[0]}\t../{hyp.name}\n  {edfs[2]}  \n"
                       "# done\n")
    status, out, err = run_main(capsys, "predict", model, "--edf-list", listing,
                                "--edf", edfs[1], "-o", tmp_path / "out")
    assert status == 0, err
    assert [line.split(":")[0] for line in out.splitlines()[:3]] == [
        "mouse-b", "mouse-a", "mouse-c"]  # --edf first, then the list in its order
    tables = read_outputs(tmp_path / "out")
    assert "scored" in tables["mouse-a"] and "scored" not in tables["mouse-c"]
    assert tables["mouse-a"].scored.iloc[0] == "WAKE" and "agreement" in out
    expected = expected_tables(model, edfs)
    for name in NAMES:
        assert tables[name].stage.tolist() == expected[name].stage.tolist()


@pytest.mark.parametrize(("make", "message"), [
    (lambda d, e: ["--edf-list", d / "nope.txt"], "the list file does not exist"),
    (lambda d, e: ["--edf-list", _listing(d, f"{e[0]}\n# x\nmissing.edf\n")],
     "list.txt, line 3: the recording"),
    (lambda d, e: ["--edf-list", _listing(d, f"{e[0]}\t{d}/none.edf\n")],
     "line 1: the hypnogram"),
    (lambda d, e: ["--edf", d / "*.nothing"], "the pattern matches no file"),
    (lambda d, e: ["--edf", e[0].parent / "*.edf", "--hypnogram", e[0]],
     "give each scored recording its own --edf"),
])
def test_list_and_pattern_errors(capsys, tmp_path, model, edfs, make, message):
    status, _, err = run_main(capsys, "predict", model, *make(tmp_path, edfs),
                              "-o", tmp_path / "out")
    assert status in (1, 2) and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def _listing(folder, text):
    path = folder / "list.txt"
    path.write_text(text)
    return path


def test_outputs_are_checked_before_any_work(capsys, tmp_path, model, edfs):
    (tmp_path / "mouse-c_hypnogram.csv").write_text("kept")
    status, _, err = run_main(capsys, "predict", model, "--edf", edfs[0].parent / "*.edf",
                              "-o", tmp_path)
    assert status == 1 and "already exist" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mouse-c_hypnogram.csv"]


def test_dask_scheduler_equals_serial(capsys, tmp_path, model, edfs):
    distributed = pytest.importorskip("distributed")
    sources = ["--edf", edfs[0].parent / "*.edf"]
    assert run_main(capsys, "predict", model, *sources, "-o", tmp_path / "serial")[0] == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client, \
            distributed.get_task_stream(client) as stream:
        status, _, err = run_main(capsys, "predict", model, *sources, "--dask-scheduler",
                                  cluster.scheduler_address, "-o", tmp_path / "dask")
    assert status == 0, err
    assert len(stream.data) >= 3  # one task per recording reached the workers
    for name in NAMES:
        serial = (tmp_path / "serial" / f"{name}_hypnogram.csv").read_bytes()
        assert (tmp_path / "dask" / f"{name}_hypnogram.csv").read_bytes() == serial


def test_other_subcommands_read_lists_and_patterns(capsys, tmp_path, edfs):
    listing = _listing(tmp_path, f"{edfs[2]}\n")
    status, _, err = run_main(capsys, "features", "--edf", edfs[0].parent / "mouse-[ab].edf",
                              "--edf-list", listing, "-o", tmp_path / "f.csv")
    assert status == 0, err
    features = pd.read_csv(tmp_path / "f.csv")
    assert features.recording.value_counts().to_dict() == dict.fromkeys(NAMES, 12)  # 30-s


def test_contradicting_the_model_is_one_usage_error(capsys, tmp_path, model, edfs):
    status, _, err = run_main(capsys, "predict", model, "--edf", edfs[0].parent / "*.edf",
                              "--sfreq", "100", "-o", tmp_path / "out")
    assert status == 2 and err.count("contradicts the model's 128 Hz") == 1
