"""Deprecated alias of :mod:`sleepstage.inspection`, where feature importances now live.

The name ``inspect`` shadowed the standard library's module; scikit-learn calls this
``inspection``. ``import sleepstage.inspect`` warns once (``FutureWarning``) and re-exports
the public names; import them from :mod:`sleepstage.inspection` instead. This module will be
removed in the next release.
"""

import warnings

from . import inspection as _inspection
from .inspection import (
    CONTEXT_FAMILY,
    aggregate_importances,
    feature_families,
    feature_importances,
    importance_table,
)

__all__ = [
    "CONTEXT_FAMILY",
    "aggregate_importances",
    "feature_families",
    "feature_importances",
    "importance_table",
]


def __getattr__(name: str):
    if name == "FAMILIES":  # deprecated there too: warns
        return _inspection.FAMILIES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


warnings.warn(
    "sleepstage.inspect moved to sleepstage.inspection; import feature_importances, "
    "importance_table, aggregate_importances and feature_families from "
    "sleepstage.inspection. The alias sleepstage.inspect will be removed in the next "
    "release.",
    FutureWarning,
    stacklevel=2,
)
