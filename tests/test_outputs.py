"""Output files: only regular files are replaced, links are followed, every output is checked
before any work, failures remove only what the run wrote, and messages name the user's paths."""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main

from sleepstage import report
from sleepstage._internal import routing
from sleepstage.cli import _features, _fit, _predict
from sleepstage.cli._args import DataError
from sleepstage.data import make_synthetic
from sleepstage.io import (
    atomic_outputs,
    atomic_write,
    check_folder,
    check_writable,
    save_model,
    write_table,
)
from sleepstage.pipelines import fit_with_groups, make_staging_pipeline

SYNTH = ["--synthetic", "1", "--hours", "0.05"]  # 45 epochs


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    data = make_synthetic(n_recordings=2, hours=0.5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the scaler on 30-min recordings
        fitted = fit_with_groups(make_staging_pipeline(**data.layout(), n_estimators=5, n_jobs=1),
                                 data.X, data.y, data.groups)
    path = tmp_path_factory.mktemp("model") / "mice.joblib"
    return save_model(fitted, path, data=data)


@pytest.fixture
def no_data_loading(monkeypatch):
    """Make every command fail loudly if it reads its data source; returns the call list."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(kwargs.get("purpose"))
        raise RuntimeError("the data were loaded")

    for module in (_fit, _predict, _features):
        monkeypatch.setattr(module, "load_data", refuse)
    return calls


def _hidden(folder):
    return sorted(p.name for p in folder.rglob(".*"))


# -- item: non-regular outputs and symbolic links -------------------------------------------------
def test_devices_are_refused_even_with_force():
    # checked without writing: a wrong answer here must not be able to replace /dev/null
    with pytest.raises(ValueError, match=r"/dev/null: it is a character device, not a regular"):
        check_writable(["/dev/null"], force=True)


def test_fifo_output_is_refused(capsys, tmp_path, no_data_loading):
    fifo = tmp_path / "features.csv"
    os.mkfifo(fifo)
    status, _, err = run_main(capsys, "features", *SYNTH, "-o", fifo, "--force")
    assert status == 1 and "it is a named pipe (FIFO), not a regular file" in err
    assert str(fifo) in err
    assert fifo.is_fifo() and no_data_loading == []
    with pytest.raises(ValueError, match="named pipe"), atomic_write(fifo, force=True) as tmp:
        tmp.write_text("never")
    assert fifo.is_fifo() and _hidden(tmp_path) == []


def test_symlink_output_is_followed_to_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "table.csv"
    target.write_text("old\n")
    link = tmp_path / "table.csv"
    link.symlink_to(target)
    table = pd.DataFrame({"epoch": [0, 1], "stage": ["WAKE", "REM"]})
    with pytest.raises(FileExistsError, match=r"table\.csv \(a link to .*real/table\.csv\)"):
        write_table(table, link)
    write_table(table, link, force=True)
    assert link.is_symlink() and os.readlink(link) == str(target)
    pd.testing.assert_frame_equal(pd.read_csv(target), table)
    # a dangling link creates its target; a link to a FIFO is refused like the FIFO
    dangling = tmp_path / "new.csv"
    dangling.symlink_to(tmp_path / "real" / "new.csv")
    write_table(table, dangling)
    assert dangling.is_symlink() and (tmp_path / "real" / "new.csv").is_file()
    os.mkfifo(tmp_path / "real" / "pipe")
    (tmp_path / "pipe.csv").symlink_to(tmp_path / "real" / "pipe")
    with pytest.raises(ValueError, match="named pipe"):
        write_table(table, tmp_path / "pipe.csv", force=True)
    assert _hidden(tmp_path) == []


# -- item: a failed run removes only what it wrote ------------------------------------------------
def test_failed_predict_keeps_files_others_wrote(capsys, tmp_path, model_file, monkeypatch):
    out = tmp_path / "scored"

    def crash(*args, **kwargs):  # another process writes into the folder, then we fail
        (out / "theirs.txt").write_text("not ours to delete")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(report, "hypnogram", crash)
    status, _, err = run_main(capsys, "predict", model_file, *SYNTH, "--plot", "-o", out)
    assert status == 1 and "disk on fire" in err
    assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]


def test_failed_write_removes_the_folders_it_created(tmp_path):
    out = tmp_path / "new" / "deeper"
    with pytest.raises(RuntimeError), atomic_outputs([out / "a.csv", out / "b.csv"]) as temps:
        temps[0].write_text("half")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_all_or_none_when_a_later_output_appears(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    with pytest.raises(FileExistsError, match=r"b\.csv"), atomic_outputs([a, b]) as temps:
        for tmp in temps:
            tmp.write_text("ours")
        b.write_text("someone else's")  # appears while we work
    assert not a.exists() and b.read_text() == "someone else's"
    assert _hidden(tmp_path) == []


# -- item: every output checked before the work; messages name the user's paths -----------------
@pytest.mark.parametrize("command", [
    ["fit", *SYNTH, "-o", "{blocker}/model.joblib"],
    ["predict", "{model}", *SYNTH, "-o", "{blocker}/scored"],
    ["features", *SYNTH, "-o", "{blocker}/features.csv"],
])
def test_output_folder_problems_are_found_before_loading_data(capsys, tmp_path, model_file,
                                                              no_data_loading, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = [a.format(blocker=blocker, model=model_file) for a in command]
    status, _, err = run_main(capsys, *args)
    assert no_data_loading == []
    assert status == 1 and f"{blocker} is a file, not a folder" in err


def test_unwritable_folder_is_found_before_the_work(tmp_path, monkeypatch):
    # as root every folder is writable; pretend it is not
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    with pytest.raises(PermissionError, match=rf"Cannot write {tmp_path}/x\.csv: no "
                                              rf"permission to write in the folder {tmp_path}"):
        check_writable([tmp_path / "x.csv"])
    with pytest.raises(PermissionError, match="no permission"):
        check_folder(tmp_path / "out")


def test_write_errors_name_the_output_not_the_temporary_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "report.txt"
    with pytest.raises(OSError, match=rf"^Cannot write {out}: Invalid cross-device link\.$"):
        with atomic_write(out) as tmp:
            tmp.write_text("done")
    assert list(tmp_path.iterdir()) == []


def test_recordings_sharing_a_file_name(tmp_path):
    with pytest.raises(DataError, match=r"Recordings 'night 1' and 'night_1' would both be "
                                        rf"written to {tmp_path}/night_1_hypnogram\.csv"):
        _predict.output_paths(["night 1", "night_1"], tmp_path)
    paths = _predict.output_paths(["a", "b"], tmp_path, plot=True)
    assert paths["b"] == [tmp_path / "b_hypnogram.csv", tmp_path / "b_hypnogram.png"]
    # a '.' in an id is kept, not taken for a suffix (mouse.1 and mouse.2 stay apart)
    paths = _predict.output_paths(["mouse.1", "mouse.2"], tmp_path, annotations=True)
    assert paths["mouse.1"] == [tmp_path / "mouse.1_hypnogram.csv",
                                tmp_path / "mouse.1_hypnogram.edf"]
    assert paths["mouse.2"][0] == tmp_path / "mouse.2_hypnogram.csv"


def test_predict_name_collision_is_found_before_predicting(capsys, tmp_path, model_file,
                                                           monkeypatch):
    real = _predict.load_data

    def colliding(*args, **kwargs):  # two recordings whose ids map to one file name
        loaded = real(*args, **kwargs)
        groups = np.where(loaded.data.groups == loaded.data.groups[0], "night 1", "night_1")
        return dataclasses.replace(loaded, data=dataclasses.replace(loaded.data, groups=groups))

    predicted = []
    monkeypatch.setattr(_predict, "load_data", colliding)
    monkeypatch.setattr(routing, "predict_with_groups",  # what predict calls for each step
                        lambda *a, **k: predicted.append(1))
    status, _, err = run_main(capsys, "predict", model_file, "--synthetic", "2", "--hours",
                              "0.05", "-o", tmp_path / "out")
    assert status == 1 and predicted == []
    assert "'night 1' and 'night_1' would both be written to" in err
    assert ".tmp" not in err and ".sleepstage" not in err
    assert not (tmp_path / "out").exists()


def test_duplicate_outputs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Two outputs would be written to the same file"):
        check_writable([tmp_path / "a.csv", tmp_path / "sub" / ".." / "a.csv"])


# -- item: features -o x.xlsx ---------------------------------------------------------------------
def test_features_refuses_unknown_table_formats(capsys, tmp_path, no_data_loading):
    out = tmp_path / "features.xlsx"
    status, _, err = run_main(capsys, "features", *SYNTH, "-o", out)
    assert status == 2 and "the suffix '.xlsx' names no format" in err
    assert not out.exists() and no_data_loading == []
    with pytest.raises(ValueError, match=r"Use one of \.csv, \.parquet, \.pq"):
        write_table(pd.DataFrame({"a": [1]}), out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["fit", *SYNTH, "-o", "{out}"],
    ["features", *SYNTH, "-o", "{out}"],
])
def test_existing_output_is_refused_before_loading_data(capsys, tmp_path, no_data_loading,
                                                        command):
    out = tmp_path / "earlier result.csv"
    out.write_text("keep me")
    status, _, err = run_main(capsys, *(a.format(out=out) for a in command))
    assert status == 1 and no_data_loading == []
    assert f"already exist: {out}. Use --force to overwrite" in err
    assert "force=True" not in err  # the Python advice is for Python callers
    assert out.read_text() == "keep me" and _hidden(tmp_path) == []
    with pytest.raises(FileExistsError, match=r"Use force=True"):
        check_writable([out])


# -- item: an output that is one of the inputs ---------------------------------------------------
HYPNOGRAM = "epoch,onset,stage\n0,0,WAKE\n1,4,NREM\n2,8,NREM\n"


@pytest.mark.parametrize(("command", "written", "read"), [
    (["adapt", "{model}", *SYNTH, "--labels", "r.csv", "-o", "r.csv"], "r.csv", "r.csv"),
    (["adapt", "{model}", *SYNTH, "--labels", "r.csv", "-o", "./mice.joblib"], "mice.joblib",
     "mice.joblib"),
    (["convert", "x.csv", "-o", "x.csv", "--to", "accusleep"], "x.csv", "x.csv"),
    (["convert", "x.csv", "-o", "sub/../link.csv"], "link.csv", "x.csv"),
    (["fit", "--feature-table", "t.csv", "-o", "t.csv"], "t.csv", "t.csv"),
    (["fit", "--edf", "n.edf", "-o", "n.edf"], "n.edf", "n.edf"),
    (["features", "--edf-list", "list.txt", "-o", "n_hypnogram.csv"], "n_hypnogram.csv",
     "n_hypnogram.csv"),
    (["predict", "{model}", "--edf", "n.edf", "--hypnogram", "n_hypnogram.csv", "-o", "."],
     "n_hypnogram.csv", "n_hypnogram.csv"),
    (["report", "summary.csv", "-o", ".", "--no-plot"], "summary.csv", "summary.csv"),
    (["fit", "--sleep-edf", "0", "--data-dir", ".", "-o",
      "physionet-sleep-data/SC4001EC-Hypnogram.edf"], "SC4001EC-Hypnogram.edf",
     "SC4001EC-Hypnogram.edf"),
])
def test_an_output_that_is_an_input_is_refused_even_with_force(capsys, tmp_path, monkeypatch,
                                                               model_file, no_data_loading,
                                                               command, written, read):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "mice.joblib").write_bytes(model_file.read_bytes())
    for name in ("r.csv", "x.csv", "t.csv", "summary.csv", "n_hypnogram.csv"):
        (tmp_path / name).write_text(HYPNOGRAM)
    (tmp_path / "n.edf").write_text("not read")
    (tmp_path / "list.txt").write_text("n.edf\tn_hypnogram.csv\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "x.csv")
    (tmp_path / "physionet-sleep-data").mkdir()  # a Sleep-EDF folder: every file is an input
    (tmp_path / "physionet-sleep-data" / "SC4001EC-Hypnogram.edf").write_text("not read")
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    args = [a.format(model=tmp_path / "mice.joblib") for a in command]
    status, _, err = run_main(capsys, *args, "--force")
    assert status == 1, err
    assert re.search(rf"Cannot write \S*{written}: it is the same file as the input "
                     rf"\S*{read}, which would be lost", err), err
    assert no_data_loading == []
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert _hidden(tmp_path) == []


def test_check_writable_refuses_an_input_however_it_is_named(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x")
    os.link(data, tmp_path / "hard.csv")
    for output in (data, tmp_path / "sub" / ".." / "data.csv", tmp_path / "hard.csv"):
        with pytest.raises(ValueError, match=rf"it is the same file as the input {data}"):
            check_writable([output], force=True, inputs=[data])
    # other files, and inputs that do not exist, are no obstacle
    assert check_writable([tmp_path / "new.csv"], inputs=[data, tmp_path / "missing.csv"])


@pytest.mark.parametrize("command", [
    ["fit", *SYNTH, "-o", "{folder}/model.joblib"],
    ["features", *SYNTH, "-o", "{folder}/features.csv"],
    ["predict", "{model}", *SYNTH, "-o", "{folder}/scored"],
])
def test_unwritable_folder_is_refused_before_loading_data(capsys, tmp_path, model_file,
                                                          monkeypatch, no_data_loading,
                                                          command):
    # tests run as root, where every folder is writable: the checks ask os.access, so it
    # answers "no" for writing (and only for writing)
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: (
        not mode & os.W_OK and access(path, mode, **kwargs)))
    args = [a.format(folder=tmp_path, model=model_file) for a in command]
    status, _, err = run_main(capsys, *args)
    assert status == 1 and no_data_loading == []
    assert f"no permission to write in the folder {tmp_path}" in err or (
        f"no permission to write in {tmp_path}" in err)
    assert f"{tmp_path}/" in err and ".tmp" not in err
    assert list(tmp_path.iterdir()) == []
