"""Set-up shared by the benchmark scripts that fit or score the default pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def wait_passively() -> str:
    """Let OpenMP threads wait passively unless the caller chose; return the policy in force.

    LightGBM's OpenMP threads spin while they wait for each other: on a machine shared with
    other jobs this makes them several times slower (docs/scaling.md). Setting
    ``OMP_WAIT_POLICY=ACTIVE`` before running a script measures the spinning default.
    """
    return os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def save_training_set(folder: str | os.PathLike, hours: float):
    """Make the synthetic training animals and save them for the measuring processes.

    Three recordings of ``hours`` h (``make_synthetic``, ``random_state=0``)
    are written to ``folder`` as ``X.npy`` (flat float32 epochs), ``y.npy`` and
    ``groups.npy`` (object arrays of stages and recording ids).

    Returns
    -------
    EpochData
        The data that was saved.
    """
    from sleepstage.data import make_synthetic

    data = make_synthetic(n_recordings=3, hours=hours, random_state=0)
    np.save(Path(folder) / "X.npy", data.flat())
    np.save(Path(folder) / "y.npy", np.asarray(data.y, dtype=object))
    np.save(Path(folder) / "groups.npy", np.asarray(data.groups, dtype=object))
    return data


#: Temporal context of the design before the 20-s window and the lags.
OLD_CONTEXT = {"windows": (60.0,), "past_windows": (60.0,), "unit": "seconds"}


def build_pipeline(settings: dict, **layout):
    """``make_staging_pipeline(**layout, **settings)`` for an ablation row.

    ``plain_hmm=True`` among the settings decodes with the HMM of the design before learned
    transition weights and calibration (weight 1, posteriors as they are).
    """
    from sleepstage.pipelines import make_staging_pipeline

    settings = dict(settings)
    plain_hmm = settings.pop("plain_hmm", False)
    pipeline = make_staging_pipeline(**layout, **settings)
    if plain_hmm:
        pipeline.set_params(classifier__transition_weight=1.0, classifier__calibration=None)
    return pipeline
