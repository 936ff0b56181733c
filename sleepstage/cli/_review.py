"""``predict --review N`` / ``--review-minutes M``: the epochs a person should check."""

from __future__ import annotations

from pathlib import Path

from ._data_args import positive_float

#: File name suffix of the review list (``<id>_review.csv``).
REVIEW_SUFFIX = "_review.csv"
#: Columns of the review list.
REVIEW_COLUMNS = ("epoch", "onset", "stage", "confidence")


def _count(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of epochs, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of epochs >= 1, got {value}")
    return value


def add_review_arguments(parser) -> None:
    """``--review N`` and ``--review-minutes M`` (one or the other)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--review", type=_count, metavar="N",
                       help="also write <id>_review.csv: the N least confident epochs of each "
                            "recording (columns epoch, onset, stage, confidence; lowest "
                            "confidence first), marked on the --plot hypnogram; give it, with "
                            "the stages corrected, to 'sleepstage adapt --labels'")
    group.add_argument("--review-minutes", type=positive_float, metavar="M",
                       help="like --review, but whole 1-min stretches of lowest mean "
                            "confidence, M minutes in all per recording (extra column "
                            "stretch: 1 for the least confident stretch; when the recording "
                            "holds fewer, the shorter runs left between them follow)")


def add_review_outputs(outputs: dict, args) -> dict:
    """Append ``<id>_review.csv`` to each recording's outputs when a review is asked for."""
    if review_settings(args) is None:
        return outputs
    return {rec: [*paths, _review_path(paths[0])] for rec, paths in outputs.items()}


def _review_path(hypnogram_csv: Path) -> Path:
    stem = hypnogram_csv.name.removesuffix("_hypnogram.csv")
    return hypnogram_csv.with_name(stem + REVIEW_SUFFIX)


def review_settings(args) -> dict | None:
    """``{"n": N}`` or ``{"minutes": M}`` from the command line, or None."""
    if getattr(args, "review", None) is not None:
        return {"n": args.review}
    if getattr(args, "review_minutes", None) is not None:
        return {"minutes": args.review_minutes}
    return None


def review_table(table, epoch_length: float, settings: dict):
    """The review list of one recording from its hypnogram table (see ``hypnogram_table``).

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch``, ``onset``, ``stage``, ``confidence`` (and ``stretch`` with
        minutes), one row per epoch to review, lowest confidence (or stretch) first.
    """
    from ..metrics import review_epochs, stretch_width

    confidence = table["confidence"].to_numpy(dtype=float)
    rows = review_epochs(confidence, settings.get("n"), minutes=settings.get("minutes"),
                         epoch_length=epoch_length)
    out = table.iloc[rows][list(REVIEW_COLUMNS)].reset_index(drop=True)
    if "minutes" in settings and len(rows):
        out["stretch"] = _stretch_numbers(rows, min(stretch_width(epoch_length), len(table)))
    return out


def _stretch_numbers(rows, size: int):
    """Number (from 1) of the stretch of each row ``review_epochs(minutes=...)`` listed.

    The whole stretches (``size`` rows each) come first, then the shorter runs left between
    them, each contiguous and apart from the others: a stretch ends after ``size`` rows or
    where the rows stop being consecutive.
    """
    import numpy as np

    numbers = np.empty(len(rows), dtype=np.int64)
    number, count = 0, size
    for i, row in enumerate(rows):
        if count == size or row != rows[i - 1] + 1:
            number, count = number + 1, 0
        count += 1
        numbers[i] = number
    return numbers
