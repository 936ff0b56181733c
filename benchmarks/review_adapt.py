"""Review and adapt: score a new recording, have N epochs checked, adapt, score it again.

Real mouse (``benchmarks/_mouse.py``): the default pipeline
(``make_staging_pipeline(features=False, epoch_length=4)``) is fitted on the Baseline day
and scores the Recovery (17.8 h after sleep deprivation). The N least confident epochs of
that scoring (``sleepstage.metrics.review_epochs``), or N epochs drawn at random (several
seeds), get their expert stage; ``sleepstage.pipelines.adapt`` adapts the model with them and
the Recovery is scored again. Scores are on the scored epochs that were NOT reviewed:
balanced accuracy, % time error per stage (points) and transitions per hour, before and
after. The same on synthetic mice (fit on three, adapt on a fourth).

Usage: python benchmarks/review_adapt.py [--sizes 0 100 300 1000] [--seeds 5]
       [--methods ...] [--no-synthetic] [--no-write]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import wait_passively
from _mouse import EPOCH_LENGTH, load_mouse, mouse_path
from _report import publish, table

from sleepstage.metrics import review_epochs, staging_scores
from sleepstage.pipelines import adapt, make_staging_pipeline

STAGES = ("WAKE", "NREM", "REM")
#: Adaptation variants: keyword arguments of ``adapt``.
METHODS = {
    "default (recording model + bias + held labels)": dict(),
    "default, recording model from epochs > 0.5 confident": dict(confident=0.5),
    "bias + held labels": dict(recording_model=False),
    "held labels only": dict(recording_model=False, bias=False),
}


def scores(y_true, pred, keep) -> dict:
    s = staging_scores(y_true[keep], pred[keep], labels=STAGES, epoch_length=EPOCH_LENGTH)
    out = {"balanced acc": s["balanced_accuracy"]}
    for stage in STAGES:
        out[f"% {stage} err"] = s["percent_time_error"][stage]
    out["trans/h err %"] = 100 * (s["transitions_per_hour_pred"]
                                  - s["transitions_per_hour_true"]) / s[
        "transitions_per_hour_true"]
    return out


def run_case(model, X, y, sizes, seeds, methods, label):
    """Rows of the table for one (model, new recording) case."""
    scored = np.array([v is not None for v in y])
    # the last step is an HMMSmoother: the transforms and the classifier run once
    pred0, proba0 = model[-1].predict_and_proba(model[:-1].transform(X))
    confidence = proba0[np.arange(len(pred0)),
                        pd.Index(model.classes_).get_indexer(pred0)]
    rows = []
    rng_pool = np.flatnonzero(scored)
    for n in sizes:
        selections = {"least confident": [review_epochs(np.where(scored, confidence, np.inf),
                                                        n=n)[:n]]}
        if n:
            selections["random"] = [np.random.default_rng(seed).choice(rng_pool, n,
                                                                       replace=False)
                                    for seed in range(seeds)]
        for how, picks in selections.items():
            keeps = []
            for pick in picks:
                keep = scored.copy()
                keep[pick] = False
                keeps.append(keep)
            befores = [scores(y, pred0, keep) for keep in keeps]  # once per pick
            for method, kwargs in (methods.items() if n else [("none", {})]):
                results = []
                for pick, keep, before in zip(picks, keeps, befores, strict=True):
                    if n:
                        start = time.perf_counter()
                        adapted = adapt(model, X, {int(i): y[i] for i in pick}, **kwargs)
                        seconds = time.perf_counter() - start
                        after = scores(y, np.asarray(adapted.predict(X)), keep)
                    else:
                        after, seconds = before, 0.0
                    results.append((before, after, seconds))
                gains = np.array([a["balanced acc"] - b["balanced acc"]
                                  for b, a, _ in results])
                row = {"case": label, "N reviewed": n, "which": how if n else "-",
                       "adaptation": method,
                       "bal. acc before": np.mean([b["balanced acc"] for b, _, _ in results]),
                       "bal. acc after": np.mean([a["balanced acc"] for _, a, _ in results]),
                       "gain": gains.mean(),
                       "gain spread": (f"{gains.min():+.4f}..{gains.max():+.4f}"
                                       if len(gains) > 1 else "-")}
                for key in [f"% {s} err" for s in STAGES] + ["trans/h err %"]:
                    row[f"{key} before"] = np.mean([b[key] for b, _, _ in results])
                    row[f"{key} after"] = np.mean([a[key] for _, a, _ in results])
                row["adapt s"] = np.mean([s for _, _, s in results])
                rows.append(row)
                print({k: (round(v, 4) if isinstance(v, float) else v)
                       for k, v in row.items()}, flush=True)
    return rows


def mouse_rows(sizes, seeds, methods):
    data = load_mouse()
    train, test = data["Baseline"], data["Recovery"]
    model = make_staging_pipeline(features=False, epoch_length=EPOCH_LENGTH)
    model.fit(train["X"], pd.Series(train["y"]).ffill().bfill().to_numpy())
    return run_case(model, test["X"], test["y"], sizes, seeds, methods,
                    "real mouse: Baseline -> Recovery")


def synthetic_rows(sizes, seeds, methods):
    from sleepstage.data import make_synthetic
    from sleepstage.features import EpochFeatures
    from sleepstage.pipelines import fit_with_groups

    train = make_synthetic(n_recordings=3, hours=3, random_state=0)
    new = make_synthetic(n_recordings=1, hours=3, random_state=11)
    features = EpochFeatures(**train.layout())  # computed once, outside the pipeline
    model = make_staging_pipeline(features=False, epoch_length=train.epoch_length,
                                  n_estimators=100)
    fit_with_groups(model, features.fit_transform(train.flat()), train.y, train.groups)
    y = np.asarray(new.y, dtype=object)
    return run_case(model, features.transform(new.flat()), y,
                    [n for n in sizes if n <= 300], seeds, methods,
                    "synthetic: 3 mice -> a 4th (3 h)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", type=int, default=[0, 100, 300, 1000])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    wait_passively()
    if not mouse_path().exists():
        raise SystemExit(f"{mouse_path()} not found: set SLEEPSTAGE_DATA_DIR")
    methods = {m: METHODS[m] for m in args.methods}
    rows = mouse_rows(args.sizes, args.seeds, methods)
    if not args.no_synthetic:
        rows += synthetic_rows(args.sizes, args.seeds, methods)
    frame = pd.DataFrame(rows)
    short = frame[["case", "N reviewed", "which", "adaptation", "bal. acc before",
                   "bal. acc after", "gain", "gain spread", "adapt s"]]
    lab = frame[["case", "N reviewed", "which", "adaptation"]
                + [c for c in frame.columns if "err" in c]]
    body = (
        "Fit on one recording, score a new one, give the expert stage of N epochs (the N "
        "least confident of the first scoring, or N random scored epochs, "
        f"{args.seeds} seeds: mean and range of the gain), adapt with "
        "`sleepstage.pipelines.adapt`, score again. Every score is on the scored epochs "
        "that were *not* reviewed, so the labels given cannot count themselves. "
        "Adaptations: *bias* corrects the classifier's score of each stage (one term per "
        "stage on its log-probabilities, fitted on the labelled epochs); *held labels* "
        "keeps the reviewed epochs at their stage when the recording is decoded again "
        "(the HMM then uses them as certain evidence for their neighbours). Target (real "
        "mouse): N = 300 least confident gains >= 0.005 balanced accuracy and more than "
        "300 random epochs.\n\n" + table(short, floatfmt=".4f")
        + "\n\nLab measures on the same epochs (% time error in points, predicted minus "
        "true; transitions per hour, relative error), before -> after:\n\n"
        + table(lab, floatfmt=".2f")
    )
    publish("review_adapt", "Review the least confident epochs, adapt, rescore", body,
            write=not args.no_write)


if __name__ == "__main__":
    main()
