"""Resampling epoched data to another sampling rate."""

from __future__ import annotations

import dataclasses
import logging
from fractions import Fraction

import numpy as np

from .._internal.validation import check_positive
from ._epochs import EpochData

__all__ = ["resample_epochs"]

logger = logging.getLogger(__name__)


def resample_epochs(data: EpochData, sfreq: float) -> EpochData:
    """Resample every epoch of ``data`` to ``sfreq`` (polyphase filter, epoch by epoch).

    Each epoch is filtered on its own (:func:`scipy.signal.resample_poly` along the last
    axis), so its edges see zero padding, not the neighbouring epochs; loaders that read
    continuous signals (:func:`~sleepstage.data.read_edf` with ``resample``) resample before
    cutting epochs instead.

    Parameters
    ----------
    data : EpochData
        Epochs to resample.
    sfreq : float
        Target sampling rate in Hz; ``sfreq x data.epoch_length`` must be a whole number of
        samples. The up/down ratio is ``sfreq / data.sfreq`` with a denominator of at most
        1000.

    Returns
    -------
    EpochData
        ``data`` itself when it already has this rate, else a copy with float32 epochs of
        ``round(sfreq * epoch_length)`` samples.

    Raises
    ------
    ValueError
        If the epochs cannot hold a whole number of samples at ``sfreq``.

    Examples
    --------
    >>> from sleepstage.data import make_synthetic
    >>> data = make_synthetic(n_recordings=1, hours=0.1)
    >>> resample_epochs(data, 64.0).X.shape
    (90, 3, 256)
    """
    sfreq = check_positive("sfreq", sfreq)
    if abs(data.sfreq - sfreq) < 1e-9:
        return data
    from scipy.signal import resample_poly  # imported here: scipy.signal loads slowly

    ratio = Fraction(sfreq / data.sfreq).limit_denominator(1000)
    n_target = sfreq * data.epoch_length
    if abs(n_target - round(n_target)) > 1e-6:
        raise ValueError(f"Cannot resample {data.epoch_length:g}-s epochs to {sfreq:g} Hz: "
                         f"{n_target:g} is not a whole number of samples.")
    X = resample_poly(data.X, ratio.numerator, ratio.denominator, axis=-1)
    X = X[..., : round(n_target)].astype(np.float32)
    if X.shape[-1] != round(n_target):
        raise ValueError(f"Resampling from {data.sfreq:g} to {sfreq:g} Hz gave {X.shape[-1]} "
                         f"samples per epoch instead of {round(n_target)}.")
    logger.info("resampled %d epochs from %g Hz to %g Hz", data.n_epochs, data.sfreq, sfreq)
    return dataclasses.replace(data, X=X, sfreq=float(sfreq))
