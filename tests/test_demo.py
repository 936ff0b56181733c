"""The README's main job, on a small synthetic set."""

import pytest

from sleepstage.demo import run_demo


@pytest.mark.slow  # cross-validates the default pipeline on both data sets: 1.5 min
def test_demo_prints_one_table_with_both_data_sets(data_dir):
    lines: list[str] = []
    table = run_demo(n_recordings=2, hours=1, data_dir=data_dir, echo=lines.append)
    assert list(table["data set"]) == ["synthetic 2 x 1 h", "Sleep-EDF SC4001"]
    assert {"balanced acc", "kappa", "F1 REM"} <= set(table.columns)
    assert (table["balanced acc"] > 0.6).all()
    assert any("Summary" in line for line in lines)


def test_demo_without_sleep_edf_says_where_to_put_it(tmp_path):
    lines: list[str] = []
    table = run_demo(n_recordings=2, hours=0.5, data_dir=tmp_path, echo=lines.append)
    assert len(table) == 1
    assert any("SLEEPSTAGE_DATA_DIR" in line for line in lines)
