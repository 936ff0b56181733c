"""``sleepstage importances``: which features, channels and families the model relies on."""

from __future__ import annotations

from pathlib import Path

from ._args import DataError, UsageError, add_subcommand
from ._data_args import describe_sources, has_source
from ._loading import load_data
from ._outputs import check_outputs
from ._predict import add_trust_argument

_KINDS = ("gain", "split", "permutation")


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "importances", parents,
        help="feature importances by feature, channel and family",
        description="LightGBM gain and split importances of a model file and, given scored "
                    "held-out data, permutation importance (drop in balanced accuracy when "
                    "a feature is shuffled within each recording). Tables by feature and "
                    "summed by channel, by feature family (band power, EMG, Hjorth, time "
                    "statistics, spectral shape; a temporal-context feature counts in the "
                    "family of its base feature) and by context window (the epoch itself, "
                    "each window and lag) are printed and written as CSV, with a bar chart "
                    "PNG.",
        examples=(
            "sleepstage importances mice.joblib -o importances/",
            "sleepstage importances mice.joblib --synthetic 1 --seed 7 --hours 6 \\",
            "    --kind gain,permutation --n-repeats 3",
        ),
    )
    parser.add_argument("model", help="model file written by 'sleepstage fit'")
    parser.add_argument("--kind", metavar="KINDS",
                        help="comma-separated gain, split, permutation (default: gain,split "
                             "and permutation when data are given)")
    parser.add_argument("--n-repeats", type=int, default=5, metavar="N",
                        help="shuffles per feature for permutation importance (default: 5)")
    parser.add_argument("--top", type=int, default=20, metavar="N",
                        help="features shown in the table and chart (default: 20)")
    parser.add_argument("-o", "--out-dir", default="importances", metavar="DIR",
                        help="output folder (default: importances)")
    add_trust_argument(parser)
    parser.set_defaults(run=run)


def _kinds(args) -> list[str] | None:
    if not args.kind:
        return None
    kinds = [k.strip() for k in args.kind.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in _KINDS]
    if unknown or not kinds:
        raise UsageError(f"--kind accepts {', '.join(_KINDS)}; got {args.kind!r}.")
    if "permutation" in kinds and not has_source(args):
        raise UsageError("--kind permutation needs scored held-out data (e.g. --synthetic 1 "
                         "--seed 7, --edf PSG --hypnogram HYP).")
    return kinds


def _table_names(table, model):
    """``table`` with the features of a feature-table model under the table's column names.

    The pipeline was fitted on a matrix, so it names its inputs ``x0, x1, ...`` (LightGBM
    alone: ``Column_0, ...``); the model file records the columns they were. Channels and
    families are attributed again from the real names.
    """
    from .._internal.anatomy import split_pipeline
    from ..inspection import feature_families

    names = [str(n) for n in model.input_features]
    pipeline = model.pipeline
    mapping = {f"x{i}": n for i, n in enumerate(names)}
    mapping.update({f"Column_{i}": n for i, n in enumerate(names)})
    if split_pipeline(pipeline)[0]:
        transformers = pipeline[:-1]
        mapping.update(zip(map(str, transformers.get_feature_names_out()),
                           map(str, transformers.get_feature_names_out(names)), strict=True))
    renamed = table.copy()
    renamed["feature"] = [mapping.get(str(f), str(f)) for f in table["feature"]]
    attributed = feature_families(renamed["feature"].tolist())
    for column in attributed.columns:
        renamed[column] = attributed[column].to_numpy()
    renamed.attrs = dict(table.attrs)
    return renamed


def _chart(table, kind: str, top: int, title: str):
    from matplotlib.figure import Figure

    from .. import report

    def single(frame):
        renamed = frame.rename(columns={kind: "importance", f"{kind}_std": "importance_std"})
        renamed.attrs = {"kind": kind}
        return renamed

    fig = Figure(figsize=(18, max(4.0, 0.3 * min(top, len(table)) + 1.5)), layout="constrained")
    axes = fig.subplots(1, 4, width_ratios=(2, 1, 1, 1))
    report.importances(single(table), top=top, ax=axes[0], title="top features")
    report.importances(single(table), by="channel", top=top, ax=axes[1], title="by channel")
    # families with their context included, and the context windows across families
    report.importances(single(table), by="family", top=top, ax=axes[2:])
    fig.suptitle(title)
    return fig


def run(args) -> int:
    from ..inspection import aggregate_importances, importance_table
    from ..io import load_model, save_figure, write_table
    from ._provenance import warn_if_training_data

    kinds = _kinds(args)
    out_dir = Path(args.out_dir)
    paths = {name: out_dir / name for name in (
        "importances.csv", "importances_by_channel.csv", "importances_by_family.csv",
        "importances_by_window.csv", "importances.png")}
    check_outputs(args, paths.values())
    model = load_model(args.model, trust_pickle=args.trust_pickle)
    steps = getattr(model.pipeline, "steps", [])
    if len(steps) < 2 and model.input_features is None:  # a table model may be one step
        raise DataError(f"{args.model} holds a model without a feature step (e.g. a neural "
                        "network reading raw epochs): importances need a feature pipeline "
                        "(lgbm, hgb, logreg).")
    if kinds is not None and "permutation" not in kinds:
        loaded = None  # gain and split importances come from the model alone
    else:
        loaded = load_data(args, need_labels=True, model=model, required=False,
                           purpose="permutation importance")
    data = None if loaded is None else loaded.data
    if data is not None:
        warn_if_training_data(model.metadata, data, purpose="permutation importance")
    try:
        table = importance_table(
            model.pipeline,
            None if data is None else data.X,
            None if data is None else data.y,
            None if data is None else data.groups,
            kinds=kinds, n_repeats=args.n_repeats, random_state=args.seed,
        )
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    if model.input_features is not None:
        table = _table_names(table, model)
    kinds = table.attrs["kinds"]
    by_channel = aggregate_importances(table, by="channel")
    by_family = aggregate_importances(table, by="family")
    by_window = aggregate_importances(table, by="window")
    primary = "permutation" if "permutation" in kinds else kinds[0]

    write_table(table, paths["importances.csv"], force=args.force)
    write_table(by_channel, paths["importances_by_channel.csv"], force=args.force)
    write_table(by_family, paths["importances_by_family.csv"], force=args.force)
    write_table(by_window, paths["importances_by_window.csv"], force=args.force)
    about = f"{Path(args.model).name}: {primary} importance"
    if data is not None:
        about += f" on {'; '.join(describe_sources(args))}"
    save_figure(_chart(table, primary, args.top, about),
                paths["importances.png"], force=args.force)

    def fmt(v):
        return f"{v:.4g}"

    ranked = table.sort_values(primary, ascending=False).head(args.top)
    print(f"Top {len(ranked)} of {len(table)} features by {primary}:")
    print(ranked.to_string(index=False, float_format=fmt))
    if "baseline_score" in table.attrs:
        print(f"(baseline balanced accuracy on the given data: "
              f"{table.attrs['baseline_score']:.3f})")
    print("\nBy channel:")
    print(by_channel.to_string(index=False, float_format=fmt))
    print("\nBy family:")
    print(by_family.to_string(index=False, float_format=fmt))
    print("\nBy context window:")
    print(by_window.to_string(index=False, float_format=fmt))
    print(f"\nResults written to {out_dir}")
    return 0
