"""``sleepstage adapt MODEL <data> --labels CSV -o NEW``, end to end and its error paths.

predict --review lists the least confident epochs of a synthetic mouse; their true stages
(the ``scored`` column) become the labels; the adapted model file records the adaptation
and, scoring the same recording again, gives the labelled epochs their label.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from _cli_runner import run_main

from sleepstage.cli import main
from sleepstage.io import load_model

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=15", "--set", "num_leaves=7"]
NEW = ["--synthetic", "1", "--seed", "3", "--hours", "0.25"]  # 225 epochs
REC = "synthetic-seed3-0"


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """(model file, folder, labels CSV): the review list with the true stages."""
    folder = tmp_path_factory.mktemp("adapt")
    model = folder / "mice.joblib"
    assert main(["fit", "--synthetic", "2", "--hours", "0.5", *FAST, "-o", str(model),
                 "-q"]) == 0
    assert main(["predict", str(model), *NEW, "--review", "30", "-o", str(folder / "scored"),
                 "-q"]) == 0
    review = pd.read_csv(folder / "scored" / f"{REC}_review.csv")
    truth = pd.read_csv(folder / "scored" / f"{REC}_hypnogram.csv").set_index("epoch")
    review["stage"] = truth.loc[review["epoch"], "scored"].to_numpy()  # the reviewer's stages
    labels = folder / "labels.csv"
    review.to_csv(labels, index=False)
    return model, folder, labels


def test_adapt_end_to_end(capsys, reviewed):
    model, folder, labels = reviewed
    out_model = folder / "adapted.joblib"
    status, out, err = run_main(capsys, "adapt", model, *NEW, "--labels", labels, "-o",
                                out_model, "-q")
    assert status == 0, err
    assert "with 30 labelled epochs" in out and "Model written to" in out
    adapted = load_model(out_model)
    record = adapted.metadata["adaptation"]
    given = pd.read_csv(labels)
    assert record["n_labels"] == 30
    assert record["labels_per_stage"] == {
        s: int((given["stage"] == s).sum()) for s in adapted.classes}
    assert record["labels_file"].endswith("labels.csv")
    assert "labelled epochs held" in record["method"]
    assert adapted.metadata["training_data"] == load_model(model).metadata["training_data"]
    # scoring the same recording again: the labelled epochs carry the reviewer's stage
    status, _, err = run_main(capsys, "predict", out_model, *NEW, "-o", folder / "again",
                              "-q")
    assert status == 0, err
    again = pd.read_csv(folder / "again" / f"{REC}_hypnogram.csv").set_index("epoch")
    assert (again.loc[given["epoch"], "stage"].to_numpy() == given["stage"].to_numpy()).all()
    assert (again.loc[given["epoch"], "confidence"] == 1.0).all()
    # an existing output is kept without --force
    status, _, err = run_main(capsys, "adapt", model, *NEW, "--labels", labels, "-o",
                              out_model)
    assert status == 1 and "--force" in err


def test_adapt_without_the_stage_correction(capsys, reviewed):
    model, folder, labels = reviewed
    out_model = folder / "nobias.joblib"
    status, _, err = run_main(capsys, "adapt", model, *NEW, "--labels", labels, "-o",
                              out_model, "--no-bias", "-q")
    assert status == 0, err
    record = load_model(out_model).metadata["adaptation"]
    assert set(record["bias"].values()) == {0.0} and "score bias" not in record["method"]


def _labels(folder, rows, name="bad.csv") -> str:
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(("rows", "message"), [
    ({"epoch": [3, 4], "stage": ["WAKE", "N2"]}, r"unknown stage\(s\) \['N2'\] on line\(s\) \[3\]"),
    ({"epoch": [3, 225], "stage": ["WAKE", "NREM"]},
     r"1 label\(s\) for epochs that do not exist .*epoch 225 \(of 225\)"),
    ({"epoch": [-1], "stage": ["WAKE"]}, "do not exist"),
    ({"epoch": [3, 3], "stage": ["WAKE", "NREM"]}, r"labelled more than once, on lines \[2, 3\]"),
    ({"epoch": [3.5], "stage": ["WAKE"]}, "epoch must be a whole number"),
    ({"epoch": [3], "stage": [""]}, r"line\(s\) \[2\] have no stage"),
    ({"epoch": [3]}, r"lacks the column\(s\) \['stage'\]"),
    ({"recording": ["nope"], "epoch": [3], "stage": ["WAKE"]},
     r"names recording\(s\) \['nope'\] that are not in the data"),
])
def test_bad_labels_are_refused_naming_them(capsys, reviewed, rows, message):
    model, folder, _ = reviewed
    status, _, err = run_main(capsys, "adapt", model, *NEW, "--labels",
                              _labels(folder, rows), "-o", folder / "never.joblib")
    assert status == 1
    assert re.search(message, err), err
    assert not (folder / "never.joblib").exists()


def test_labels_read_as_hypnograms_are(capsys, reviewed):
    """Spaces after commas and stage names in any case, as in a hypnogram file."""
    model, folder, labels = reviewed
    given = pd.read_csv(labels)[["epoch", "stage"]]
    loose = folder / "loose.csv"
    loose.write_text("epoch, stage\n" + "".join(
        f"{e}, {s.lower()}\n" for e, s in zip(given["epoch"], given["stage"], strict=True)))
    status, _, err = run_main(capsys, "adapt", model, *NEW, "--labels", loose, "-o",
                                folder / "loose.joblib", "-q")
    assert status == 0, err
    assert load_model(folder / "loose.joblib").metadata["adaptation"]["labels_per_stage"] == {
        s: int((given["stage"] == s).sum()) for s in load_model(model).classes}


def test_several_recordings_need_a_recording_column(capsys, reviewed):
    model, folder, _ = reviewed
    two = ["--synthetic", "2", "--seed", "3", "--hours", "0.1"]
    labels = _labels(folder, {"epoch": [3], "stage": ["WAKE"]})
    status, _, err = run_main(capsys, "adapt", model, *two, "--labels", labels, "-o",
                              folder / "never.joblib")
    assert status == 1 and "add a recording column" in err


def test_a_recording_column_names_recordings_by_their_output_ids(capsys, reviewed):
    model, folder, labels = reviewed
    table = pd.read_csv(labels).assign(recording=REC)  # the id of predict's file names
    named = _labels(folder, table.to_dict("list"), name="named.csv")
    status, out, err = run_main(capsys, "adapt", model, *NEW, "--labels", named, "-o",
                                folder / "named.joblib", "-q")
    assert status == 0 and "with 30 labelled epochs" in out, err


def test_missing_labels_file(capsys, reviewed):
    model, folder, _ = reviewed
    status, _, err = run_main(capsys, "adapt", model, *NEW, "--labels", folder / "none.csv",
                              "-o", folder / "never.joblib")
    assert status == 1 and "none.csv does not exist" in err


@pytest.mark.slow
def test_adapt_a_feature_table_model(capsys, tmp_path):
    """A model fitted on feature tables adapts to another table (the input features kept)."""
    train, new = tmp_path / "train.csv", tmp_path / "new.csv"
    assert main(["features", "--synthetic", "2", "--hours", "0.5", "-o", str(train),
                 "--n-jobs", "1", "-q"]) == 0
    assert main(["features", *NEW, "-o", str(new), "--n-jobs", "1", "-q"]) == 0
    model = tmp_path / "table.joblib"
    assert main(["fit", "--feature-table", str(train), *FAST, "-o", str(model), "-q"]) == 0
    table = pd.read_csv(new)
    labels = _labels(tmp_path, {"recording": table["recording"][:8],
                                "epoch": table["epoch"][:8], "stage": table["stage"][:8]})
    status, _, err = run_main(capsys, "adapt", model, "--feature-table", new, "--labels",
                              labels, "-o", tmp_path / "adapted.joblib", "-q")
    assert status == 0, err
    adapted = load_model(tmp_path / "adapted.joblib")
    assert adapted.input_features == load_model(model).input_features
    assert adapted.metadata["adaptation"]["n_labels"] == 8
