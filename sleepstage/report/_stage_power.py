"""Stage spectra of one recording: mean power spectrum per stage and phase, relative power."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._internal.validation import check_positive
from ._architecture import UNSCORED
from ._plots import _welch_psd

__all__ = ["stage_power_spectra"]


def stage_power_spectra(
    X: np.ndarray,
    stages: Sequence[Any],
    sfreq: float,
    *,
    ch_names: Sequence[str] | None = None,
    phase: Sequence[Any] | None = None,
    nperseg: int | None = None,
    fmax: float | None = None,
) -> pd.DataFrame:
    """Mean power spectrum of each stage (and phase), relative to the recording's power.

    The PSD of every epoch and channel is estimated with :func:`scipy.signal.welch` (Hann
    windows of ``nperseg`` samples, 50 % overlap). For each channel, ``relative_power`` at
    frequency f is the mean PSD at f over the epochs of a stage divided by the recording's
    total power (the sum over frequencies of PSD x frequency step, averaged over all scored
    epochs), so it is in 1/Hz and its sum x frequency step over the spectrum of a stage is
    that stage's power relative to the recording's mean: spectra of recordings with
    different amplitudes (electrodes, amplifiers) become comparable.

    Parameters
    ----------
    X : array of shape (n_epochs, n_channels, n_samples)
        Raw epochs of one recording.
    stages : array-like of shape (n_epochs,)
        Stage of each epoch; ``"UNSCORED"`` epochs are left out.
    sfreq : float
        Sampling frequency (Hz).
    ch_names : sequence of str, optional
        Channel names; ``ch0``, ``ch1``, ... by default.
    phase : array-like of shape (n_epochs,), optional
        Phase of each epoch (``light``/``dark``); adds per-phase rows beside ``all``.
    nperseg : int, optional
        Welch segment length; ``min(n_samples, 2 * sfreq)`` by default.
    fmax : float, optional
        Highest frequency kept (Hz); Nyquist by default.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``channel``, ``phase`` (``all``, then each phase),
        ``stage``, ``n_epochs``, ``frequency`` (Hz) and ``relative_power`` (1/Hz).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 1, 256))
    >>> table = stage_power_spectra(X, ["WAKE"] * 10 + ["NREM"] * 10, 128.0)
    >>> sorted(set(table["stage"])), float(table["frequency"].max())
    (['NREM', 'WAKE'], 64.0)
    """
    sfreq = check_positive("sfreq", sfreq)
    X = np.asarray(X, dtype=float)
    stages = np.asarray(stages, dtype=object)
    if X.ndim != 3 or X.shape[0] != stages.size:
        raise ValueError(f"X must have shape (n_epochs, n_channels, n_samples) with one epoch "
                         f"per stage ({stages.size}), got {X.shape}.")
    names = list(ch_names) if ch_names is not None else [f"ch{i}" for i in range(X.shape[1])]
    if len(names) != X.shape[1]:
        raise ValueError(f"{len(names)} channel names for {X.shape[1]} channels.")
    scored = stages != UNSCORED
    if not scored.any():
        raise ValueError("No scored epoch: stage spectra need at least one.")
    freqs, psd, keep = _welch_psd(X, sfreq, nperseg, fmax)
    step = freqs[1] - freqs[0]
    total = psd[scored].sum(axis=-1).mean(axis=0) * step  # (n_channels,)
    total = np.where(total > 0, total, np.nan)
    groups = {"all": scored}
    if phase is not None:
        phase = np.asarray(phase, dtype=object)
        for name in pd.unique(phase[scored]):
            groups[str(name)] = scored & (phase == name)
    rows = []
    for phase_name, mask in groups.items():
        for stage in pd.unique(stages[mask]):
            mine = mask & (stages == stage)
            mean = psd[mine].mean(axis=0) / total[:, None]
            for k, channel in enumerate(names):
                rows.append(pd.DataFrame({
                    "channel": channel, "phase": phase_name, "stage": stage,
                    "n_epochs": int(mine.sum()), "frequency": freqs[keep],
                    "relative_power": mean[k, keep]}))
    return pd.concat(rows, ignore_index=True)
