"""The real mouse (band powers, 4-s epochs): train on Baseline, score Recovery after sleep
deprivation with ``make_staging_pipeline(features=False)``: the numbers a sleep lab publishes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from conftest import REPO_ROOT, require_file

from sleepstage.metrics import staging_scores
from sleepstage.pipelines import make_staging_pipeline

pytestmark = pytest.mark.slow


def _mouse_module():
    spec = importlib.util.spec_from_file_location("_mouse", REPO_ROOT / "benchmarks" / "_mouse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mouse():
    path = require_file("mouse-bandpower/zfhx3_subject2.csv")
    return _mouse_module().load_mouse(path)


@pytest.fixture(scope="module")
def recovery_scores(mouse):
    train, test = mouse["Baseline"], mouse["Recovery"]
    pipeline = make_staging_pipeline(features=False, epoch_length=4.0)
    assert [name for name, _ in pipeline.steps] == ["scaler", "context", "classifier"]
    pipeline.fit(train["X"], pd.Series(train["y"]).ffill().to_numpy())
    scored = np.array([stage is not None for stage in test["y"]])
    pred = pipeline.predict(test["X"])
    proba = pipeline.predict_proba(test["X"])
    return staging_scores(test["y"][scored], pred[scored], labels=["WAKE", "NREM", "REM"],
                          epoch_length=4.0, proba=proba[scored], classes=pipeline.classes_)


def test_recovery_architecture_is_faithful(recovery_scores):
    """More sleep after deprivation is not turned into wake, and brief arousals survive."""
    s = recovery_scores
    assert s["balanced_accuracy"] >= 0.94
    for stage, error in s["percent_time_error"].items():
        assert abs(error) <= 1.5, (stage, error)
    true_rate, pred_rate = s["transitions_per_hour_true"], s["transitions_per_hour_pred"]
    assert abs(pred_rate - true_rate) <= 0.25 * true_rate


def test_recovery_confidence_is_calibrated(recovery_scores):
    assert recovery_scores["expected_calibration_error"] <= 0.03
    assert recovery_scores["errors_in_least_confident_10pct"] >= 0.7
    assert recovery_scores["mean_confidence"] < 0.99
