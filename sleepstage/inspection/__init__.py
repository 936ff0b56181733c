"""Why the stager decides as it does: feature importances by feature, channel and family.

Named after :mod:`sklearn.inspection` (a module named ``inspect`` would shadow the standard
library's).
"""

from ._importances import (
    FAMILIES,
    aggregate_importances,
    feature_families,
    feature_importances,
    importance_table,
)

__all__ = [
    "FAMILIES",
    "aggregate_importances",
    "feature_families",
    "feature_importances",
    "importance_table",
]
