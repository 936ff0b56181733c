"""Reports on a staging run: figures (hypnograms, confusion matrices, importances, spectra).

Every figure function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``
state, never ``show``), returns it and, when ``path`` is given, also saves it atomically
(:func:`sleepstage.io.save_figure`). matplotlib is imported when a figure is first drawn.
"""

from ._plots import STAGE_COLORS, confusion, hypnogram, importances, stage_spectra

__all__ = ["STAGE_COLORS", "confusion", "hypnogram", "importances", "stage_spectra"]
