"""``sleepstage grid-search``: recording-grouped grid search with a progress bar.

Every (candidate, fold) pair is an independent joblib task, so ``--n-jobs`` parallelises
across both and the progress bar advances as tasks finish. Unlike a plain ``GridSearchCV``
scorer, each held-out fold is predicted with its recording ids, so temporal context and HMM
smoothing never run across recording or block boundaries.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .._version import __version__
from ._args import Progress, example_epilog, iterate_with_progress
from ._evaluate import add_cv_arguments, check_cv, default_cv
from ._fit import add_pipeline_arguments
from ._sources import describe_sources, load_data


def add_parser(subparsers, parents) -> None:
    parser = subparsers.add_parser(
        "grid-search",
        parents=parents,
        help="tune hyper-parameters with recording-grouped cross-validation",
        description="Grid search scored by balanced accuracy with recording-grouped (or "
                    "block-wise) cross-validation. Writes cv_results.csv, best_params.json "
                    "and best_model.joblib (the best candidate refitted on all data) to "
                    "--out-dir, and prints a ranked table. Parameter names may be short "
                    "(num_leaves) or full (classifier__estimator__num_leaves).",
        epilog=example_epilog(
            "sleepstage grid-search --synthetic 3 --hours 6 \\",
            "    --grid num_leaves=15,31 --grid learning_rate=0.05,0.1 --n-jobs 2",
            "sleepstage grid-search --task4 data/ --grid-file grid.yaml -o tuning/",
            "  (grid.yaml:  num_leaves: [15, 31]\\n              n_estimators: [200, 400])",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_pipeline_arguments(parser)
    parser.add_argument("--grid", action="append", metavar="KEY=V1,V2,...",
                        help="values to try for one parameter (repeatable)")
    parser.add_argument("--grid-file", metavar="FILE",
                        help="YAML or JSON grid: {param: [values]} or a list of such grids")
    add_cv_arguments(parser)
    parser.add_argument("-o", "--out-dir", default="grid-search", metavar="DIR",
                        help="output folder (default: grid-search)")
    parser.set_defaults(run=run)


def _fit_and_score(base, params, X, y, groups, train, test, labels, epoch_length,
                   candidate, fold, layout=None):
    """Fit one candidate on one fold and score it (runs in a joblib worker)."""
    from sklearn.base import clone

    from ..metrics import staging_scores
    from ..pipelines import fit_with_groups, predict_with_groups

    model = clone(base).set_params(**params)
    start = time.perf_counter()
    fit_with_groups(model, X[train], y[train], groups[train], layout=layout)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    pred = predict_with_groups(model, X[test], groups[test])
    score_time = time.perf_counter() - start
    scores = staging_scores(y[test], pred, labels=labels, groups=groups[test],
                            epoch_length=epoch_length)
    return {"candidate": candidate, "fold": fold, "balanced_accuracy":
            scores["balanced_accuracy"], "kappa": scores["kappa"], "fit_time": fit_time,
            "score_time": score_time}


def _splits(cv: str, data):
    """(list of (train, test), groups to route) for 'recording' or 'blocks:K'."""
    from ..pipelines import BlockSplit, RecordingSplit, block_groups
    from ._args import UsageError

    groups = np.asarray(data.groups)
    if cv == "recording":
        splitter, routed = RecordingSplit(), groups
    elif cv.startswith("blocks:"):
        try:
            k = int(cv.split(":", 1)[1])
        except ValueError:
            raise UsageError(f"--cv {cv!r}: use blocks:K with an integer K, e.g. blocks:5.") \
                from None
        splitter, routed = BlockSplit(n_blocks=k), block_groups(groups, k)
    else:
        raise UsageError(f"--cv must be 'recording' or 'blocks:K', got {cv!r}.")
    return list(splitter.split(data.X, data.y, groups)), routed


def short_params(params: dict) -> dict:
    """``{"classifier__estimator__num_leaves": 7}`` -> ``{"num_leaves": 7}`` when unambiguous."""
    short = {key.rsplit("__", 1)[-1]: value for key, value in params.items()}
    return short if len(short) == len(params) else dict(params)


def cv_results_table(candidates, records, n_folds):
    """GridSearchCV-like ``cv_results`` DataFrame, ranked by mean balanced accuracy."""
    import pandas as pd

    scores = np.full((len(candidates), n_folds), np.nan)
    kappas = np.full_like(scores, np.nan)
    fit_times = np.full_like(scores, np.nan)
    score_times = np.full_like(scores, np.nan)
    for r in records:
        c, f = r["candidate"], r["fold"]
        scores[c, f], kappas[c, f] = r["balanced_accuracy"], r["kappa"]
        fit_times[c, f], score_times[c, f] = r["fit_time"], r["score_time"]
    table = pd.DataFrame({
        "params": [json.dumps(p, default=str) for p in candidates],
        **{f"param_{k}": [p.get(k) for p in candidates]
           for k in dict.fromkeys(k for p in candidates for k in p)},
        **{f"split{f}_test_score": scores[:, f] for f in range(n_folds)},
        "mean_test_score": scores.mean(axis=1),
        "std_test_score": scores.std(axis=1),
        "mean_test_kappa": kappas.mean(axis=1),
        "mean_fit_time": fit_times.mean(axis=1),
        "mean_score_time": score_times.mean(axis=1),
    })
    table["rank_test_score"] = table["mean_test_score"].rank(ascending=False,
                                                             method="min").astype(int)
    return table


def run(args) -> int:
    from joblib import Parallel, delayed
    from sklearn.base import clone
    from sklearn.model_selection import ParameterGrid

    from ..io import check_writable, save_model, write_json, write_table
    from ..pipelines import fit_with_groups
    from ._args import build_pipeline, parse_grid

    check_cv(args.cv)
    out_dir = Path(args.out_dir)
    paths = {name: out_dir / name for name in
             ("cv_results.csv", "best_params.json", "best_model.joblib")}
    check_writable(paths.values(), force=args.force)
    data = load_data(args, need_labels=True, purpose="grid-search").data
    base, settings = build_pipeline(args.pipeline, args.settings, data, args.seed)
    grids = parse_grid(args.grid, args.grid_file, base)
    candidates = list(ParameterGrid(grids))
    cv = default_cv(args, data)
    splits, routed = _splits(cv, data)
    X, y = data.X, np.asarray(data.y)
    labels = list(np.unique(y))
    tasks = [(c, f) for c in range(len(candidates)) for f in range(len(splits))]
    print(f"{len(candidates)} candidate(s) x {len(splits)} folds ({cv}) = {len(tasks)} fits "
          f"on {data.n_epochs} epochs", flush=True)
    progress = Progress(len(tasks), "grid search", enabled=not args.quiet)
    start = time.perf_counter()
    results = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(_fit_and_score)(base, candidates[c], X, y, routed, *splits[f], labels,
                                data.epoch_length, c, f, data.layout())
        for c, f in tasks
    )
    records = list(iterate_with_progress(results, progress))
    table = cv_results_table(candidates, records, len(splits))
    best_index = int(table["mean_test_score"].to_numpy().argmax())
    best_params = candidates[best_index]

    best = clone(base).set_params(**best_params)
    fit_with_groups(best, X, y, data.groups, layout=data.layout())
    search_seconds = time.perf_counter() - start
    summary = {
        "best_params": best_params,
        "best_score": float(table["mean_test_score"][best_index]),
        "best_score_std": float(table["std_test_score"][best_index]),
        "scoring": "balanced_accuracy",
        "cv": cv,
        "n_candidates": len(candidates),
        "n_folds": len(splits),
        "pipeline": args.pipeline,
        "settings": settings,
        "sources": describe_sources(args),
        "seconds": round(search_seconds, 1),
        "sleepstage_version": __version__,
    }
    write_table(table, paths["cv_results.csv"], force=args.force)
    write_json(paths["best_params.json"], summary, force=args.force)
    save_model(best, paths["best_model.joblib"], data=data, force=args.force, metadata={
        "pipeline_name": args.pipeline,
        "settings": {**settings, **best_params},
        "sources": describe_sources(args),
        "grid_search": {k: summary[k] for k in ("best_score", "best_score_std", "cv",
                                                 "n_candidates", "scoring")},
    })

    ranked = table.sort_values(["rank_test_score", "mean_test_score"],
                               ascending=[True, False]).head(20)
    shown = ranked[["rank_test_score", "mean_test_score", "std_test_score",
                    "mean_test_kappa", "mean_fit_time"]].rename(columns={
        "rank_test_score": "rank", "mean_test_score": "balanced_acc",
        "std_test_score": "std", "mean_test_kappa": "kappa", "mean_fit_time": "fit_s"})
    shown["params"] = [json.dumps(short_params(candidates[i]), default=str)
                       for i in ranked.index]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"Best: {json.dumps(best_params, default=str)} (balanced accuracy "
          f"{summary['best_score']:.3f} +/- {summary['best_score_std']:.3f})")
    print(f"Results written to {out_dir}")
    return 0
