"""Fit time and scores of the default pipeline: preset "fast" against "2026-11".

``make_staging_pipeline()`` (preset "fast": LightGBM with 100 trees at learning rate 0.15,
63-bin histograms, half of the columns and of the epochs per tree; the scaler's first pass
on 63 bins and half of the epochs and columns) is compared with
``make_staging_pipeline(preset="2026-11")`` (the earlier settings: 150 trees at 0.1, 255
bins, 80 % of the columns and epochs; the first pass on 255 bins and every epoch), in the
same process:

- **time**: both fitted with ``fit_with_groups`` on 3 synthetic animals x 24 h (64 800
  epochs of 3 x 512 float32 samples), old and new interleaved ``--repeat`` times; the
  classifier step (LightGBM + HMM with its cross-fitted transition weight and temperature)
  is also timed on its own input. Target: new / old <= 0.5.
- **scores**: the same comparison as the ablation and the real-mouse scripts: synthetic mice
  leave-one-animal-out, SC4001 in 5 contiguous blocks (with groups), the real mouse
  Baseline -> Recovery and the reverse. Target: balanced accuracy within 0.005.
- **seeds**: the scores of each preset with ``--seeds`` seeds (``random_state``), the seed
  the only change: the spread within a preset, against which the difference between the
  presets is read.

Usage::

    python benchmarks/bench_fit.py [--hours 24] [--repeat 2] [--only time|scores|seeds]
                                   [--seeds 4] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd
from _common import wait_passively
from _report import publish, table
from bench_scoring import timed
from sklearn.base import clone

PRESETS = ("2026-11", "fast")  # old, new
TARGET_RATIO = 0.5
TARGET_SCORE_DELTA = 0.005


def time_fits(hours: float, repeat: int) -> str:
    """Fit old and new presets interleaved on 3 synthetic animals; markdown section body."""
    from sleepstage.data import make_synthetic
    from sleepstage.pipelines import fit_with_groups, make_staging_pipeline

    train = make_synthetic(n_recordings=3, hours=hours, random_state=0)
    X, y, groups = train.flat(), np.asarray(train.y), train.groups
    load_before = os.getloadavg()[0]
    # the steps before the classifier: features and context do not depend on the preset,
    # the scaler's first pass does (timed here with the default, "fast")
    steps = make_staging_pipeline().steps
    current, rows = X, []
    for name, step in steps[:-1]:
        kwargs = {"groups": groups} if name in ("scaler", "context") else {}
        wall, cpu = time.perf_counter(), time.process_time()
        current = clone(step).fit_transform(current, y, **kwargs)
        which = "preset 'fast'" if name == "scaler" else "either preset"
        rows.append({"task": f"  fit step: {name} ({which})",
                     "wall s": time.perf_counter() - wall,
                     "CPU s": time.process_time() - cpu})
    full: dict[str, list[tuple[float, float]]] = {p: [] for p in PRESETS}
    clf: dict[str, list[tuple[float, float]]] = {p: [] for p in PRESETS}
    for run in range(repeat):
        for preset in PRESETS:
            pipeline = make_staging_pipeline(preset=preset)
            full[preset].append(timed(lambda p=pipeline: fit_with_groups(p, X, y, groups)))
            hmm = clone(pipeline.steps[-1][1])
            clf[preset].append(timed(lambda h=hmm: h.fit(current, y, groups=groups)))
            print(f"run {run}: {preset}: fit {full[preset][-1][0]:.1f} s, classifier step "
                  f"{clf[preset][-1][0]:.1f} s", file=sys.stderr, flush=True)
    load_after = os.getloadavg()[0]
    n_columns = current.shape[1]
    for label, runs in (("fit default pipeline", full), ("  fit step: classifier", clf)):
        for preset in PRESETS:
            walls = [w for w, _ in runs[preset]]
            rows.append({"task": f"{label}, preset {preset!r}", "wall s": min(walls),
                         "CPU s": min(c for _, c in runs[preset]),
                         "runs (wall s)": " ".join(f"{w:.1f}" for w in walls)})
        ratios = [n[0] / o[0] for o, n in zip(runs[PRESETS[0]], runs[PRESETS[1]], strict=True)]
        cpu_ratio = (min(c for _, c in runs[PRESETS[1]])
                     / min(c for _, c in runs[PRESETS[0]]))
        rows.append({"task": f"{label}: ratio new / old",
                     "wall s": min(w for w, _ in runs[PRESETS[1]])
                     / min(w for w, _ in runs[PRESETS[0]]),
                     "CPU s": cpu_ratio,
                     "runs (wall s)": "per run: " + " ".join(f"{r:.2f}" for r in ratios)})
    frame = pd.DataFrame(rows).fillna("")
    ratio = next(r["wall s"] for r in rows
                 if r["task"] == "fit default pipeline: ratio new / old")
    return (
        f"`make_staging_pipeline()` (preset \"fast\": LightGBM and the scaler's first pass) "
        f"against "
        f"`make_staging_pipeline(preset=\"2026-11\")`, each fitted with `fit_with_groups` on "
        f"{train.n_epochs} synthetic epochs (3 animals x {hours:g} h; the classifier sees "
        f"{n_columns} columns), old and new interleaved {repeat} times in one process "
        f"(best of the runs; the ratio row divides the best times, per run in the last "
        f"column). The classifier step is LightGBM plus the HMM, which fits LightGBM "
        f"3 times (2 cross-fitting folds and the final model). CPU seconds are the "
        f"process CPU time of all threads. Load average {load_before:.1f} before, "
        f"{load_after:.1f} after (2-core machine shared with other jobs); "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}.\n\n"
        f"Target: fit new / old <= {TARGET_RATIO}: {ratio:.2f} -> "
        f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}\n\n"
        f"{table(frame, floatfmt='.2f')}\n"
    )


def _score_row(data: str, preset: str, s: dict, seconds: float) -> dict:
    true_rate, pred_rate = s["transitions_per_hour_true"], s["transitions_per_hour_pred"]
    row = {"data": data, "preset": preset, "balanced acc": s["balanced_accuracy"],
           "kappa": s["kappa"]}
    for stage, error in s["percent_time_error"].items():
        row[f"% {stage} err"] = error
    row.update({"trans/h true": true_rate, "trans/h pred": pred_rate,
                "ECE": s.get("expected_calibration_error", float("nan")),
                "seconds": seconds})
    return row


def compare_scores(hours: float) -> str:
    """Score both presets on the three data sets; markdown section body."""
    from _mouse import EPOCH_LENGTH, load_mouse, mouse_path
    from real_mouse import score as score_mouse

    from sleepstage.pipelines import cross_validate_recordings, make_staging_pipeline

    rows = []
    for name, data, cv in _data_sets(hours):
        for preset in PRESETS:
            start = time.perf_counter()
            report = cross_validate_recordings(
                make_staging_pipeline(preset=preset, **data.layout()), data, cv=cv)
            rows.append(_score_row(name, preset, report.overall, time.perf_counter() - start))
            print(rows[-1], file=sys.stderr, flush=True)
    if mouse_path().exists():
        mouse = load_mouse()
        for train, test in (("Baseline", "Recovery"), ("Recovery", "Baseline")):
            for preset in PRESETS:
                start = time.perf_counter()
                pipeline = make_staging_pipeline(preset=preset, features=False,
                                                 epoch_length=EPOCH_LENGTH)
                s = score_mouse(pipeline, mouse[train], mouse[test])
                rows.append(_score_row(f"real mouse, {train} -> {test}", preset, s,
                                       time.perf_counter() - start))
                print(rows[-1], file=sys.stderr, flush=True)
    frame = pd.DataFrame(rows)
    deltas = []
    for name in frame["data"].unique():
        part = frame[frame["data"] == name].set_index("preset")
        deltas.append({"data": name, **{
            f"{key} new - old": part.loc[PRESETS[1], key] - part.loc[PRESETS[0], key]
            for key in ("balanced acc", "kappa", "trans/h pred", "ECE")}})
    delta = pd.DataFrame(deltas)
    worst = float(delta["balanced acc new - old"].abs().max())
    return (
        "The default pipeline with each preset, on the splits of "
        "`benchmarks/ablation.py` (synthetic, SC4001) and `benchmarks/real_mouse.py` (real "
        "mouse; its scores cover the scored epochs of the held-out condition). `% STAGE err` "
        "is predicted minus true % time in points; ECE is the top-label expected calibration "
        "error (15 bins). Seconds: whole evaluation, wall clock (shared machine).\n\n"
        f"Target: |balanced accuracy new - old| <= {TARGET_SCORE_DELTA} on every data set: "
        f"largest {worst:.4f} -> {'met' if worst <= TARGET_SCORE_DELTA else 'NOT met'}\n\n"
        f"{table(frame, floatfmt='.3f')}\n\n{table(delta, floatfmt='+.4f')}\n"
    )


def _data_sets(hours: float) -> list[tuple[str, object, str]]:
    """(name, data, cv) of the cross-validated data sets: synthetic mice, SC4001 if present."""
    from sleepstage.data import get_data_dir, load_sleep_edf, make_synthetic

    sets = [(f"synthetic 3 x {hours:g} h, leave-one-animal-out",
             make_synthetic(n_recordings=3, hours=hours, random_state=0), "recording")]
    if (get_data_dir() / "physionet-sleep-data" / "SC4001E0-PSG.edf").exists():
        sets.append(("SC4001, 5 blocks with groups", load_sleep_edf(path=get_data_dir()),
                     "blocks:5"))
    return sets


def seed_spread(hours: float, n_seeds: int) -> str:
    """Balanced accuracy of both presets over ``n_seeds`` seeds; markdown section body.

    The seed (``random_state``: LightGBM's row and column sampling, the scaler's first pass)
    is the only change between runs, so the spread within a preset is the noise a score
    difference between presets must be read against.
    """
    from _mouse import EPOCH_LENGTH, load_mouse, mouse_path
    from real_mouse import score as score_mouse

    from sleepstage.pipelines import cross_validate_recordings, make_staging_pipeline

    runs = []
    for name, data, cv in _data_sets(hours):
        for seed in range(n_seeds):
            for preset in PRESETS:
                pipeline = make_staging_pipeline(preset=preset, random_state=seed,
                                                 **data.layout())
                overall = cross_validate_recordings(pipeline, data, cv=cv).overall
                runs.append({"data": name, "preset": preset, "seed": seed,
                             "balanced acc": overall["balanced_accuracy"],
                             "ECE": overall["expected_calibration_error"]})
                print(runs[-1], file=sys.stderr, flush=True)
    if mouse_path().exists():
        mouse = load_mouse()
        for train, test in (("Baseline", "Recovery"), ("Recovery", "Baseline")):
            for seed in range(n_seeds):
                for preset in PRESETS:
                    pipeline = make_staging_pipeline(preset=preset, random_state=seed,
                                                     features=False, epoch_length=EPOCH_LENGTH)
                    s = score_mouse(pipeline, mouse[train], mouse[test])
                    runs.append({"data": f"real mouse, {train} -> {test}", "preset": preset,
                                 "seed": seed, "balanced acc": s["balanced_accuracy"],
                                 "ECE": s["expected_calibration_error"]})
                    print(runs[-1], file=sys.stderr, flush=True)
    frame = pd.DataFrame(runs)
    rows = []
    for name in frame["data"].unique():
        row = {"data": name}
        for preset in PRESETS:
            scores = frame[(frame["data"] == name) & (frame["preset"] == preset)]
            acc = scores["balanced acc"]
            row[f"{preset}: mean"] = acc.mean()
            row[f"{preset}: range"] = acc.max() - acc.min()
            row[f"{preset}: ECE"] = scores["ECE"].mean()
        pairs = frame[frame["data"] == name].pivot(index="seed", columns="preset",
                                                   values="balanced acc")
        delta = pairs[PRESETS[1]] - pairs[PRESETS[0]]
        row["new - old, mean"] = delta.mean()
        row["new - old, min..max"] = f"{delta.min():+.4f}..{delta.max():+.4f}"
        rows.append(row)
    return (
        f"Balanced accuracy of each preset with {n_seeds} seeds (`random_state` 0..{n_seeds - 1} "
        "of `make_staging_pipeline`: LightGBM's sampling of rows and columns and the scaler's "
        "first pass), on the splits of the scores section; the seed is the only change. "
        "*range* is the largest minus the smallest score of a preset over the seeds: the "
        "noise a difference between presets is read against. *new - old* compares the "
        "presets seed by seed; ECE is the mean over the seeds.\n\n"
        + table(pd.DataFrame(rows), floatfmt=".4f") + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="hours per recording")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved timed fits")
    parser.add_argument("--only", choices=["time", "scores", "seeds"], help="run one part")
    parser.add_argument("--seeds", type=int, default=4,
                        help="seeds of the 'seeds' part (the spread of each preset's scores)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    args = parser.parse_args(argv)
    wait_passively()
    if args.only in (None, "time"):
        publish("fit", "Fitting the default pipeline: preset \"fast\" against \"2026-11\"",
                time_fits(args.hours, args.repeat), write=not args.no_write)
    if args.only in (None, "scores"):
        publish("fit_scores", "Scores of the presets \"fast\" and \"2026-11\"",
                compare_scores(args.hours), write=not args.no_write)
    if args.only in (None, "seeds"):
        publish("fit_seeds", "Scores of the presets across seeds",
                seed_spread(args.hours, args.seeds), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
