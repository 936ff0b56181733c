"""The README's main job: train and evaluate a stager across animals and on a real night."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .data import get_data_dir, load_sleep_edf, make_synthetic
from .pipelines import cross_validate_recordings, make_staging_pipeline

__all__ = ["run_demo"]

logger = logging.getLogger(__name__)


def _row(name: str, data, report, seconds: float) -> dict:
    """The pooled scores of one evaluation (all held-out epochs together)."""
    row = {
        "data set": name,
        "cv": report.cv,
        "epochs": data.n_epochs,
        "balanced acc": report.pooled("balanced_accuracy"),
        "kappa": report.pooled("kappa"),
    }
    row.update({f"F1 {label}": report.pooled(f"f1_{label}") for label in report.labels})
    row.update({f"% time err {label}": report.pooled(f"percent_time_error_{label}")
                for label in report.labels})
    row["trans/h true"] = report.pooled("transitions_per_hour_true")
    row["trans/h pred"] = report.pooled("transitions_per_hour_pred")
    row["ECE"] = report.pooled("expected_calibration_error")
    row["seconds"] = seconds
    return row


def run_demo(
    *,
    n_recordings: int = 3,
    hours: float = 24.0,
    data_dir: str | Path | None = None,
    random_state: int = 0,
    echo: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Evaluate the default pipeline on synthetic animals and, if present, on Sleep-EDF SC4001.

    1. ``n_recordings`` synthetic mice x ``hours`` (4-s epochs, 2 EEG + EMG at 128 Hz),
       leave-one-animal-out.
    2. Sleep-EDF SC4001 (30-s epochs, EEG Fpz-Cz + Pz-Oz + EMG, sleep period +/- 30 min),
       5 contiguous time blocks — only when the files are found in ``data_dir``
       (default ``$SLEEPSTAGE_DATA_DIR``, else MNE's data folder; nothing is downloaded).

    Parameters
    ----------
    n_recordings, hours : int, float
        Size of the synthetic data set.
    data_dir : path, optional
        Folder holding ``physionet-sleep-data/``.
    random_state : int
        Seed of the synthetic data and the models.
    echo : callable
        Where progress and the final table go.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation, scores pooled over all held-out epochs: balanced accuracy,
        kappa, per-class F1, error of the time in each stage (predicted minus true, in
        percentage points), transitions per hour (true and predicted), expected calibration
        error of the confidence, and wall-clock seconds.
    """
    rows = []
    start = time.perf_counter()
    echo(f"Generating {n_recordings} synthetic animals x {hours:g} h (4-s epochs, 128 Hz) ...")
    synthetic = make_synthetic(n_recordings=n_recordings, hours=hours, random_state=random_state)
    echo(f"  {synthetic.n_epochs} epochs in {time.perf_counter() - start:.1f} s; "
         "leave-one-animal-out with the default pipeline ...")
    start = time.perf_counter()
    pipeline = make_staging_pipeline(random_state=random_state, **synthetic.layout())
    report = cross_validate_recordings(pipeline, synthetic, cv="recording")
    rows.append(_row(f"synthetic {n_recordings} x {hours:g} h", synthetic, report,
                     time.perf_counter() - start))
    echo(str(report))

    data_dir = Path(data_dir) if data_dir is not None else get_data_dir()
    psg = data_dir / "physionet-sleep-data" / "SC4001E0-PSG.edf"
    if psg.exists():
        echo(f"\nSleep-EDF SC4001 from {data_dir} (5 contiguous blocks) ...")
        start = time.perf_counter()
        night = load_sleep_edf(subjects=(0,), recordings=(1,), path=data_dir)
        pipeline = make_staging_pipeline(random_state=random_state, **night.layout())
        report = cross_validate_recordings(pipeline, night, cv="blocks:5")
        rows.append(_row("Sleep-EDF SC4001", night, report, time.perf_counter() - start))
        echo(str(report))
    else:
        echo(f"\nSleep-EDF SC4001 not found at {psg}; give --data-dir or set "
             "SLEEPSTAGE_DATA_DIR to the folder holding physionet-sleep-data/ to include it.")

    table = pd.DataFrame(rows)
    echo("\nSummary (pooled over all held-out epochs; % time err in points):")
    echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return table
