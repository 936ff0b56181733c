"""Feature extraction: scikit-learn transformers over raw epochs, with readable names.

Every per-epoch feature family is one module registered by name (:func:`register_family`,
:data:`FAMILIES`); :class:`EpochFeatures` computes any of them in one pass over a shared
engine (``_engine``: batches, PSD, scratch memory). Artefact detection
(:class:`ArtefactDetector`), the per-recording scaler and the temporal context are the
other epoch transformers.
"""

from . import _psd  # noqa: F401 - the PSD plan's path in model files written by 0.1.0
from ._artefacts import (
    ARTEFACT_CONFIDENCE_FACTOR,
    ARTEFACT_REASONS,
    ArtefactDetector,
    ArtefactStatistics,
    detect_artefacts,
    flag_confidence,
)
from ._base import DEFAULT_CH_NAMES, DEFAULT_CH_TYPES, DEFAULT_SFREQ, EpochTransformer
from ._context import TemporalContext
from ._emg import EMGFeatures
from ._epoch import FAMILY_NAMES, EpochFeatures
from ._family import FeatureFamily, PSDFeatureFamily
from ._hjorth import HjorthFeatures
from ._registry import (
    FAMILIES,
    FamilySpec,
    column_families,
    column_family_of,
    register_family,
    unregister_family,
)
from ._scaler import FIRST_PASS_PARAMS, RecordingScaler
from ._spectral import DEFAULT_BANDS, SpectralFeatures
from ._timestats import TimeFeatures

__all__ = [
    "ARTEFACT_CONFIDENCE_FACTOR",
    "ARTEFACT_REASONS",
    "DEFAULT_BANDS",
    "DEFAULT_CH_NAMES",
    "DEFAULT_CH_TYPES",
    "DEFAULT_SFREQ",
    "FAMILIES",
    "FAMILY_NAMES",
    "FIRST_PASS_PARAMS",
    "ArtefactDetector",
    "ArtefactStatistics",
    "EMGFeatures",
    "EpochFeatures",
    "EpochTransformer",
    "FamilySpec",
    "FeatureFamily",
    "HjorthFeatures",
    "PSDFeatureFamily",
    "RecordingScaler",
    "SpectralFeatures",
    "TemporalContext",
    "TimeFeatures",
    "column_families",
    "column_family_of",
    "detect_artefacts",
    "flag_confidence",
    "register_family",
    "unregister_family",
]
