"""The real mouse of ``$SLEEPSTAGE_DATA_DIR/mouse-bandpower`` as a feature matrix.

42 h of expert-scored 4-s epochs (a Baseline day, then Recovery after sleep deprivation)
with per-epoch EEG band powers and an EMG integral, no raw signal (see the data folder's
README). The features are the ones a lab derives from such an export: log band powers, log
EMG, relative band powers and log theta/delta.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sleepstage.data import get_data_dir

BANDS = ("Delta", "Theta", "Alpha", "Beta", "Gamma")
#: Expert labels: ``W*`` / ``NR*`` are artefact-flagged epochs of that stage (kept with it);
#: ``M`` (5 epochs, undocumented) is unscored.
STAGES = {"W": "WAKE", "NR": "NREM", "R": "REM"}
EPOCH_LENGTH = 4.0


def mouse_path() -> Path:
    return get_data_dir() / "mouse-bandpower" / "zfhx3_subject2.csv"


def band_power_features(table: pd.DataFrame) -> pd.DataFrame:
    """Log band powers, log EMG, relative band powers and log theta/delta per epoch.

    Epochs whose band powers are all zero (recording dropouts) take the features of the
    epoch before them (the first ones those of the next valid epoch).
    """
    powers = table[list(BANDS)].to_numpy(np.float64)
    emg = table["EMG"].to_numpy(np.float64)
    dropout = ~(powers > 0).all(axis=1) | ~(emg > 0)
    powers[dropout] = np.nan
    emg = np.where(dropout, np.nan, emg)
    total = powers.sum(axis=1)
    columns = {f"log_{band.lower()}": np.log(powers[:, i]) for i, band in enumerate(BANDS)}
    columns["log_emg"] = np.log(emg)
    columns.update({f"rel_{band.lower()}": powers[:, i] / total for i, band in enumerate(BANDS)})
    columns["log_theta_delta"] = np.log(powers[:, 1] / powers[:, 0])
    features = pd.DataFrame(columns, index=table.index).ffill().bfill()
    return features.astype(np.float32)


def load_mouse(path: Path | None = None) -> dict[str, dict]:
    """Features, stages (None for unscored epochs) and clock times of each condition.

    Returns
    -------
    dict
        ``{"Baseline": {...}, "Recovery": {...}}``, each with ``X`` (DataFrame), ``y``
        (object array, None where unscored) and ``time`` (clock times).
    """
    table = pd.read_csv(path or mouse_path())
    out = {}
    for mode, part in table.groupby("Mode", sort=False):
        part = part.sort_values("EpochNo")
        if not (np.diff(part["EpochNo"].to_numpy()) == 1).all():
            raise ValueError(f"{mode}: epoch numbers are not consecutive")
        stages = part["Stage"].str.rstrip("*").map(STAGES)
        out[mode] = {
            "X": band_power_features(part).reset_index(drop=True),
            "y": np.array([None if pd.isna(stage) else stage for stage in stages],
                          dtype=object),
            "time": pd.to_datetime(part["Time"]).to_numpy(),
        }
    return out
