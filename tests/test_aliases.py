"""Module paths that moved stay one release as aliases that warn (FutureWarning)."""

from __future__ import annotations

import importlib
import sys

import pytest

#: The public names each old module had: the alias keeps exactly these (names added to the
#: new module since, such as the architecture report's, are not re-exported).
OLD_NAMES = {
    "sleepstage.plot": ["STAGE_COLORS", "confusion", "hypnogram", "importances",
                        "stage_spectra"],
    "sleepstage.inspect": ["CONTEXT_FAMILY", "aggregate_importances", "feature_families",
                           "feature_importances", "importance_table"],
}


@pytest.mark.parametrize(("old", "new"), [
    ("sleepstage.plot", "sleepstage.report"),
    ("sleepstage.inspect", "sleepstage.inspection"),
])
def test_old_module_path_warns_and_reexports(old, new):
    current = importlib.import_module(new)
    sys.modules.pop(old, None)
    with pytest.warns(FutureWarning, match=rf"{old} moved to {new}.*removed in the next "
                                           "release"):
        alias = importlib.import_module(old)
    assert alias.__all__ == OLD_NAMES[old]
    assert set(alias.__all__) <= set(current.__all__)
    for name in alias.__all__:
        assert getattr(alias, name) is getattr(current, name)


def test_deprecated_families_through_the_alias():
    import sleepstage.inspection as inspection

    sys.modules.pop("sleepstage.inspect", None)
    with pytest.warns(FutureWarning, match="moved to sleepstage.inspection"):
        alias = importlib.import_module("sleepstage.inspect")
    with pytest.warns(FutureWarning, match="FAMILIES is deprecated"):
        assert alias.FAMILIES == inspection._deprecated_families()
