import numpy as np
import pytest
from sklearn.model_selection import LeaveOneGroupOut

from sleepstage._internal.groups import recording_segments
from sleepstage.pipelines import BlockSplit, RecordingSplit, block_groups, resolve_cv


def test_recording_split_holds_out_whole_recordings():
    groups = np.repeat(["a", "b", "c"], [5, 7, 3])
    folds = list(RecordingSplit().split(np.zeros(15), groups=groups))
    assert len(folds) == 3 == RecordingSplit().get_n_splits(groups=groups)
    for train, test in folds:
        assert len(set(groups[test])) == 1
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == 15


def test_recording_split_is_leave_one_group_out_in_order_of_appearance():
    groups = np.repeat(["c", "a", "b"], [3, 5, 2])
    ours = list(RecordingSplit().split(np.zeros(10), groups=groups))
    theirs = {tuple(test): train
              for train, test in LeaveOneGroupOut().split(np.zeros(10), groups=groups)}
    assert [groups[test][0] for _, test in ours] == ["c", "a", "b"]
    assert len(ours) == len(theirs)
    for train, test in ours:
        np.testing.assert_array_equal(theirs[tuple(test)], train)
    with pytest.raises(ValueError, match="needs groups"):
        list(RecordingSplit().split(np.zeros(4)))
    with pytest.raises(ValueError, match="needs groups"):
        RecordingSplit().get_n_splits()


def test_recording_split_needs_two_recordings():
    with pytest.raises(ValueError, match="at least 2 recordings"):
        list(RecordingSplit().split(np.zeros(4), groups=np.zeros(4)))


def test_block_split_is_contiguous_and_covers_everything():
    folds = list(BlockSplit(n_blocks=5, gap=0).split(np.zeros(23)))
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(23))
    for train, test in folds:
        assert np.all(np.diff(test) == 1)  # one contiguous stretch of time
        assert not set(train) & set(test)


def test_block_split_cuts_each_recording():
    groups = np.repeat(["a", "b"], [10, 20])
    for _, test in BlockSplit(n_blocks=2, gap=0).split(np.zeros(30), groups=groups):
        assert set(groups[test]) == {"a", "b"}


def test_block_split_gap_drops_neighbours_from_training():
    train, test = list(BlockSplit(n_blocks=3, gap=2).split(np.zeros(30)))[1]
    assert test.tolist() == list(range(10, 20))
    assert not set(range(8, 22)) & set(train.tolist())


def test_block_groups_make_blocks_separate_recordings():
    groups = np.repeat(["r1"], 10)
    refined = block_groups(groups, 2)
    assert refined[0] == "r1/block0" and refined[-1] == "r1/block1"
    assert len(recording_segments(refined, 10)) == 2


def test_resolve_cv_errors():
    with pytest.raises(ValueError, match="'cv' parameter"):
        resolve_cv("shuffle")
    with pytest.raises(ValueError, match="integer"):
        resolve_cv("blocks:x")
    assert resolve_cv("blocks:4")[1] == 4


def test_block_split_rejects_interleaved_recordings():
    with pytest.raises(ValueError, match="contiguous"):
        list(BlockSplit(n_blocks=2).split(np.zeros(6), groups=["a", "a", "b", "b", "a", "a"]))
