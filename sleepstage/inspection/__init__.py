"""Why the stager decides as it does: feature importances by feature, channel and family.

Named after :mod:`sklearn.inspection` (a module named ``inspect`` would shadow the standard
library's). Features are attributed to families through the registry of feature families
(:data:`sleepstage.features.FAMILIES`, :func:`sleepstage.features.column_family_of`).
"""

import warnings

from ._importances import (
    CONTEXT_FAMILY,
    OWN_EPOCH,
    _deprecated_families,
    aggregate_importances,
    feature_families,
    feature_importances,
    importance_table,
)

__all__ = [
    "CONTEXT_FAMILY",
    "OWN_EPOCH",
    "aggregate_importances",
    "feature_families",
    "feature_importances",
    "importance_table",
]


def __getattr__(name: str):
    if name == "FAMILIES":  # deprecated: a second list of families beside the registry's
        warnings.warn(
            "sleepstage.inspection.FAMILIES is deprecated and will be removed in the next "
            "release: the families are those of the feature registry, "
            "sleepstage.features.column_families(), plus CONTEXT_FAMILY ('context') for "
            "temporal-context columns.",
            FutureWarning,
            stacklevel=2,
        )
        return _deprecated_families()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
