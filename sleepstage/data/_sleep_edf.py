"""Sleep-EDF Expanded (PhysioNet, sleep cassette study) through MNE's fetcher."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .._internal.validation import check_option
from ._edf import read_edf
from ._epochs import EpochData
from ._paths import DATA_DIR_ENV, get_data_dir
from ._stages import RK_TO_3CLASS, RK_TO_5CLASS

__all__ = ["SLEEP_EDF_CHANNELS", "load_sleep_edf"]

logger = logging.getLogger(__name__)

#: Channels read by default: the two EEG derivations and the submental EMG envelope.
SLEEP_EDF_CHANNELS: dict[str, str] = {
    "EEG Fpz-Cz": "eeg",
    "EEG Pz-Oz": "eeg",
    "EMG submental": "emg",
}
_MAPPINGS = {3: RK_TO_3CLASS, 5: RK_TO_5CLASS}
#: Folder name MNE uses under the data path.
_SUBFOLDER = "physionet-sleep-data"


def _int_list(name: str, values: int | Iterable[int]) -> list[int]:
    values = [values] if isinstance(values, int | np.integer) else list(values)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must hold integers, got {value!r}.")
    if not values:
        raise ValueError(f"{name} is empty: name at least one.")
    return [int(value) for value in values]


def _resolve_path(path: str | os.PathLike | None) -> Path:
    """The folder holding (or to receive) ``physionet-sleep-data/``."""
    return get_data_dir() if path is None else Path(path).expanduser()


def _where(root: Path, given: bool) -> str:
    """How ``root`` was chosen, and how to choose another, for error messages."""
    how = "the path given" if given else (
        f"${DATA_DIR_ENV}" if os.environ.get(DATA_DIR_ENV) else "MNE's data folder"
    )
    return (
        f"{root / _SUBFOLDER} ({how}). Point to the folder holding {_SUBFOLDER}/ with "
        f"path= (--data-dir on the command line) or the {DATA_DIR_ENV} environment variable"
    )


def load_sleep_edf(
    subjects: Sequence[int] = (0,),
    recordings: Sequence[int] = (1,),
    *,
    path: str | os.PathLike | None = None,
    channels: Mapping[str, str] | Sequence[str] | None = None,
    epoch_length: float = 30.0,
    n_classes: int = 3,
    keep_wake_minutes: float | None = 30,
    resample: float | None = None,
    on_missing: str = "warn",
) -> EpochData:
    """Load Sleep-EDF Expanded sleep-cassette nights as scored 30-s epochs.

    Files are located (and, where missing, downloaded from PhysioNet) by
    :func:`mne.datasets.sleep_physionet.age.fetch_data`, then read with :func:`read_edf`.

    Parameters
    ----------
    subjects : sequence of int
        Subject numbers, 0-82 (39, 68, 69, 78 and 79 do not exist).
    recordings : sequence of int
        Night numbers, 1 and/or 2.
    path : path-like, optional
        Folder holding (or to receive) ``physionet-sleep-data/``. None uses
        :func:`get_data_dir`: ``$SLEEPSTAGE_DATA_DIR`` when set, else MNE's own location
        (``PHYSIONET_SLEEP_PATH``, ``MNE_DATA`` or ``~/mne_data``). Files already present
        are used without any download.
    channels : dict or list of str, optional
        As in :func:`read_edf`; None means ``EEG Fpz-Cz`` and ``EEG Pz-Oz`` (eeg) and
        ``EMG submental`` (emg). The EMG channel is a 1 Hz amplitude envelope in the files;
        MNE upsamples it to 100 Hz on reading.
    epoch_length : float
        Epoch length in seconds (the scoring uses 30 s).
    n_classes : {3, 5}
        ``WAKE/NREM/REM`` (:data:`RK_TO_3CLASS`) or ``WAKE/N1/N2/N3/REM``
        (:data:`RK_TO_5CLASS`, R&K stages 3 and 4 merged into N3).
    keep_wake_minutes : float or None
        Keep the sleep period plus this many minutes of wake on either side (see
        :func:`read_edf`); None keeps the whole day-long recording, mostly wake.
    resample : float, optional
        Target sampling frequency in Hz.
    on_missing : {"warn", "raise", "ignore"}
        What MNE does for requested nights that do not exist (e.g. night 2 of subject 13).

    Returns
    -------
    EpochData
        Unscored epochs dropped; ``groups`` holds one id per night, ``"SC4<subject><night>"``
        (e.g. ``"SC4001"``).

    Raises
    ------
    ValueError
        Bad parameters, no matching night, files that are missing and cannot be downloaded
        (naming the folder searched and how to point to another), or any error of
        :func:`read_edf`.

    Examples
    --------
    >>> import numpy as np
    >>> data = load_sleep_edf()  # doctest: +SKIP
    >>> data.X.shape, dict(zip(*np.unique(data.y, return_counts=True)))  # doctest: +SKIP
    ((840, 3, 3000), {'NREM': 528, 'REM': 125, 'WAKE': 187})
    """
    from mne.datasets.sleep_physionet.age import fetch_data

    subjects = _int_list("subjects", subjects)
    recordings = _int_list("recordings", recordings)
    n_classes = check_option("n_classes", n_classes, tuple(_MAPPINGS))
    check_option("on_missing", on_missing, ("warn", "raise", "ignore"))
    root = _resolve_path(path)
    logger.info("Looking for Sleep-EDF files in %s (missing ones are downloaded).",
                root / _SUBFOLDER)
    try:
        pairs = fetch_data(
            subjects=subjects, recording=recordings, path=str(root), on_missing=on_missing
        )
    except ValueError:
        raise
    except Exception as exc:  # network or file-system errors of the download
        raise ValueError(
            f"Sleep-EDF files for subjects {subjects}, recordings {recordings} are not in "
            f"{_where(root, path is not None)}. They could not be downloaded: {exc}"
        ) from exc
    if not pairs:
        raise ValueError(
            f"No Sleep-EDF recording found for subjects {subjects} and recordings {recordings}."
        )
    parts = []
    for psg, hypnogram in pairs:
        parts.append(
            read_edf(
                psg,
                hypnogram,
                channels=SLEEP_EDF_CHANNELS if channels is None else channels,
                epoch_length=epoch_length,
                resample=resample,
                label_mapping=_MAPPINGS[n_classes],
                keep_wake_minutes=keep_wake_minutes,
                recording_id=Path(psg).name[:6],
            )
        )
    data = parts[0] if len(parts) == 1 else EpochData.concatenate(parts)
    data.info.update(
        {
            "source": "sleep-edf",
            "subjects": subjects,
            "recordings": recordings,
            "n_classes": n_classes,
            "recording_ids": [part.info["recording_id"] for part in parts],
        }
    )
    return data
