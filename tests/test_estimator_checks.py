"""scikit-learn's estimator checks over every public estimator (settings and expected failures
in ``tests/_estimator_registry.py``)."""

from __future__ import annotations

from _estimator_registry import (
    EXPECTED_FAILED_CHECKS,
    HAS_TORCH,
    estimators,
    expected_failed_checks,
)
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks

import sleepstage.features
import sleepstage.models

ESTIMATORS = estimators()


# strict: a listed check that starts passing fails the suite, so the list stays honest
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks,
                         xfail_strict=True)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_registry_covers_every_public_estimator():
    public = {name for name in sleepstage.features.__all__
              if isinstance(getattr(sleepstage.features, name), type)
              and hasattr(getattr(sleepstage.features, name), "fit")}
    public.discard("EpochTransformer")  # the abstract base class
    public |= {"HMMSmoother", "ArtefactDetector"}
    if HAS_TORCH:
        public |= {name for name in sleepstage.models.__all__ if name != "HMMSmoother"}
    registered = {type(est).__name__ for est in ESTIMATORS}
    assert public <= registered


def test_every_expected_failure_has_a_reason():
    for name, checks in EXPECTED_FAILED_CHECKS.items():
        assert checks, name
        for check, reason in checks.items():
            assert check.startswith("check_") and len(reason) > 40, (name, check)


def test_expected_failures_name_real_checks():
    for estimator in ESTIMATORS:
        names = {getattr(check, "func", check).__name__
                 for _, check in estimator_checks_generator(estimator)}
        unknown = set(expected_failed_checks(estimator)) - names
        assert not unknown, (type(estimator).__name__, unknown)
