"""Real mouse: train on one condition, score the other (Baseline <-> Recovery after sleep
deprivation), with the measures a sleep lab publishes.

Features: log band powers, log EMG, relative band powers and log theta/delta
(``benchmarks/_mouse.py``), through
``make_staging_pipeline(features=False, epoch_length=4)`` and its ablations. Every
configuration is scored on all scored epochs of the held-out condition:
balanced accuracy, kappa, % time per stage (error in points), transitions per hour, bouts
per hour, expected calibration error (top label, 15 bins) and the share of errors among the
10 % least confident epochs.

Usage: python benchmarks/real_mouse.py [--configs NAME ...] [--no-write]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import OLD_CONTEXT, build_pipeline, wait_passively
from _mouse import EPOCH_LENGTH, load_mouse, mouse_path
from _report import publish, table

from sleepstage.features import RecordingScaler
from sleepstage.metrics import staging_scores

STAGES = ("WAKE", "NREM", "REM")
RECORDING_SCALER = RecordingScaler(reference="recording", min_epochs=2700)

CONFIGS: dict[str, dict] = {
    "LightGBM alone": dict(scaler=False, context=False, smoothing=None),
    "+ quantile scaler (old)": dict(scaler=RECORDING_SCALER, context=False, smoothing=None),
    "+ stage scaler": dict(scaler=True, context=False, smoothing=None),
    "context + plain HMM, no scaler": dict(scaler=False, context=OLD_CONTEXT, plain_hmm=True),
    "old default (quantile scaler, context, plain HMM)": dict(
        scaler=RECORDING_SCALER, context=OLD_CONTEXT, plain_hmm=True),
    "default without scaler": dict(scaler=False),
    "default without learned HMM": dict(plain_hmm=True),
    "default with the old 60-s context": dict(context=OLD_CONTEXT),
    "default": dict(),
}


def score(pipeline, train: dict, test: dict) -> dict:
    y_train = pd.Series(train["y"]).ffill().bfill().to_numpy()  # 5 unscored epochs
    start = time.perf_counter()
    pipeline.fit(train["X"], y_train)
    fit_seconds = time.perf_counter() - start
    pred = pipeline.predict(test["X"])
    proba = pipeline.predict_proba(test["X"])
    scored = np.array([stage is not None for stage in test["y"]])
    # unscored epochs are left out of the scores, not out of the sequence
    result = staging_scores(test["y"][scored], pred[scored], labels=STAGES,
                            epoch_length=EPOCH_LENGTH, proba=proba[scored],
                            classes=pipeline.classes_)
    result["fit_seconds"] = fit_seconds
    return result


def row(direction: str, config: str, s: dict) -> dict:
    true_rate, pred_rate = s["transitions_per_hour_true"], s["transitions_per_hour_pred"]
    out = {"train -> test": direction, "configuration": config,
           "balanced acc": s["balanced_accuracy"], "kappa": s["kappa"]}
    for stage in STAGES:
        out[f"% {stage} true"] = s["percent_time_true"][stage]
        out[f"% {stage} err"] = s["percent_time_error"][stage]
    out["trans/h true"] = true_rate
    out["trans/h pred"] = pred_rate
    out["trans/h err %"] = 100 * (pred_rate - true_rate) / true_rate
    for stage in STAGES:
        out[f"bouts/h {stage}"] = (f"{s['bouts_per_hour_pred'][stage]:.1f} / "
                                   f"{s['bouts_per_hour_true'][stage]:.1f}")
    out["ECE"] = s["expected_calibration_error"]
    out["errors in least conf. 10 %"] = s["errors_in_least_confident_10pct"]
    out["fit s"] = s["fit_seconds"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--directions", nargs="+", default=["Baseline", "Recovery"],
                        choices=["Baseline", "Recovery"], help="training conditions")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    wait_passively()
    if not mouse_path().exists():
        raise SystemExit(f"{mouse_path()} not found: set SLEEPSTAGE_DATA_DIR")
    data = load_mouse()
    rows = []
    for train_mode in args.directions:
        test_mode = "Recovery" if train_mode == "Baseline" else "Baseline"
        for config in args.configs:
            pipeline = build_pipeline(CONFIGS[config], features=False,
                                      epoch_length=EPOCH_LENGTH)
            s = score(pipeline, data[train_mode], data[test_mode])
            rows.append(row(f"{train_mode} -> {test_mode}", config, s))
            print({k: (round(v, 3) if isinstance(v, float) else v)
                   for k, v in rows[-1].items()}, flush=True)
    frame = pd.DataFrame(rows)
    body = (
        "One real mouse (`mouse-bandpower/zfhx3_subject2.csv`): 24 h Baseline and 17.8 h of "
        "Recovery after sleep deprivation, expert-scored 4-s epochs, features from the band "
        "powers and EMG (no raw signal). Scores on all scored epochs of the held-out "
        "condition. `% STAGE err` is predicted minus true % time in points; `bouts/h` is "
        "predicted / true; ECE is the top-label expected calibration error (15 bins) of "
        "`predict_proba` against the decoded stage. Targets (Baseline -> Recovery, default): "
        "balanced accuracy >= 0.95, every % time within 1.0 point, transitions per hour "
        "within 20 %, ECE <= 0.02, >= 80 % of the errors among the 10 % least confident "
        "epochs.\n\n" + table(frame, floatfmt=".3f")
    )
    publish("real_mouse", "Real mouse: Baseline <-> Recovery after sleep deprivation", body,
            write=not args.no_write)


if __name__ == "__main__":
    main()
