"""Hjorth parameters (activity, mobility, complexity) of every channel."""

from __future__ import annotations

import numpy as np

from ._engine import POWER_FLOOR, EpochBatch, safe_log
from ._family import FeatureFamily
from ._registry import register_family

__all__ = ["HjorthFeatures"]


@register_family("hjorth")
class HjorthFeatures(FeatureFamily):
    """Hjorth activity, mobility and complexity of every channel (Hjorth, 1970).

    With ``d`` the first difference of an epoch ``x`` (``np.diff``) and ``d2`` the second:

    - ``<ch>_hjorth_activity_log``: ``log(var(x))`` (units²);
    - ``<ch>_hjorth_mobility``: the raw mobility ``m = sqrt(var(d) / var(x))`` is in radians
      per sample; it is reported in Hz as ``sfreq / pi * arcsin(m / 2)``, which is exactly
      the frequency of a sampled sine (for which ``m = 2 sin(pi f / sfreq)``) and
      ``≈ m * sfreq / (2 pi)`` well below Nyquist. It reads as a mean frequency.
    - ``<ch>_hjorth_complexity``: ``sqrt(var(d2) / var(d)) / m``, dimensionless, 1 for a
      pure sine and larger for broadband signals.

    A flat channel (variance at most 1e-30 units²) gives activity ``log(1e-30)`` and mobility
    and complexity 0.

    Parameters
    ----------
    sfreq : float, default 128
        Sampling frequency in Hz.
    ch_names, ch_types : sequence of str or None
        Channel layout; None means the reference layout.
    epoch_length : float, optional
        Declared epoch length in seconds, checked against ``X`` at fit (see
        :class:`~sleepstage.features.EpochTransformer`).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(512) / 128
    >>> X = np.sin(2 * np.pi * 10 * t)[None, None, :].astype(np.float32)
    >>> hj = HjorthFeatures(ch_names=["eeg"]).fit(X)
    >>> round(float(hj.transform(X)[0, 1]), 1)  # mobility in Hz
    10.0
    """

    column_families = ("hjorth",)
    statistics = ("variance", "diff_variance", "diff2_variance")

    def _check_params(self, n_samples: int) -> None:
        if n_samples < 4:
            raise ValueError(
                f"Hjorth parameters need at least 4 samples per epoch, got {n_samples}."
            )

    def _feature_table(self, ch_names, ch_types) -> list[tuple[str, str]]:
        names = ("hjorth_activity_log", "hjorth_mobility", "hjorth_complexity")
        return [(ch, name, "hjorth") for ch in ch_names for name in names]

    @classmethod
    def column_family_of(cls, feature: str) -> str | None:
        return "hjorth" if feature.startswith("hjorth_") else None

    def _fill(self, batch: EpochBatch, out: np.ndarray) -> None:
        var0 = batch.variance
        var1 = batch.diff_variance
        var2 = batch.diff2_variance
        # Below the power floor a variance is rounding noise: mobility/complexity are 0 then.
        varies = var0 > POWER_FLOOR
        mobility = np.sqrt(var1 / np.where(varies, var0, 1.0), where=varies,
                           out=np.zeros_like(var0))
        varies &= var1 > POWER_FLOOR
        complexity = np.divide(np.sqrt(var2 / np.where(varies, var1, 1.0)),
                               np.where(varies, mobility, 1.0), where=varies,
                               out=np.zeros_like(var0))
        sfreq = self.sfreq_
        out[:, 0::3] = safe_log(var0, POWER_FLOOR)
        out[:, 1::3] = sfreq / np.pi * np.arcsin(np.minimum(mobility / 2, 1.0))
        out[:, 2::3] = complexity
