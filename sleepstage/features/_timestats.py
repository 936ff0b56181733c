"""Time-domain statistics of every channel: spread, shape, zero crossings, line length."""

from __future__ import annotations

import numpy as np

from ._engine import AMPLITUDE_FLOOR, POWER_FLOOR, EpochBatch, linear_quantiles, safe_log
from ._family import FeatureFamily
from ._registry import register_family

__all__ = ["TimeFeatures"]

_PER_CHANNEL = (
    "std_log", "iqr_log", "skewness", "kurtosis", "zero_crossing_rate", "line_length_log",
)
_N_PER_CHANNEL = len(_PER_CHANNEL)


@register_family("time")
class TimeFeatures(FeatureFamily):
    """Amplitude distribution and waveform statistics of every channel.

    Per channel ``<ch>`` (in this order):

    - ``<ch>_std_log``: log standard deviation (units);
    - ``<ch>_iqr_log``: log inter-quartile range (``np.percentile`` 75 - 25, linear);
    - ``<ch>_skewness``: ``m3 / m2**1.5`` with biased central moments, as
      ``scipy.stats.skew``;
    - ``<ch>_kurtosis``: Fisher excess kurtosis ``m4 / m2**2 - 3``, as
      ``scipy.stats.kurtosis``;
    - ``<ch>_zero_crossing_rate``: sign changes of the mean-removed signal per second of
      epoch (zero counts as positive);
    - ``<ch>_line_length_log``: log of ``sum(|diff(x)|)`` per second of epoch (units/s).

    ``std_log`` is half the Hjorth ``activity_log``; both are kept so each family stands on
    its own. A flat channel (variance at most 1e-30 units²) gives ``log(1e-15)`` for the log
    amplitudes and 0 for skewness and kurtosis.

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
    >>> X = np.random.default_rng(0).standard_normal((3, 3, 512)).astype(np.float32)
    >>> tf = TimeFeatures().fit(X)
    >>> list(tf.get_feature_names_out())[:3]
    ['eeg1_std_log', 'eeg1_iqr_log', 'eeg1_skewness']
    """

    column_families = ("time",)
    statistics = ("variance", "standardised_moments", "zero_crossings", "abs_diff_sum")

    @classmethod
    def column_family_of(cls, feature: str) -> str | None:
        return "time" if feature in _PER_CHANNEL else None

    def _feature_table(self, ch_names, ch_types) -> list[tuple[str, str]]:
        return [(ch, name, "time") for ch in ch_names for name in _PER_CHANNEL]

    def _prefetch(self, batch: EpochBatch) -> None:
        batch.prefetch_sorted(range(batch.x.shape[1]))  # for the inter-quartile ranges
        super()._prefetch(batch)

    def _fill(self, batch: EpochBatch, out: np.ndarray) -> None:
        k = _N_PER_CHANNEL
        duration = batch.n_samples / self.sfreq_
        skewness, kurtosis = batch.standardised_moments
        out[:, 0::k] = 0.5 * safe_log(batch.variance, POWER_FLOOR)
        for ch in range(batch.x.shape[1]):
            quartiles = linear_quantiles(batch.sorted(ch), (0.25, 0.75))
            out[:, ch * k + 1] = safe_log(quartiles[:, 1] - quartiles[:, 0], AMPLITUDE_FLOOR)
        out[:, 2::k] = skewness
        out[:, 3::k] = kurtosis
        out[:, 4::k] = batch.zero_crossings / duration
        out[:, 5::k] = safe_log(batch.abs_diff_sum / duration, AMPLITUDE_FLOOR)
