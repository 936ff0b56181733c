"""Compare the LightGBM feature pipeline with the neural baselines, with and without HMM.

Same splits for every model, made by the package's own splitters
(``sleepstage.pipelines.cross_validate_recordings`` uses the same ones):
(a) synthetic 3 animals x 24 h, leave-one-animal-out;
(b) Sleep-EDF SC4001 (sleep period +/- 30 min, 840 epochs of 30 s), 5 contiguous blocks.

Every model is built by ``make_staging_pipeline(model, smoothing="hmm")`` and fitted once per fold;
its classifier (``HMMSmoother.estimator_``) is scored on the held-out epochs before
smoothing and the whole pipeline after, so "no HMM" and "HMM" rows share one fitted network
(training a network twice with the same seed would only repeat the same work). Reported per
model: balanced accuracy, Cohen's kappa and REM F1 (means over folds), fit seconds per fold,
and the seconds needed to score 24 h of recording (prediction time per held-out epoch x the
number of epochs in 24 h).

Training budgets (see ``BUDGETS``) keep the whole run under an hour on 2 cores: the networks
stop early on held-out recordings (or on stratified blocks of time, 20 % of each training
recording, when there are too few recordings to hold one out). The LSTM reads 4-sample
averages (32 Hz for the rodent layout, 128 steps per 4-s epoch) instead of every sample: at
full rate one training pass over 2 x 24 h takes about 10 times longer on CPU.

Usage::

    python benchmarks/compare_models.py                 # full run, writes docs/benchmarks.md
    python benchmarks/compare_models.py --quick --no-write   # minutes-long smoke run
    python benchmarks/compare_models.py --models cnn lstm --datasets sc4001
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from _report import table, write_section

from sleepstage.data import get_data_dir, load_sleep_edf, make_synthetic
from sleepstage.metrics import staging_scores
from sleepstage.pipelines import (
    block_groups,
    fit_with_groups,
    make_staging_pipeline,
    predict_with_groups,
    resolve_cv,
)

MODELS = ("lgbm", "cnn", "lstm")
LABELS = {"lgbm": "LightGBM features", "cnn": "CNN (rodent)", "lstm": "LSTM"}

#: Classifier settings per data set; the neural ones are the training budgets.
BUDGETS: dict[str, dict[str, dict[str, Any]]] = {
    "synthetic": {
        "lgbm": {},
        "cnn": dict(max_epochs=6, patience=2, batch_size=256, lr=3e-3),
        "lstm": dict(max_epochs=6, patience=2, batch_size=256, lr=1e-3, downsample=4),
    },
    "sc4001": {
        "lgbm": {},
        "cnn": dict(max_epochs=15, patience=4, batch_size=64, lr=3e-3),
        "lstm": dict(max_epochs=15, patience=4, batch_size=64, lr=1e-3, downsample=4),
    },
}
QUICK = dict(max_epochs=2, patience=2)


def budget_text(params: dict[str, Any]) -> str:
    """Short description of a training budget for the table."""
    if not params:
        return "package defaults"
    keys = ("max_epochs", "patience", "batch_size", "lr", "downsample")
    names = {"max_epochs": "epochs", "batch_size": "batch", "downsample": "avg"}
    return ", ".join(f"{names.get(k, k)} {params[k]:g}" for k in keys if k in params)


def evaluate(name: str, data, cv: str, models, budgets, quick: bool) -> list[dict]:
    """Fit every model on every fold once; score it before and after HMM smoothing."""
    splitter, n_blocks = resolve_cv(cv)
    groups = np.asarray(data.groups)
    routing = groups if n_blocks is None else block_groups(groups, n_blocks)
    X, y = data.X, np.asarray(data.y)
    labels = list(np.unique(y))
    rem = "REM" if "REM" in labels else labels[-1]
    splits = list(splitter.split(X, y, groups))
    epochs_per_day = 86_400 / data.epoch_length
    rows = []
    for model in models:
        params = dict(budgets[model])
        if model != "lgbm":
            params["verbose"] = 0
            if quick:
                params.update(QUICK)
        folds: dict[str, list[dict]] = {"no": [], "HMM": []}
        for k, (train, test) in enumerate(splits):
            pipeline = make_staging_pipeline(model, **data.layout(), smoothing="hmm", **params)
            start = time.perf_counter()
            fit_with_groups(pipeline, X[train], y[train], routing[train])
            fit_seconds = time.perf_counter() - start
            front, smoother = pipeline[:-1], pipeline[-1]
            start = time.perf_counter()
            Z = (predict_with_groups(front, X[test], routing[test], method="transform")
                 if len(front) else X[test])
            front_seconds = time.perf_counter() - start
            start = time.perf_counter()
            raw = smoother.estimator_.predict(Z)
            raw_seconds = front_seconds + time.perf_counter() - start
            start = time.perf_counter()
            smoothed = predict_with_groups(smoother, Z, routing[test])  # classifier + HMM
            hmm_seconds = front_seconds + time.perf_counter() - start
            for key, pred, seconds in (("no", raw, raw_seconds), ("HMM", smoothed, hmm_seconds)):
                scores = staging_scores(y[test], pred, labels=labels)
                folds[key].append({
                    "balanced acc": scores["balanced_accuracy"],
                    "kappa": scores["kappa"],
                    "F1 REM": scores["f1"][rem],
                    "fit s / fold": fit_seconds,
                    "s to score 24 h": seconds / len(test) * epochs_per_day,
                })
            print(f"{name} | {model} | fold {k}: balanced accuracy "
                  f"{folds['no'][-1]['balanced acc']:.3f} -> {folds['HMM'][-1]['balanced acc']:.3f}"
                  f" with HMM, fit {fit_seconds:.0f} s", flush=True)
        for key, fold_rows in folds.items():
            mean = pd.DataFrame(fold_rows).mean()
            rows.append({"data": name, "model": LABELS[model], "HMM": key, **mean.to_dict(),
                         "budget": budget_text({k: v for k, v in params.items()
                                                if k != "verbose"})})
    return rows


def verdict(frame: pd.DataFrame) -> str:
    """One sentence per data set: the best configuration and its margins."""
    lines = []
    for name, part in frame.groupby("data", sort=False):
        part = part.sort_values("balanced acc", ascending=False)
        best = part.iloc[0]
        text = (f"- **{name}**: {best['model']} ({'with' if best['HMM'] == 'HMM' else 'without'}"
                f" HMM) wins with balanced accuracy {best['balanced acc']:.3f}")
        others = part[part["model"] != best["model"]].groupby("model")["balanced acc"].max()
        if len(others):
            margins = ", ".join(f"{best['balanced acc'] - value:+.3f} over {model}"
                                for model, value in others.sort_values(ascending=False).items())
            text += f" ({margins}, each at its better setting)"
        lines.append(text + ".")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--datasets", nargs="+", choices=("synthetic", "sc4001"),
                        default=["synthetic", "sc4001"])
    parser.add_argument("--hours", type=float, default=24.0,
                        help="hours per synthetic animal (default 24)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 0.5 h per animal and 2 training passes")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = parser.parse_args()
    hours = 0.5 if args.quick else args.hours
    started = time.perf_counter()
    rows: list[dict] = []
    if "synthetic" in args.datasets:
        data = make_synthetic(n_recordings=3, hours=hours, random_state=0)
        rows += evaluate(f"synthetic 3 x {hours:g} h, leave-one-animal-out", data, "recording",
                         args.models, BUDGETS["synthetic"], args.quick)
    if "sc4001" in args.datasets:
        psg = get_data_dir() / "physionet-sleep-data" / "SC4001E0-PSG.edf"
        if psg.exists():
            data = load_sleep_edf(path=get_data_dir())
            rows += evaluate("Sleep-EDF SC4001, 5 contiguous blocks", data, "blocks:5",
                             args.models, BUDGETS["sc4001"], args.quick)
        else:
            print(f"skipping SC4001: {psg} not found (set SLEEPSTAGE_DATA_DIR)")
    frame = pd.DataFrame(rows)
    minutes = (time.perf_counter() - started) / 60
    print(frame.to_string(index=False))
    print(verdict(frame))
    print(f"total {minutes:.1f} min")
    if not args.no_write:
        body = (
            "Same splits and the same fitted classifier for the 'no' and 'HMM' rows (the HMM "
            "smooths that classifier's probabilities). Means over folds; 's to score 24 h' is "
            "prediction time per held-out epoch scaled to one day of epochs. Networks train "
            "on CPU within the stated budget (epochs = maximum passes, patience = early "
            "stopping on held-out recordings or on stratified blocks of time, 20 % of each "
            "training recording; "
            "avg = the LSTM reads averages of that many samples). "
            f"Whole run: {minutes:.0f} min.\n\n"
            + verdict(frame) + "\n\n" + table(frame)
        )
        write_section("compare_models", "Feature pipeline vs neural baselines", body)


if __name__ == "__main__":
    main()
