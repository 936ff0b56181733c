"""Stage names, label mappings and the EpochData container."""

from __future__ import annotations

import numpy as np
import pytest

from sleepstage.data import (
    RK_TO_3CLASS,
    RK_TO_5CLASS,
    STAGES_3,
    STAGES_5,
    TASK4_CODES,
    UNSCORED,
    EpochData,
    map_labels,
)

LAYOUT = {"ch_names": ("eeg1", "eeg2", "emg"), "ch_types": ("eeg", "eeg", "emg")}


def make_data(n_epochs=6, n_samples=8, sfreq=2.0, groups=None, seed=0, labelled=True):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_epochs, 3, n_samples))
    y = rng.choice(np.array(STAGES_3), size=n_epochs) if labelled else None
    groups = np.zeros(n_epochs, dtype=int) if groups is None else np.asarray(groups)
    return EpochData(X, y, groups, sfreq, epoch_length=n_samples / sfreq,
                     onsets=np.arange(n_epochs) * n_samples / sfreq, **LAYOUT)


# -- stage names and mappings -------------------------------------------------------------
def test_canonical_names():
    assert STAGES_3 == ("WAKE", "NREM", "REM")
    assert STAGES_5 == ("WAKE", "N1", "N2", "N3", "REM")
    assert TASK4_CODES == {1: "WAKE", 2: "NREM", 3: "REM"}


@pytest.mark.parametrize(
    ("mapping", "stages"), [(RK_TO_3CLASS, STAGES_3), (RK_TO_5CLASS, STAGES_5)]
)
def test_rk_mappings_cover_sleep_edf_annotations(mapping, stages):
    descriptions = [f"Sleep stage {s}" for s in "W1234R?"] + ["Movement time"]
    aasm = [f"Sleep stage N{s}" for s in "123"]  # and what predict --annotations writes
    ours = ["Sleep stage N"] if mapping is RK_TO_3CLASS else []
    assert sorted(mapping) == sorted(descriptions + aasm + ours)
    assert set(mapping.values()) == {*stages, UNSCORED}
    assert mapping["Sleep stage ?"] == mapping["Movement time"] == UNSCORED
    assert mapping["Sleep stage W"] == "WAKE" and mapping["Sleep stage R"] == "REM"


def test_rk_3class_merges_all_nrem_and_5class_merges_3_and_4():
    assert {RK_TO_3CLASS[f"Sleep stage {s}"] for s in "1234"} == {"NREM"}
    assert [RK_TO_5CLASS[f"Sleep stage {s}"] for s in "1234"] == ["N1", "N2", "N3", "N3"]


@pytest.mark.parametrize(
    "codes",
    [[1, 2, 3, 2], np.array([1, 2, 3, 2]), np.array([1, 2, 3, 2], dtype=np.int8),
     np.array([1.0, 2.0, 3.0, 2.0])],
)
def test_map_labels_task4_codes_of_any_numeric_type(codes):
    out = map_labels(codes, TASK4_CODES)
    assert out.dtype.kind == "U"
    assert out.tolist() == ["WAKE", "NREM", "REM", "NREM"]


def test_map_labels_rk_strings_and_generators():
    out = map_labels((d for d in ["Sleep stage W", "Sleep stage 4", "Movement time"]), RK_TO_3CLASS)
    assert out.tolist() == ["WAKE", "NREM", UNSCORED]


def test_map_labels_empty():
    assert map_labels([], TASK4_CODES).shape == (0,)


def test_map_labels_unknown_values_are_listed_once():
    with pytest.raises(ValueError, match=r"Unknown codes: 4, 0\. Known values are 1, 2, 3"):
        map_labels([1, 4, 4, 0, 2], TASK4_CODES, what="codes")


def test_map_labels_shows_numpy_scalars_as_plain_values():
    with pytest.raises(ValueError, match=r"Unknown labels: 7, 0\. Known"):
        map_labels(np.array([1, 7, 0]), TASK4_CODES)
    with pytest.raises(ValueError, match=r"Unknown labels: 'N2'\. Known"):
        map_labels(np.array(["WAKE", "N2"]), {"WAKE": 1})


def test_map_labels_rejects_nan_and_strings_for_integer_codes():
    with pytest.raises(ValueError, match="nan"):
        map_labels([1.0, np.nan], TASK4_CODES)
    with pytest.raises(ValueError, match="'1'"):
        map_labels(["1"], TASK4_CODES)


# -- EpochData ----------------------------------------------------------------------------
def test_epochdata_converts_and_exposes_shape():
    data = make_data()
    assert data.X.dtype == np.float32 and data.X.flags.c_contiguous
    assert (data.n_epochs, data.n_samples) == (6, 8)
    assert data.ch_names == LAYOUT["ch_names"] and isinstance(data.ch_types, tuple)
    assert data.layout() == {"sfreq": 2.0, **LAYOUT, "epoch_length": data.epoch_length}
    assert data.onsets.dtype == float


def test_flat_is_channel_by_channel():
    data = make_data()
    flat = data.flat()
    assert flat.shape == (6, 24)
    np.testing.assert_array_equal(flat[:, 8:16], data.X[:, 1, :])


def test_recordings_in_order_of_first_appearance():
    data = make_data(groups=["b", "b", "a", "a", "c", "c"])
    assert data.recordings.tolist() == ["b", "a", "c"]


def test_select_keeps_everything_aligned():
    data = make_data(groups=[0, 0, 0, 1, 1, 1])
    part = data.select(data.groups == 1)
    np.testing.assert_array_equal(part.X, data.X[3:])
    np.testing.assert_array_equal(part.y, data.y[3:])
    np.testing.assert_array_equal(part.onsets, data.onsets[3:])
    assert part.layout() == data.layout() and part.epoch_length == data.epoch_length
    assert data.select(np.array([5, 0])).onsets.tolist() == [20.0, 0.0]


def test_concatenate_stacks_recordings():
    a, b = make_data(groups=np.zeros(6)), make_data(groups=np.ones(6), seed=1)
    both = EpochData.concatenate([a, b])
    assert both.n_epochs == 12 and both.recordings.tolist() == [0, 1]
    np.testing.assert_array_equal(both.X[6:], b.X)
    assert both.y.tolist() == a.y.tolist() + b.y.tolist()
    assert len(both.info["parts"]) == 2


def test_concatenate_errors():
    with pytest.raises(ValueError, match="empty list"):
        EpochData.concatenate([])
    with pytest.raises(ValueError, match="different layouts"):
        EpochData.concatenate([make_data(), make_data(n_samples=4)])
    with pytest.raises(ValueError, match="labelled and unlabelled"):
        EpochData.concatenate([make_data(), make_data(labelled=False)])


def test_concatenate_drops_onsets_if_any_part_lacks_them():
    a, b = make_data(), make_data()
    b.onsets = None
    assert EpochData.concatenate([a, b]).onsets is None


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"X": np.zeros((6, 24))}, "must be 3-D"),
        ({"ch_names": ("a", "b")}, "3 channels but 2 names"),
        ({"ch_types": ("eeg", "eeg", "ecg")}, r"Unknown channel type\(s\) \['ecg'\]"),
        ({"sfreq": 3.0}, "8 samples, but sfreq x epoch_length"),
        ({"groups": np.zeros(5)}, r"groups has shape \(5,\)"),
        ({"y": np.array(["WAKE"] * 5)}, r"y has shape \(5,\)"),
        ({"onsets": np.zeros(7)}, r"onsets has shape \(7,\)"),
    ],
)
def test_epochdata_validation(change, match):
    kwargs = {"X": np.zeros((6, 3, 8)), "y": np.array(["WAKE"] * 6), "groups": np.zeros(6),
              "sfreq": 2.0, "epoch_length": 4.0, **LAYOUT, "onsets": np.zeros(6)}
    kwargs.update(change)
    with pytest.raises(ValueError, match=match):
        EpochData(**kwargs)
