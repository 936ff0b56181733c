"""Deprecated alias of :mod:`sleepstage.report`, where the figures now live.

``import sleepstage.plot`` warns once (``FutureWarning``) and re-exports the public names;
import them from :mod:`sleepstage.report` instead. This module will be removed in the next
release.
"""

import warnings

from .report import STAGE_COLORS, confusion, hypnogram, importances, stage_spectra

__all__ = ["STAGE_COLORS", "confusion", "hypnogram", "importances", "stage_spectra"]

warnings.warn(
    "sleepstage.plot moved to sleepstage.report; import hypnogram, confusion, importances, "
    "stage_spectra and STAGE_COLORS from sleepstage.report. The alias sleepstage.plot will "
    "be removed in the next release.",
    FutureWarning,
    stacklevel=2,
)
