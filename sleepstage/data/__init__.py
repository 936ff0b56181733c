"""Loading recordings: the ``EpochData`` container, stage names, loaders and synthetic data."""

from ._edf import read_edf
from ._epochs import CH_TYPES, EpochData, channel_type
from ._feature_table import FEATURE_TABLE_KEYS, FeatureTable, read_feature_table
from ._paths import DATA_DIR_ENV, get_data_dir, mne_data_dir
from ._resample import resample_epochs
from ._sleep_edf import load_sleep_edf
from ._stages import (
    RK_TO_3CLASS,
    RK_TO_5CLASS,
    STAGE_SPELLINGS,
    STAGES_3,
    STAGES_5,
    TASK4_CODES,
    UNSCORED,
    map_labels,
)
from ._stream import iter_edf
from ._synthetic import make_synthetic
from ._task4 import load_task4_csv, write_task4_csv

__all__ = [
    "CH_TYPES",
    "DATA_DIR_ENV",
    "FEATURE_TABLE_KEYS",
    "RK_TO_3CLASS",
    "RK_TO_5CLASS",
    "STAGES_3",
    "STAGES_5",
    "STAGE_SPELLINGS",
    "TASK4_CODES",
    "UNSCORED",
    "EpochData",
    "FeatureTable",
    "channel_type",
    "get_data_dir",
    "iter_edf",
    "load_sleep_edf",
    "load_task4_csv",
    "make_synthetic",
    "map_labels",
    "mne_data_dir",
    "read_edf",
    "read_feature_table",
    "resample_epochs",
    "write_task4_csv",
]
