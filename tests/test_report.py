"""Figures (sleepstage.report): content, saving and headless use."""

from __future__ import annotations

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
    assert ax.get_xlabel() == "time (h)"  # 300 x 30 s = 2.5 h
    assert "agreement" in ax.get_title(loc="right")


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
    assert ax.get_xlabel() == "time (min)"  # 300 x 4 s = 20 min


def test_confusion_matrix_values(tmp_path):
    y_true = ["WAKE", "WAKE", "NREM", "NREM", "REM", "REM"]
    y_pred = ["WAKE", "NREM", "NREM", "NREM", "NREM", "REM"]
    fig = report.confusion(y_true, y_pred, path=tmp_path / "cm.png")
    image = fig.axes[0].images[0].get_array()
    # display order WAKE, REM, NREM; rows are recall
    np.testing.assert_allclose(image, [[0.5, 0, 0.5], [0, 0.5, 0.5], [0, 0, 1]])
    assert (tmp_path / "cm.png").stat().st_size > 1000
    counts = report.confusion(y_true, y_pred, labels=["WAKE", "NREM", "REM"], normalize=None)
    np.testing.assert_array_equal(counts.axes[0].images[0].get_array(),
                                  [[1, 1, 0], [0, 2, 0], [0, 1, 1]])
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
