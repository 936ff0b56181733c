"""What the command line puts in its figures: titles naming recording, model and data,
clock time from the recording's start, artefact epochs (``predict --plot``)."""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np

import sleepstage.report
from sleepstage.cli._predict import _Scored, _write, hypnogram_table, plot_title

CLASSES = ["NREM", "REM", "WAKE"]


def _args(**sources):
    base = {"model": "models/mice.joblib", "synthetic": None, "hours": 24.0, "seed": 0,
            "task4": None, "subset": "train", "edf": None, "edf_list": None, "sleep_edf": None,
            "sleep_edf_recording": [1]}
    return argparse.Namespace(**{**base, **sources})


def test_plot_title_names_recording_model_and_data():
    edf = {"psg": "/data/night1.edf", "hypnogram": None}
    assert plot_title(_args(), "night1", edf) == \
        "night1  |  model: mice.joblib  |  data: edf: night1.edf"
    assert plot_title(_args(synthetic=2, hours=6.0, seed=3), "mouse0", object()) == \
        "mouse0  |  model: mice.joblib  |  data: synthetic: 2 x 6 h, seed 3"


def test_predict_plot_has_title_clock_time_and_artefacts(tmp_path, monkeypatch):
    drawn = []
    real = sleepstage.report.hypnogram

    def spy(*args, **kwargs):
        drawn.append(fig := real(*args, **kwargs))
        return fig

    monkeypatch.setattr(sleepstage.report, "hypnogram", spy)
    rng = np.random.default_rng(0)
    n = 900  # one hour of 4-s epochs
    proba = rng.dirichlet(np.ones(3), size=n)
    pred = np.array(CLASSES)[proba.argmax(axis=1)]
    artefacts = {"artefact": np.arange(n) % 300 == 5, "reasons": [""] * n}
    onsets = np.arange(n) * 4.0
    table = hypnogram_table(pred, proba, CLASSES, onsets, None, artefacts)
    start = dt.datetime(2024, 5, 2, 19, 0, 0)
    result = _Scored(rec="mouse1", table=table, pred=pred, proba=proba, classes=CLASSES,
                     scored=None, onsets=onsets, epoch_length=4.0, start=start)
    paths = [tmp_path / "mouse1_hypnogram.csv", tmp_path / "mouse1_hypnogram.png"]
    title = "mouse1  |  model: mice.joblib  |  data: edf: mouse1.edf"
    line = _write(result, paths, force=False, title=title)
    assert "3 flagged as artefacts" in line and paths[1].stat().st_size > 1000
    (fig,) = drawn
    ax_h, ax_p = fig.axes
    assert fig.get_suptitle() == title
    assert ax_p.get_xlabel() == "clock time (recording started 2024-05-02 19:00)"
    labels = [t.get_text() for t in ax_h.get_legend().get_texts()]
    assert labels == ["predicted", "artefact (3 epochs)"]
    assert [t.get_text() for t in ax_h.get_yticklabels()][-1] == "artefact"


def test_predict_plot_without_a_start_counts_time_from_the_start(tmp_path, monkeypatch):
    drawn = []
    real = sleepstage.report.hypnogram
    monkeypatch.setattr(sleepstage.report, "hypnogram",
                        lambda *a, **k: drawn.append(real(*a, **k)) or drawn[-1])
    pred = np.array(["WAKE", "NREM"] * 20)
    proba = np.where(pred[:, None] == np.array(CLASSES), 0.9, 0.05)
    table = hypnogram_table(pred, proba, CLASSES, np.arange(40) * 4.0)
    result = _Scored(rec="m", table=table, pred=pred, proba=proba, classes=CLASSES,
                     scored=pred, onsets=np.arange(40) * 4.0, epoch_length=4.0, start=None)
    _write(result, [tmp_path / "m.csv", tmp_path / "m.png"], force=False)
    (fig,) = drawn
    assert fig.axes[-1].get_xlabel() == "time since start (min)"
    assert fig.get_suptitle() == "m"  # the recording, when no title is given
