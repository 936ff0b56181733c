"""``sleepstage grid-search``: recording-grouped grid search.

A front end to :func:`sleepstage.parallel.grid_search`: every (candidate, fold) pair is an
independent joblib task, so ``--n-jobs`` (or ``--dask-scheduler``) parallelises across
both. Unlike a plain ``GridSearchCV`` scorer, each held-out fold is predicted with its
recording ids, so temporal context and HMM smoothing never run across recording or block
boundaries; artefact epochs are left out of the training folds and of the refit, as in
``evaluate`` and ``fit``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .._version import __version__
from ._args import add_subcommand
from ._data_args import describe_sources
from ._evaluate import add_cv_arguments, check_cv, default_cv
from ._fit import add_pipeline_arguments
from ._loading import load_data
from ._outputs import check_outputs
from ._parallel import add_parallel_arguments, resolve_n_jobs

if TYPE_CHECKING:
    import pandas as pd

#: Metrics computed for every (candidate, fold); the first ranks the candidates.
METRICS = ("balanced_accuracy", "kappa")


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "grid-search", parents,
        help="tune hyper-parameters with recording-grouped cross-validation",
        description="Grid search scored by balanced accuracy with recording-grouped (or "
                    "block-wise) cross-validation. Writes cv_results.csv, best_params.json "
                    "and best_model.joblib (the best candidate refitted on all data) to "
                    "--out-dir, and prints a ranked table. Parameter names may be short "
                    "(num_leaves) or full (classifier__estimator__num_leaves).",
        examples=(
            "sleepstage grid-search --synthetic 3 --hours 6 \\",
            "    --grid num_leaves=15,31 --grid learning_rate=0.05,0.1 --n-jobs 2",
            "sleepstage grid-search --task4 data/ --grid-file grid.yaml -o tuning/",
            "  (grid.yaml:  num_leaves: [15, 31]\\n              n_estimators: [200, 400])",
        ),
    )
    add_pipeline_arguments(parser)
    parser.add_argument("--grid", action="append", metavar="KEY=V1,V2,...",
                        help="values to try for one parameter (repeatable)")
    parser.add_argument("--grid-file", metavar="FILE",
                        help="YAML or JSON grid: {param: [values]} or a list of such grids")
    add_cv_arguments(parser)
    add_parallel_arguments(parser, tasks="(candidate, fold) fits", default="1")
    parser.add_argument("-o", "--out-dir", default="grid-search", metavar="DIR",
                        help="output folder (default: grid-search)")
    parser.set_defaults(run=run)


def short_params(params: dict) -> dict:
    """``{"classifier__estimator__num_leaves": 7}`` -> ``{"num_leaves": 7}`` when unambiguous."""
    short = {key.rsplit("__", 1)[-1]: value for key, value in params.items()}
    return short if len(short) == len(params) else dict(params)


def cv_results_table(search) -> pd.DataFrame:
    """The search's ``cv_results_`` as the CSV table, ranked by balanced accuracy.

    Columns keep the names of a single-metric ``GridSearchCV`` for the ranking metric
    (``split<k>_test_score``, ``mean_test_score``, ``std_test_score``,
    ``rank_test_score``), then ``split<k>_test_kappa``, ``mean_test_kappa``, ... and the
    times; ``params`` is JSON.
    """
    import numpy as np
    import pandas as pd

    results = dict(search.cv_results_)
    first = f"_test_{METRICS[0]}"
    table = pd.DataFrame({
        (key[: -len(first)] + "_test_score" if key.endswith(first) else key): value
        for key, value in results.items() if key != "params"
    })
    table.insert(0, "params", [json.dumps(p, default=str) for p in results["params"]])
    for column in table.columns:
        if column.startswith("param_"):  # masked arrays of objects -> plain values
            table[column] = [None if v is np.ma.masked else v for v in results[column]]
    return table


def run(args) -> int:
    from ..io import save_model, write_json, write_table
    from ..parallel import grid_search
    from ._args import parse_grid
    from ._pipeline import build_pipeline
    from ._provenance import describe_training
    from ._settings import check_settings

    check_cv(args.cv)
    n_jobs = resolve_n_jobs(args, 1)
    out_dir = Path(args.out_dir)
    paths = {name: out_dir / name for name in
             ("cv_results.csv", "best_params.json", "best_model.joblib")}
    check_outputs(args, paths.values())
    check_settings(args.pipeline, args.settings, args,
                   grid=lambda pipeline: parse_grid(args.grid, args.grid_file, pipeline))
    data = load_data(args, need_labels=True, purpose="grid-search").data
    base, settings = build_pipeline(args.pipeline, args.settings, data, args.seed,
                                    quiet=args.quiet)
    grids = parse_grid(args.grid, args.grid_file, base)
    cv = default_cv(args, data)
    start = time.perf_counter()
    # progress on stderr, one line per finished (candidate, fold) fit: scikit-learn's
    # "[CV f/F] END params; scores" when fits run here, joblib's "Done k out of N" when they
    # run in worker processes (whose own prints would land on stdout)
    import joblib

    in_process = n_jobs == 1 and not getattr(args, "dask_scheduler", None)
    with contextlib.redirect_stdout(sys.stderr), joblib.parallel_config(
            verbose=0 if args.quiet or in_process else 11):
        search = grid_search(base, data, grids, cv=cv, n_jobs=n_jobs, scoring=list(METRICS),
                             refit=METRICS[0],
                             verbose=3 if in_process and not args.quiet else 0)
    search_seconds = time.perf_counter() - start
    table = cv_results_table(search)
    n_candidates, n_folds = len(table), int(search.n_splits_)
    best_index = int(search.best_index_)
    best_params = search.best_params_
    summary = {
        "best_params": best_params,
        "best_score": float(search.best_score_),
        "best_score_std": float(table["std_test_score"][best_index]),
        "scoring": METRICS[0],
        "cv": cv,
        "n_candidates": n_candidates,
        "n_folds": n_folds,
        "pipeline": args.pipeline,
        "settings": settings,
        "sources": describe_sources(args),
        "seconds": round(search_seconds, 1),
        "sleepstage_version": __version__,
    }
    write_table(table, paths["cv_results.csv"], force=args.force)
    write_json(paths["best_params.json"], summary, force=args.force)
    save_model(search.best_estimator_, paths["best_model.joblib"], data=data,
               force=args.force, metadata={
                   "pipeline_name": args.pipeline,
                   "settings": {**settings, **best_params},
                   "sources": describe_sources(args),
                   **describe_training(data),  # for the checks of predict and importances
                   "grid_search": {k: summary[k] for k in ("best_score", "best_score_std", "cv",
                                                            "n_candidates", "scoring")},
               })

    ranked = table.sort_values(["rank_test_score", "mean_test_score"],
                               ascending=[True, False]).head(20)
    shown = ranked[["rank_test_score", "mean_test_score", "std_test_score",
                    "mean_test_kappa", "mean_fit_time"]].rename(columns={
        "rank_test_score": "rank", "mean_test_score": "balanced_acc",
        "std_test_score": "std", "mean_test_kappa": "kappa", "mean_fit_time": "fit_s"})
    shown["params"] = [json.dumps(short_params(search.cv_results_["params"][i]), default=str)
                       for i in ranked.index]
    print(f"{n_candidates} candidate(s) x {n_folds} folds ({cv}) = {n_candidates * n_folds} "
          f"fits on {data.n_epochs} epochs in {search_seconds:.1f} s")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"Best: {json.dumps(best_params, default=str)} (balanced accuracy "
          f"{summary['best_score']:.3f} +/- {summary['best_score_std']:.3f})")
    print(f"Results written to {out_dir}")
    return 0
