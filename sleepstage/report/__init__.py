"""Reports on a staging run: figures (hypnograms, confusion matrices, importances, spectra)
and sleep architecture (per time bin, per recording and phase, per group, and its figures).

Every figure function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``
state, never ``show``), returns it and, when ``path`` is given, also saves it atomically
(:func:`sleepstage.io.save_figure`). matplotlib is imported when a figure is first drawn.
"""

from ._architecture import EpochTable, architecture, bin_table, epoch_table, parse_lights_on
from ._architecture_figures import architecture_figure, group_figure
from ._plots import STAGE_COLORS, confusion, hypnogram, importances, stage_spectra
from ._stage_power import stage_power_spectra
from ._summary import architecture_summary, group_table, summarize

__all__ = [
    "STAGE_COLORS",
    "EpochTable",
    "architecture",
    "architecture_figure",
    "architecture_summary",
    "bin_table",
    "confusion",
    "epoch_table",
    "group_figure",
    "group_table",
    "hypnogram",
    "importances",
    "parse_lights_on",
    "stage_power_spectra",
    "stage_spectra",
    "summarize",
]
