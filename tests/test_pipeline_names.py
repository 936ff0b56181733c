"""The pipeline factory's name: make_staging_pipeline, with make_pipeline deprecated."""

import pytest

import sleepstage
from sleepstage.pipelines import make_pipeline, make_staging_pipeline


@pytest.mark.parametrize("alias", [make_pipeline, sleepstage.make_pipeline])
def test_make_pipeline_is_a_deprecated_alias(alias):
    with pytest.warns(FutureWarning, match="make_staging_pipeline"):
        old = alias(epoch_length=4.0)
    new = make_staging_pipeline(epoch_length=4.0)
    assert [name for name, _ in old.steps] == [name for name, _ in new.steps]
    assert str(old.get_params()) == str(new.get_params())
