"""``sleepstage demo``: the README's main job."""

from __future__ import annotations

from ._args import add_subcommand
from ._outputs import check_outputs


def add_parser(subparsers, parents) -> None:
    parser = add_subcommand(
        subparsers, "demo", parents,
        help="train and evaluate the default stager on synthetic mice and Sleep-EDF",
        description="The main job of the README: leave-one-animal-out evaluation of the "
                    "default pipeline on SYNTHETIC mice, then 5-block evaluation on the "
                    "Sleep-EDF night SC4001 when it is found in --data-dir.",
        examples=(
            "sleepstage demo",
            "sleepstage demo --synthetic 3 --hours 6 --data-dir ../shared/data -o demo.csv",
        ),
    )
    parser.add_argument("--synthetic", type=int, default=3, metavar="N",
                        help="synthetic animals (default: 3)")
    parser.add_argument("--hours", type=float, default=24.0, metavar="H",
                        help="hours per synthetic animal (default: 24)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder holding physionet-sleep-data/ "
                             "(default: $SLEEPSTAGE_DATA_DIR, else MNE's data folder)")
    parser.add_argument("-o", "--out", metavar="FILE",
                        help="also write the summary table as CSV")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..demo import run_demo
    from ..io import write_table

    if args.out:
        check_outputs(args, [args.out])
    table = run_demo(n_recordings=args.synthetic, hours=args.hours, data_dir=args.data_dir,
                     random_state=args.seed, echo=print)
    if args.out:
        write_table(table, args.out, force=args.force)
        print(f"Summary written to {args.out}")
    return 0
