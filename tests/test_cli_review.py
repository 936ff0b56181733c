"""``sleepstage predict --review N`` / ``--review-minutes M``: the review list and its marks.

A tiny model fitted on two synthetic mice scores a third (225 epochs of 4 s) in-process.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _cli_runner import run_main

from sleepstage.cli import main

FAST = ["--set", "n_jobs=1", "--set", "n_estimators=15", "--set", "num_leaves=7"]
NEW = ["--synthetic", "1", "--seed", "3", "--hours", "0.25"]  # 225 epochs
REC = "synthetic-seed3-0"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("review") / "mice.joblib"
    assert main(["fit", "--synthetic", "2", "--hours", "0.5", *FAST, "-o", str(path),
                 "-q"]) == 0
    return path


def test_review_lists_the_n_least_confident_epochs(capsys, tmp_path, model):
    status, out, _ = run_main(capsys, "predict", model, *NEW, "--review", "20", "--plot",
                              "-o", tmp_path, "-q")
    assert status == 0, out
    assert f"{REC}_review.csv" in out
    review = pd.read_csv(tmp_path / f"{REC}_review.csv")
    hypnogram = pd.read_csv(tmp_path / f"{REC}_hypnogram.csv")
    assert list(review.columns) == ["epoch", "onset", "stage", "confidence"]
    assert len(review) == 20 and review["epoch"].is_unique
    assert review["confidence"].is_monotonic_increasing
    # the 20 lowest confidences of the hypnogram, with its stages and onsets
    assert review["confidence"].max() <= np.sort(hypnogram["confidence"])[19]
    rows = hypnogram.set_index("epoch").loc[review["epoch"]]
    np.testing.assert_array_equal(rows["stage"], review["stage"])
    np.testing.assert_allclose(rows["onset"], review["onset"])
    assert (tmp_path / f"{REC}_hypnogram.png").read_bytes().startswith(PNG)


def test_review_minutes_lists_whole_stretches(capsys, tmp_path, model):
    status, out, _ = run_main(capsys, "predict", model, *NEW, "--review-minutes", "2",
                              "-o", tmp_path, "-q")
    assert status == 0, out
    review = pd.read_csv(tmp_path / f"{REC}_review.csv")
    assert len(review) == 30  # two stretches of 1 min = 15 epochs of 4 s
    assert list(review["stretch"].unique()) == [1, 2]
    for _, stretch in review.groupby("stretch"):
        assert np.all(np.diff(stretch["epoch"]) == 1)
    means = review.groupby("stretch")["confidence"].mean()
    assert means.is_monotonic_increasing


def test_review_minutes_beyond_the_recording_lists_every_epoch(capsys, tmp_path, model):
    status, out, _ = run_main(capsys, "predict", model, *NEW, "--review-minutes", "1000",
                              "-o", tmp_path, "-q")
    assert status == 0, out
    review = pd.read_csv(tmp_path / f"{REC}_review.csv")
    assert sorted(review["epoch"]) == list(range(225))  # not only its whole stretches
    sizes = review.groupby("stretch", sort=False)["epoch"].agg(["size", "min", "max"])
    assert (sizes["max"] - sizes["min"] + 1 == sizes["size"]).all()  # each one contiguous
    whole = sizes["size"] == 15
    assert whole.any() and not whole.all()
    assert not whole.iloc[whole.sum():].any()  # the whole stretches first, then the rest
    assert list(sizes.index) == list(range(1, len(sizes) + 1))


def test_review_list_needs_force_like_every_output(capsys, tmp_path, model):
    (tmp_path / f"{REC}_review.csv").write_text("keep me\n")
    status, _, err = run_main(capsys, "predict", model, *NEW, "--review", "5", "-o",
                              tmp_path, "-q")
    assert status == 1 and "review.csv" in err
    assert (tmp_path / f"{REC}_review.csv").read_text() == "keep me\n"
    assert not (tmp_path / f"{REC}_hypnogram.csv").exists()  # nothing written


@pytest.mark.parametrize(("args", "message"), [
    (["--review", "0"], "expected a number of epochs >= 1"),
    (["--review", "x"], "expected a number of epochs"),
    (["--review", "5", "--review-minutes", "2"], "not allowed with argument"),
])
def test_review_bad_options(capsys, tmp_path, model, args, message):
    status, _, err = run_main(capsys, "predict", model, *NEW, *args, "-o", tmp_path)
    assert status == 2 and message in err
