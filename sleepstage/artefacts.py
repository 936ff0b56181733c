"""Deprecated alias of the artefact detection now in :mod:`sleepstage.features`.

``import sleepstage.artefacts`` warns once (``FutureWarning``) and re-exports the public
names; import them from :mod:`sleepstage.features` instead. This module will be removed in
the next release.
"""

import warnings

from .features import (
    ARTEFACT_CONFIDENCE_FACTOR,
    ARTEFACT_REASONS,
    ArtefactDetector,
    detect_artefacts,
    flag_confidence,
)

__all__ = [
    "ARTEFACT_CONFIDENCE_FACTOR",
    "ARTEFACT_REASONS",
    "ArtefactDetector",
    "detect_artefacts",
    "flag_confidence",
]

warnings.warn(
    "sleepstage.artefacts moved to sleepstage.features; import ArtefactDetector, "
    "detect_artefacts, flag_confidence, ARTEFACT_REASONS and ARTEFACT_CONFIDENCE_FACTOR "
    "from sleepstage.features. The alias sleepstage.artefacts will be removed in the next "
    "release.",
    FutureWarning,
    stacklevel=2,
)
