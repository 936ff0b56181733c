"""Ready-made pipelines and honest, recording-wise evaluation."""

from ._adapt import MIN_STAGE_LABELS, AdaptedStager, adapt
from ._evaluate import CVReport, cross_validate_recordings
from ._factory import (
    DEFAULT_CONTEXT,
    LGBM_PRESETS,
    MODELS,
    make_classifier,
    make_pipeline,
    make_staging_pipeline,
    scaler_min_epochs,
)
from ._fitting import fit_kept_epochs, fit_with_groups, predict_with_groups, training_epochs
from ._splits import BlockSplit, RecordingSplit, block_groups, recording_folds, resolve_cv
from ._staging_pipeline import StagingPipeline
from ._streaming import predict_rows, split_per_epoch

__all__ = [
    "DEFAULT_CONTEXT",
    "LGBM_PRESETS",
    "MIN_STAGE_LABELS",
    "MODELS",
    "AdaptedStager",
    "BlockSplit",
    "CVReport",
    "RecordingSplit",
    "StagingPipeline",
    "adapt",
    "block_groups",
    "cross_validate_recordings",
    "fit_kept_epochs",
    "fit_with_groups",
    "make_classifier",
    "make_pipeline",
    "make_staging_pipeline",
    "predict_rows",
    "predict_with_groups",
    "recording_folds",
    "resolve_cv",
    "scaler_min_epochs",
    "split_per_epoch",
    "training_epochs",
]
