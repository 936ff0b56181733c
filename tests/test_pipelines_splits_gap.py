"""Block cross-validation leaves a gap of epochs between each test block and the training set."""

from __future__ import annotations

import numpy as np
import pytest
from _cli_runner import run_main

from sleepstage.cli._args import UsageError
from sleepstage.cli._evaluate import check_cv
from sleepstage.pipelines import BlockSplit, resolve_cv


def test_default_gap_is_the_context_window_in_epochs():
    assert BlockSplit().gap_epochs() == 15               # 60 s of 4-s epochs (reference)
    assert BlockSplit(epoch_length=4.0).gap_epochs() == 15
    assert BlockSplit(epoch_length=30.0).gap_epochs() == 2  # 60 s of 30-s epochs
    assert BlockSplit(gap=0, epoch_length=30.0).gap_epochs() == 0


def test_default_gap_drops_15_epochs_on_each_side():
    train, test = list(BlockSplit(n_blocks=3).split(np.zeros(90)))[1]
    assert test.tolist() == list(range(30, 60))
    assert train.tolist() == list(range(0, 15)) + list(range(75, 90))


def test_gap_stays_within_each_recording():
    groups = np.repeat(["a", "b"], 30)
    folds = list(BlockSplit(n_blocks=3, gap=2).split(np.zeros(60), groups=groups))
    train, test = folds[1]
    assert test.tolist() == list(range(10, 20)) + list(range(40, 50))
    assert train.tolist() == [*range(0, 8), *range(22, 30), *range(30, 38), *range(52, 60)]
    # the last block of "a" is held out: the first epochs of "b" are not its neighbours
    train, test = folds[2]
    assert test.tolist() == list(range(20, 30)) + list(range(50, 60))
    assert train.tolist() == [*range(0, 18), *range(30, 48)]


def test_resolve_cv_reads_the_gap_and_the_epoch_length():
    splitter, n_blocks = resolve_cv("blocks:5", epoch_length=30.0)
    assert n_blocks == 5 and splitter.gap_epochs() == 2
    splitter, _ = resolve_cv("blocks:5:7", epoch_length=30.0)
    assert splitter.gap == 7 and splitter.gap_epochs() == 7
    assert resolve_cv("blocks:4:0")[0].gap_epochs() == 0
    # a BlockSplit built without an epoch length takes the data's
    assert resolve_cv(BlockSplit(n_blocks=4), epoch_length=30.0)[0].gap_epochs() == 2
    assert resolve_cv(BlockSplit(n_blocks=4, epoch_length=4.0), 30.0)[0].gap_epochs() == 15


@pytest.mark.parametrize("cv", ["blocks:5:x", "blocks:5:-1", "blocks:5:1.5", "blocks:5:"])
def test_resolve_cv_rejects_a_bad_gap(cv):
    with pytest.raises(ValueError, match=r"the gap \(GAP in 'blocks:K:GAP'"):
        resolve_cv(cv)


@pytest.mark.parametrize("gap", [-1, 1.5, True, "some", None])
def test_block_split_rejects_a_bad_gap(gap):
    with pytest.raises(ValueError, match="'gap' parameter"):
        list(BlockSplit(n_blocks=2, gap=gap).split(np.zeros(40)))


def test_a_gap_that_leaves_no_training_epochs_is_an_error():
    with pytest.raises(ValueError, match=r"gap=15 epochs\) leaves no training epochs in fold 0"):
        list(BlockSplit(n_blocks=2).split(np.zeros(30)))


def test_cli_cv_accepts_a_gap():
    check_cv("blocks:5:15")
    check_cv("blocks:5:0")
    check_cv("blocks:5")
    with pytest.raises(UsageError, match=r"GAP .* must be an integer >= 0 .* got 'x'"):
        check_cv("blocks:5:x")


@pytest.mark.parametrize("cv", ["blocks:5:x", "blocks:5:-2", "blocks:5:"])
def test_cli_bad_gap_is_a_usage_error(capsys, tmp_path, monkeypatch, cv):
    monkeypatch.chdir(tmp_path)
    status, _, err = run_main(capsys, "evaluate", "--synthetic", "1", "--hours", "0.1",
                              "--cv", cv)
    assert status == 2, err
    assert "GAP" in err and "Traceback" not in err
