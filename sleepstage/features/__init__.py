"""Feature extraction: scikit-learn transformers over raw epochs, with readable names."""

from ._artefacts import (
    ARTEFACT_CONFIDENCE_FACTOR,
    ARTEFACT_REASONS,
    ArtefactDetector,
    detect_artefacts,
    flag_confidence,
)
from ._base import DEFAULT_CH_NAMES, DEFAULT_CH_TYPES, DEFAULT_SFREQ, EpochTransformer
from ._context import TemporalContext
from ._emg import EMGFeatures
from ._epoch import EpochFeatures
from ._hjorth import HjorthFeatures
from ._scaler import RecordingScaler
from ._spectral import DEFAULT_BANDS, SpectralFeatures
from ._timestats import TimeFeatures

__all__ = [
    "ARTEFACT_CONFIDENCE_FACTOR",
    "ARTEFACT_REASONS",
    "DEFAULT_BANDS",
    "DEFAULT_CH_NAMES",
    "DEFAULT_CH_TYPES",
    "DEFAULT_SFREQ",
    "ArtefactDetector",
    "EMGFeatures",
    "EpochFeatures",
    "EpochTransformer",
    "HjorthFeatures",
    "RecordingScaler",
    "SpectralFeatures",
    "TemporalContext",
    "TimeFeatures",
    "detect_artefacts",
    "flag_confidence",
]
