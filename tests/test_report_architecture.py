"""Sleep architecture per bin, per phase and per group (sleepstage.report): hand-counted
hypnograms, light/dark phases, every refused input, and the figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sleepstage.report import (
    architecture,
    architecture_figure,
    architecture_summary,
    group_figure,
    group_table,
    stage_power_spectra,
)

W, N, R, U = "WAKE", "NREM", "REM", "UNSCORED"
#: 60-s epochs in 5-min bins: bin 0 = epochs 0-4, bin 1 = 5-9, bin 2 = 10-11.
HAND = [W, W, N, N, N, N, N, U, N, R, R, W]


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def _rows(table, columns):
    return table[columns].to_numpy(float).tolist()


def test_bins_hand_counted():
    table = architecture(HAND, 60, bin_minutes=5, recording="m1")
    assert table["recording"].tolist() == ["m1"] * 3
    assert table["bin_start"].tolist() == [0.0, 300.0, 600.0]
    assert _rows(table, ["recorded_minutes", "unscored_minutes"]) == [[5, 0], [5, 1], [2, 0]]
    assert _rows(table, ["minutes_WAKE", "minutes_NREM", "minutes_REM"]) == [
        [2, 3, 0], [0, 3, 1], [1, 0, 1]]
    # percentages of the scored time of the bin (the unscored epoch is left out)
    assert _rows(table, ["percent_WAKE", "percent_NREM", "percent_REM"]) == [
        [40, 60, 0], [0, 75, 25], [50, 0, 50]]
    # a bout counts in the bin where it starts, with its whole length: the NREM bout of
    # epochs 2-6 (300 s) in bin 0, the REM bout of epochs 9-10 (120 s) in bin 1; the
    # unscored epoch ends the NREM bout (epoch 8 is a new one)
    assert _rows(table, ["bouts_WAKE", "bouts_NREM", "bouts_REM"]) == [
        [1, 1, 0], [0, 1, 1], [1, 0, 0]]
    means = table[["mean_bout_s_WAKE", "mean_bout_s_NREM", "mean_bout_s_REM"]].to_numpy(float)
    np.testing.assert_array_equal(means, [[120, 300, np.nan], [np.nan, 60, 120],
                                          [60, np.nan, np.nan]])
    # W->N (bin 0), N->R (bin 1), R->W (bin 2); nothing to or from the unscored epoch
    assert table["transitions"].tolist() == [1, 1, 1]
    assert list(table.columns[:3]) == ["recording", "bin_start", "recorded_minutes"]


def test_min_bout_merges_short_runs_before_counting():
    table = architecture(HAND, 60, bin_minutes=5, min_bout=2)
    # N at epoch 8 (next to the unscored epoch) joins R R; the final W joins them too
    assert _rows(table, ["minutes_NREM", "minutes_REM", "unscored_minutes"]) == [
        [3, 0, 0], [2, 2, 1], [0, 2, 0]]
    np.testing.assert_array_equal(
        table[["bouts_REM", "mean_bout_s_REM", "bouts_WAKE"]].to_numpy(float),
        [[0, np.nan, 1], [1, 240, 0], [0, np.nan, 0]])
    assert table["transitions"].tolist() == [1, 0, 0]


def test_gaps_in_onsets_end_bouts_and_transitions():
    onsets = [0, 60, 120, 600, 660]  # a 7-min gap after epoch 2
    table = architecture([W, W, N, N, W], 60, onsets=onsets, bin_minutes=60)
    assert table[["bouts_NREM", "transitions"]].to_numpy().tolist() == [[2, 2]]
    assert table["recorded_minutes"].tolist() == [5.0]


def test_light_dark_phases_and_clock_aligned_bins():
    # 60-s epochs from 18:58: two light epochs, then dark (lights on 07:00, 12 h light)
    table = architecture([W] * 6, 60, bin_minutes=2, start="2024-01-01T18:58",
                         lights_on="07:00")
    assert table["phase"].tolist() == ["light", "dark", "dark"]
    assert table["zt"].tolist() == pytest.approx([11 + 58 / 60, 12, 12 + 2 / 60])
    assert table["clock_time"].dt.strftime("%H:%M").tolist() == ["18:58", "19:00", "19:02"]
    # an unaligned start: the first bin is partial, its nominal start before the recording
    table = architecture([W] * 4, 60, bin_minutes=60, start="2024-01-01T07:58",
                         lights_on="07:00")
    assert table["bin_start"].tolist() == [-58 * 60.0, 120.0]
    assert table["recorded_minutes"].tolist() == [2.0, 2.0]
    assert table["clock_time"].dt.strftime("%H:%M").tolist() == ["07:00", "08:00"]
    # bins that do not divide the light phase: one runs across lights-off, "mixed"
    mixed = architecture([W] * 4, 60, bin_minutes=7, start="2024-01-01T18:59",
                         lights_on="07:00")
    assert mixed["phase"].tolist() == ["mixed", "dark"]


def test_summary_hand_counted():
    y = ([W] * 5 + [N] * 20 + [W] * 2 + [N] * 10 + [W] * 5 + [N] * 10 + [W] + [U] + [N] * 5
         + [R] * 5 + [W] * 3)
    row = architecture_summary(y, 4.0).iloc[0].to_dict()
    assert row["phase"] == "all"
    assert row["sleep_minutes"] == pytest.approx(50 * 4 / 60)
    # brief arousals: W W between NREM bouts; not the one before an unscored epoch, not
    # the 20-s one, not the first or last wake bouts
    assert row["brief_arousals"] == 1
    # sleep -> wake: N->W three times, R->W once, per hour of sleep (200 s)
    assert row["fragmentation_index"] == pytest.approx(4 / (200 / 3600))
    assert row["transitions"] == 8
    assert row["transitions_NREM_to_WAKE"] == 3 and row["p_NREM_to_WAKE"] == 0.75
    assert row["p_NREM_to_REM"] == 0.25 and row["p_WAKE_to_NREM"] == 1.0
    assert row["p_REM_to_NREM"] == 0.0 and row["p_REM_to_WAKE"] == 1.0
    # latency: to the first bout of >= 15 epochs (60 s of 4-s epochs)
    assert row["latency_min_NREM"] == pytest.approx(20 / 60)
    assert np.isnan(row["latency_min_REM"])
    short = architecture_summary(y, 4.0, latency_min_seconds=4).iloc[0]
    assert short["latency_min_REM"] == pytest.approx(59 * 4 / 60)
    # doubling bout-length bins: wake bouts of 5, 2, 5, 1 and 3 epochs
    assert [row[f"bouts_WAKE_{a}-{b}s"] for a, b in ((4, 8), (8, 16), (16, 32), (32, 64))] == [
        1, 2, 2, 0]
    assert "bouts_WAKE_64-128s" in row and "bouts_WAKE_128-256s" not in row


def test_summary_per_phase_splits_time_and_bouts():
    y = [W] * 60 + [N] * 60  # 60-s epochs: 1 h light, then 1 h dark
    table = architecture_summary(y, 60, start="2024-01-01T18:00", lights_on="07:00",
                                 recording="m1")
    assert table["phase"].tolist() == ["all", "light", "dark"]
    assert table["recording"].tolist() == ["m1"] * 3
    assert table["minutes_WAKE"].tolist() == [60, 60, 0]
    assert table["bouts_NREM"].tolist() == [1, 0, 1]
    # from the start of the recording (all) or of the phase; no NREM bout starts in light
    np.testing.assert_array_equal(table["latency_min_NREM"].to_numpy(float), [60, np.nan, 0])


def test_group_table_mean_and_spread_per_bin():
    a = architecture([W] * 60 + [N] * 60, 60, recording="a", labels=[W, N])
    b = architecture([N] * 120, 60, recording="b", labels=[W, N])
    c = architecture([W] * 120, 60, recording="c", labels=[W, N])
    groups = group_table(pd.concat([a, b, c]), {"x": ["a", "b"], "y": ["c"]})
    assert list(groups.columns[:3]) == ["group", "bin_start", "n"]
    x = groups[groups["group"] == "x"]
    assert x["minutes_WAKE_mean"].tolist() == [30, 0]
    assert x["minutes_WAKE_sd"].tolist() == pytest.approx([np.sqrt(1800), 0])
    assert x["n"].tolist() == [2, 2]
    assert groups[groups["group"] == "y"]["minutes_WAKE_sd"].isna().all()
    with pytest.raises(ValueError, match=r"Group 'z' names recording\(s\) \['d'\]"):
        group_table(a, {"z": ["a", "d"]})


def test_group_table_refuses_a_member_that_cannot_be_lined_up():
    # a has a start (zeitgeber time), b none: its bins would be dropped, n = 1 in every row
    a = architecture([W] * 60 + [N] * 60, 60, recording="a", start="2024-03-01T18:30",
                     lights_on="07:00")
    b = architecture([W] * 60 + [N] * 60, 60, recording="b")
    both = pd.concat([a, b])
    assert both["zt"].isna().any()
    with pytest.raises(ValueError, match=r"Group 'g': recording\(s\) \['b'\] have no 'zt'"):
        group_table(both, {"g": ["a", "b"]})
    assert group_table(both, {"g": ["a", "b"]}, key="bin_start")["n"].sum() == len(both)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"stages": [W, "DEEP"], "labels": [W, N, R]}, r"Unknown stage\(s\) \['DEEP'\]"),
    ({"stages": [W, None]}, r"1 epoch\(s\) have no stage \(first at epoch 1\)"),
    ({"stages": [W, W, N], "onsets": [0, 8, 4]}, "Epochs out of order or overlapping: epoch 2"),
    ({"stages": [W, W], "onsets": [0, 2]}, "less than one epoch"),
    ({"stages": [W], "bin_minutes": 0.05}, r"bin \(0.05 min = 3 s\) is shorter than one epoch"),
    ({"stages": [W], "start": "2024-01-01", "lights_on": "7h"}, "expected a 24-hour clock"),
    ({"stages": [W], "start": "2024-01-01", "lights_on": "25:00"}, "got '25:00'"),
    ({"stages": [W], "start": "yesterday-ish"}, "Invalid value for start"),
    ({"stages": [W], "lights_on": "07:00"}, "lights_on needs the clock time of the start"),
    ({"stages": [W], "min_bout": 0}, "'min_bout' parameter must be an integer"),
    ({"stages": []}, "non-empty 1-D"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, message):
    stages = kwargs.pop("stages")
    with pytest.raises(ValueError, match=message):
        architecture(stages, 4.0, **kwargs)


def test_architecture_figure_panels_and_saving(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.array([W, N, R])[rng.integers(0, 3, 200)], rng.integers(1, 30, 200))
    fig = architecture_figure(y, 4.0, start="2024-01-01T05:00", lights_on="07:00",
                              title="m1", path=tmp_path / "m1.png")
    assert (tmp_path / "m1.png").read_bytes()[:4] == b"\x89PNG"
    hyp, amounts, *bouts = fig.axes
    assert {t.get_text() for t in hyp.get_yticklabels()} == {W, N, R}
    assert [ax.get_title() for ax in bouts] == [
        f"{s} bouts (n={int((architecture(y, 4.0)[f'bouts_{s}']).sum())})" for s in (W, N, R)]
    assert amounts.get_xlabel() == "clock time (h)"
    ticks = [t.get_text() for t in amounts.get_xticklabels()]
    assert "07:00" in ticks or "08:00" in ticks
    legend = [t.get_text() for t in amounts.get_legend().get_texts()]
    assert legend == [W, N, R, "dark phase"]
    with pytest.raises(FileExistsError):
        architecture_figure(y, 4.0, path=tmp_path / "m1.png")


def test_group_figure_one_panel_per_stage(tmp_path):
    a = architecture([W] * 60 + [N] * 60, 60, recording="a", start="2024-01-01T07:00",
                     lights_on="07:00")
    groups = group_table(a, {"x": ["a"]})
    fig = group_figure(groups, [W, N], path=tmp_path / "g.png")
    assert [ax.get_title() for ax in fig.axes] == [W, N]
    assert fig.axes[0].get_xlabel() == "start of bin, zeitgeber time (h)"
    with pytest.raises(ValueError, match="what"):
        group_figure(groups, [W], what="hours")


def test_stage_power_spectra_are_relative_to_the_recordings_total_power():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2, 256)) * np.array([1.0, 100.0])[None, :, None]  # two gains
    X[:20] *= 3.0  # the WAKE epochs are louder
    stages = np.array([W] * 20 + [N] * 19 + [U])
    table = stage_power_spectra(X, stages, 128.0, ch_names=["eeg", "emg"],
                                phase=["light"] * 10 + ["dark"] * 30)
    assert table["phase"].unique().tolist() == ["all", "light", "dark"]
    assert U not in set(table["stage"])
    step = 0.5  # Hz, 2-s Welch windows
    power = (table[table["phase"] == "all"].groupby(["channel", "stage"])["relative_power"]
             .sum() * step)
    for channel in ("eeg", "emg"):  # the gain cancels; epochs average to the total
        assert (20 * power[(channel, W)] + 19 * power[(channel, N)]) / 39 == pytest.approx(1)
        assert power[(channel, W)] / power[(channel, N)] == pytest.approx(9, rel=0.2)
    with pytest.raises(ValueError, match="one epoch per stage"):
        stage_power_spectra(X, stages[:-1], 128.0)


def test_epoch_table_orders_the_stages_present_as_the_tables_do():
    from sleepstage.report import epoch_table

    table = epoch_table([R, W, U, "N2", "zz", N, "N1", "A"], 4.0)
    assert table.labels == [W, "N1", "N2", N, R, "A", "zz"]  # known order, others sorted
    codes = epoch_table([3, 1, U, 2], 4.0).labels  # stage codes stay numbers
    assert codes == [1, 2, 3] and all(type(c) is int for c in codes)
