"""Figures (sleepstage.report): content, saving and headless use."""

from __future__ import annotations

import datetime as dt

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sleepstage import report
from sleepstage.data import EpochData

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def stages():
    rng = np.random.default_rng(0)
    true = np.array(["WAKE", "NREM", "REM"])[rng.integers(0, 3, 300)]
    pred = true.copy()
    pred[::7] = "NREM"
    proba = rng.dirichlet(np.ones(3), size=300)
    return true, pred, proba


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a plot function left a pyplot figure open"


def _yticks(ax):
    return {t.get_text(): pos for t, pos in zip(ax.get_yticklabels(), ax.get_yticks(),
                                                strict=True)}


def test_hypnogram_order_and_overlay(stages):
    true, pred, _ = stages
    fig = report.hypnogram(true, pred, epoch_length=30)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    ticks = _yticks(ax)
    assert ticks["WAKE"] > ticks["REM"] > ticks["NREM"]  # wake on top
    lines = ax.get_lines()
    assert len(lines) == 2
    scored = lines[0].get_ydata()
    assert scored[0] == ticks[true[0]] and len(scored) == len(true) + 1
    assert ax.get_xlabel() == "time since start (h)"  # 300 x 30 s = 2.5 h
    assert "agreement" in ax.get_title(loc="right")
    legend = ax.get_legend()
    assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1  # right of the data


def test_hypnogram_clock_time_artefacts_and_title(stages, tmp_path):
    true, pred, proba = stages
    start = dt.datetime(2024, 3, 1, 22, 30)
    flags = np.zeros(len(true), dtype=bool)
    flags[10:14] = True
    fig = report.hypnogram(true, pred, proba, classes=["NREM", "REM", "WAKE"], epoch_length=30,
                           start=start, artefacts=flags, title="m1 · model x.joblib · data: edf",
                           path=tmp_path / "h.png")
    ax_h, ax_p = fig.axes
    fig.canvas.draw()
    assert ax_p.get_xlabel() == "clock time (recording started 2024-03-01 22:30)"
    ticks = [t.get_text() for t in ax_p.get_xticklabels() if t.get_text()]
    assert "23:00" in ticks and "00:00" in ticks  # 22:30 + 2.5 h crosses midnight
    assert ax_h.get_xlim()[0] == pytest.approx(mdates.date2num(start))
    assert "artefact" in _yticks(ax_h)
    (ticks,) = [line for line in ax_h.get_lines() if line.get_label().startswith("artefact")]
    assert len(ticks.get_xdata()) == 4 and set(ticks.get_ydata()) == {_yticks(ax_h)["artefact"]}
    legend = [t.get_text() for t in ax_h.get_legend().get_texts()]
    assert legend == ["scored", "predicted", "disagreement", "artefact (4 epochs)"]
    assert fig.get_suptitle() == "m1 · model x.joblib · data: edf"
    utc = report.hypnogram(true, epoch_length=30, start=start.replace(tzinfo=dt.timezone.utc))
    assert utc.axes[0].get_xlabel() == "clock time (recording started 2024-03-01 22:30)"
    with pytest.raises(ValueError, match="artefacts must hold one bool per epoch"):
        report.hypnogram(true, artefacts=flags[:-1])
    with pytest.raises(TypeError, match="start must be a datetime"):
        report.hypnogram(true, start="22:30")


def test_hypnogram_with_probabilities(stages, tmp_path):
    true, pred, proba = stages
    classes = ["NREM", "REM", "WAKE"]  # sklearn's sorted classes_ order
    fig = report.hypnogram(true, pred, proba, classes=classes, path=tmp_path / "h.png")
    assert len(fig.axes) == 2
    assert fig.axes[1].get_ylim() == (0.0, 1.0)
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG
    with pytest.raises(FileExistsError):
        report.hypnogram(true, path=tmp_path / "h.png")
    frame = pd.DataFrame(proba, columns=classes)
    assert len(report.hypnogram(pred=pred, proba=frame, epoch_length=4).axes) == 2


def test_hypnogram_errors(stages):
    true, pred, proba = stages
    with pytest.raises(ValueError, match="Nothing to plot"):
        report.hypnogram()
    with pytest.raises(ValueError, match="class order"):
        report.hypnogram(true, proba=proba)
    with pytest.raises(ValueError, match="one row per epoch"):
        report.hypnogram(true, pred[:-1])
    with pytest.raises(ValueError, match=r"Unknown stage label\(s\) \['N9'\]"):
        report.hypnogram(np.append(true, "N9"), classes=["WAKE", "NREM", "REM"])
    with pytest.raises(ValueError, match="epoch_length"):
        report.hypnogram(true, epoch_length=0)


def test_hypnogram_into_existing_axes(stages):
    true, _, _ = stages
    fig = Figure()
    ax = fig.subplots()
    assert report.hypnogram(true, ax=ax) is fig
    assert ax.get_xlabel() == "time since start (min)"  # 300 x 4 s = 20 min


def test_confusion_matrix_values(tmp_path):
    y_true = ["WAKE", "WAKE", "NREM", "NREM", "REM", "REM"]
    y_pred = ["WAKE", "NREM", "NREM", "NREM", "NREM", "REM"]
    fig = report.confusion(y_true, y_pred, title="lgbm, 3-fold\nsynthetic: 3 x 24 h",
                           path=tmp_path / "cm.png")
    ax, bar = fig.axes
    image = ax.images[0].get_array()
    # order WAKE, NREM, REM; rows are recall
    np.testing.assert_allclose(image, [[0.5, 0.5, 0], [0, 1, 0], [0, 0.5, 0.5]])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["WAKE (n=2)", "NREM (n=2)",
                                                             "REM (n=2)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["WAKE\n(n=1)", "NREM\n(n=4)",
                                                             "REM\n(n=1)"]
    cells = [t.get_text() for t in ax.texts]
    assert cells[:3] == ["0.50\n(1)", "0.50\n(1)", "0.00\n(0)"]
    assert bar.get_ylabel() == "fraction of the scored stage (recall)"
    assert ax.get_title() == "lgbm, 3-fold\nsynthetic: 3 x 24 h\n6 epochs"
    assert (tmp_path / "cm.png").stat().st_size > 1000
    five = report.confusion(["N3", "WAKE", "REM", "N1", "N2"], ["N3", "WAKE", "REM", "N1", "N2"])
    assert [t.get_text().split()[0] for t in five.axes[0].get_yticklabels()] == \
        ["WAKE", "N1", "N2", "N3", "REM"]
    counts = report.confusion(y_true, y_pred, labels=["WAKE", "NREM", "REM"], normalize=None)
    np.testing.assert_array_equal(counts.axes[0].images[0].get_array(),
                                  [[1, 1, 0], [0, 2, 0], [0, 1, 1]])
    assert counts.axes[1].get_ylabel() == "epochs"
    sorted_classes = report.confusion(y_true, y_pred, labels=["NREM", "REM", "WAKE"])  # classes_
    assert [t.get_text() for t in sorted_classes.axes[0].get_yticklabels()] == \
        ["WAKE (n=2)", "NREM (n=2)", "REM (n=2)"]
    assert [t.get_text() for t in counts.axes[0].texts][:2] == ["1", "1"]
    with pytest.raises(ValueError, match="normalize"):
        report.confusion(y_true, y_pred, normalize="rows")


def test_importances_bar_chart():
    table = pd.DataFrame({
        "feature": [f"ch{i % 3}_f{i}" for i in range(30)],
        "channel": [f"ch{i % 3}" for i in range(30)],
        "family": ["band_power", "time"] * 15,
        "importance": np.linspace(3, 0.1, 30),
        "importance_std": np.full(30, 0.05),
    })
    table.attrs["kind"] = "permutation"
    fig = report.importances(table, top=10)
    ax = fig.axes[0]
    assert len(ax.patches) == 10
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "ch0_f0"  # largest at the top
    assert ax.get_xlabel() == "balanced-accuracy drop"
    by_channel = report.importances(table, by="channel").axes[0]
    assert len(by_channel.patches) == 3
    with pytest.raises(ValueError, match="'by'"):
        report.importances(table, by="stage")
    with pytest.raises(ValueError, match="importance"):
        report.importances(pd.DataFrame({"x": [1]}))


def test_importances_panel_titles_and_figure_size():
    table = pd.DataFrame({"feature": ["a", "b"], "channel": ["c1", "c2"],
                          "importance": [2.0, 1.0]})
    fig = report.importances(table, by="channel")
    assert fig.axes[0].get_title() == "importance by channel"
    assert tuple(fig.get_size_inches()) == pytest.approx((7, 1.1 + 0.28 * 2))
    fig = report.importances(table, title="model x")
    assert fig.axes[0].get_title() == "model x" and fig.get_suptitle() == ""


def test_importances_by_family_counts_context_in_the_base_family_and_shows_windows():
    from sleepstage.inspection import feature_families

    names = ["eeg1_delta_relpower", "emg_rms_log", "eeg1_delta_relpower__mean_c15",
             "emg_rms_log__lag_m1", "eeg1_delta_relpower__std_p60s", "emg_rms_log__lag_p4s"]
    table = feature_families(names, ch_names=["eeg1", "emg"], ch_types=["eeg", "emg"])
    table["importance"] = [1.0, 2.0, 4.0, 8.0, 16.0, 0.5]
    table.attrs["kind"] = "gain"
    fig = report.importances(table, by="family", title="model x: gain")
    families, windows = fig.axes
    bars = {t.get_text(): p.get_width() for t, p in zip(families.get_yticklabels(),
                                                         families.patches, strict=True)}
    assert bars == {"band power": 21.0, "emg": 10.5}
    labels = [t.get_text() for t in windows.get_yticklabels()]
    assert labels == ["lag +4 s", "epoch itself", "mean, centred 15 ep", "epoch -1",
                      "std, past 60 s"]
    assert families.get_xlabel() == windows.get_xlabel() == "total gain"
    assert fig.get_suptitle() == "model x: gain"
    target = Figure().subplots(1, 2)
    assert report.importances(table, by="family", ax=target) is target[0].figure
    with pytest.raises(ValueError, match="two panels"):
        report.importances(table, by="family", ax=target[0])


def _spectra_data():
    rng = np.random.default_rng(1)
    sfreq, n = 64.0, 256
    t = np.arange(n) / sfreq
    y = np.repeat(["WAKE", "NREM", "REM"], 20)
    freq = np.select([y == "WAKE", y == "NREM", y == "REM"], [20.0, 2.0, 7.0])
    eeg = np.sin(2 * np.pi * freq[:, None] * t) * 5 + rng.normal(size=(60, n))
    emg = rng.normal(size=(60, n)) * np.where(y == "WAKE", 4.0, 1.0)[:, None]
    X = np.stack([eeg, emg], axis=1)
    return EpochData(X, y, np.zeros(60), sfreq, ("eeg1", "emg"), ("eeg", "emg"), n / sfreq)


def test_stage_spectra_peaks():
    data = _spectra_data()
    fig = report.stage_spectra(data, fmax=30)
    assert len(fig.axes) == 2
    lines = {ln.get_label().split()[0]: ln for ln in fig.axes[0].get_lines()}
    assert set(lines) == {"WAKE", "NREM", "REM"}
    for stage, peak in {"WAKE": 20.0, "NREM": 2.0, "REM": 7.0}.items():
        f, p = lines[stage].get_data()
        assert f.max() <= 30
        assert f[np.argmax(p)] == pytest.approx(peak, abs=0.5)
    emg = {ln.get_label().split()[0]: ln.get_ydata().mean() for ln in fig.axes[1].get_lines()}
    assert emg["WAKE"] > emg["NREM"] + 0.5
    assert len(report.stage_spectra(data, channel="emg").axes) == 1


def test_stage_spectra_errors():
    data = _spectra_data()
    with pytest.raises(ValueError, match=r"Channel\(s\) \['EEG Fpz-Cz'\] not found"):
        report.stage_spectra(data, channel="EEG Fpz-Cz")
    unlabelled = EpochData(data.X, None, data.groups, data.sfreq, data.ch_names, data.ch_types,
                           data.epoch_length)
    with pytest.raises(ValueError, match="labelled"):
        report.stage_spectra(unlabelled)


def test_stage_spectra_and_stage_power_spectra_share_the_welch_set_up():
    data = _spectra_data()
    for kwargs in ({}, {"fmax": 12.0}, {"nperseg": 64}):
        fig = report.stage_spectra(data, channel="eeg1", **kwargs)
        table = report.stage_power_spectra(data.X, data.y, data.sfreq,
                                           ch_names=data.ch_names, **kwargs)
        for line in fig.axes[0].get_lines():
            stage = line.get_label().split()[0]
            rows = table[(table["channel"] == "eeg1") & (table["stage"] == stage)]
            np.testing.assert_array_equal(line.get_xdata(), rows["frequency"].to_numpy())
    with pytest.raises(ValueError, match="No scored epoch"):  # checked before any Welch
        report.stage_power_spectra(data.X, ["UNSCORED"] * data.X.shape[0], data.sfreq,
                                   fmax=-1.0)
