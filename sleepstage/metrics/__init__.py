"""Scores for sleep staging: agreement (balanced accuracy, kappa, per-class F1), sleep
architecture (time in each stage, bouts, transitions per hour), calibration of the
confidence (expected calibration error, where the errors fall), and a scorer for
scikit-learn's model selection that decodes each held-out recording on its own."""

from ._architecture import (
    count_transitions,
    merge_short_bouts,
    sleep_architecture,
    stage_bouts,
    transitions_per_hour,
)
from ._calibration import ECE_BINS, errors_in_least_confident, expected_calibration_error
from ._review import STRETCH_MINUTES, review_epochs, stretch_width
from ._scorer import SCORING, StagingScorer
from ._scores import staging_scores

__all__ = [
    "ECE_BINS",
    "SCORING",
    "STRETCH_MINUTES",
    "StagingScorer",
    "count_transitions",
    "errors_in_least_confident",
    "expected_calibration_error",
    "merge_short_bouts",
    "review_epochs",
    "sleep_architecture",
    "stage_bouts",
    "staging_scores",
    "stretch_width",
    "transitions_per_hour",
]
