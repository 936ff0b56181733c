"""EpochFeatures against a slow, obviously-correct per-epoch implementation in float64.

The reference loops over epochs and channels and calls the textbook functions
(``scipy.signal.welch``/``periodogram``, ``np.percentile``, ``scipy.stats.skew``/``kurtosis``,
``np.var`` of ``np.diff``). Both sides read the same float32 samples, so the differences
come only from the fast path's float32 arithmetic: sums of a few hundred float32 terms carry
a relative error of ~1e-7 to 1e-6, hence ``rtol=1e-5``. Columns that are logs, ratios of
logs or signed shape statistics (skewness, kurtosis) can sit near 0, where a relative test is
meaningless; there an absolute error of 1e-5 is the same statement (a relative error of 1e-5
in the power gives an absolute error of 1e-5 in its log). Frequencies (edge, peak) are
compared with an absolute 1e-4 Hz, far below the 0.25-0.5 Hz bin width.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import scipy.stats

from sleepstage.features import EpochFeatures

POWER_FLOOR = 1e-30
AMPLITUDE_FLOOR = 1e-15


def _log(value: float, floor: float = POWER_FLOOR) -> float:
    return float(np.log(max(value, floor)))


def _spectrum(x, sfreq, plan, bandwidth):
    """Slow PSD of one epoch-channel: one scipy call, as a textbook would write it."""
    if plan.method == "welch":
        return scipy.signal.welch(
            x, sfreq, window="hann", nperseg=plan.nperseg, noverlap=plan.nperseg - plan.step,
            detrend="constant", scaling="density", average="mean",
        )
    half_bandwidth_product = bandwidth / 2 * x.size / sfreq  # NW
    tapers = scipy.signal.windows.dpss(x.size, half_bandwidth_product, plan.n_tapers)
    spectra = [scipy.signal.periodogram(x, sfreq, window=w, detrend="constant")[1]
               for w in np.atleast_2d(tapers)]
    return scipy.signal.periodogram(x, sfreq)[0], np.mean(spectra, axis=0)


def _mains(f, family) -> np.ndarray:
    """Bins of ``f`` inside the family's mains notches, which count in no power."""
    inside = np.zeros(f.shape, dtype=bool)
    for lo, hi in family.notch_bands_:
        inside |= (f >= lo) & (f < hi)
    return inside


def reference_features(X, feats: EpochFeatures) -> dict[str, np.ndarray]:
    """Every column of ``feats`` recomputed epoch by epoch in float64, keyed by name."""
    X = np.asarray(X, dtype=np.float64)
    sfreq = feats.sfreq_
    duration = X.shape[-1] / sfreq
    families = dict(feats.transformers_)
    spectral, emg = families.get("spectral"), families.get("emg")
    values: dict[str, list[float]] = {}

    def put(name, value):
        values.setdefault(name, []).append(float(value))

    for epoch in X:
        for c, ch in enumerate(feats.ch_names_):
            x = epoch[c]
            if spectral is not None and c in spectral.channels_:
                f, p = _spectrum(x, sfreq, spectral.psd_plan_, spectral.bandwidth)
                df = f[1] - f[0]
                used = ~_mains(f, spectral)
                keep = (f >= spectral.fmin) & (f < spectral.fmax_) & used
                fk, pk = f[keep], p[keep]
                total = pk.sum() * df
                powers = {}
                for band, (lo, hi) in spectral.bands_.items():
                    powers[band] = p[(f >= lo) & (f < hi) & used].sum() * df
                    put(f"{ch}_{band}_abspower_log", _log(powers[band]))
                for band in spectral.bands_:
                    put(f"{ch}_{band}_relpower", powers[band] / total)
                put(f"{ch}_total_power_log", _log(total))
                for num, den in spectral.ratios_:
                    put(f"{ch}_{num}_{den}_ratio_log", _log(powers[num]) - _log(powers[den]))
                cumulative = np.cumsum(pk)
                target = spectral.edge * cumulative[-1]
                i = int(np.searchsorted(cumulative, target, side="left"))
                below = cumulative[i] - pk[i]
                put(f"{ch}_sef{100 * spectral.edge:g}",
                    fk[i] - df / 2 + df * (target - below) / pk[i])
                q = pk / pk.sum()
                put(f"{ch}_spectral_entropy", -np.sum(q * np.log(q)) / np.log(q.size))
                put(f"{ch}_peak_freq", fk[np.argmax(pk)])
            if emg is not None and c in emg.channels_:
                f, p = _spectrum(x, sfreq, emg.psd_plan_, emg.bandwidth)
                lo, hi = emg.high_band_
                put(f"{ch}_rms_log", _log(np.sqrt(np.mean(x**2)), AMPLITUDE_FLOOR))
                in_band = (f >= lo) & (f < hi) & ~_mains(f, emg)
                put(f"{ch}_highband_power_log", _log(p[in_band].sum() * (f[1] - f[0])))
                for q, value in zip(emg.percentiles, np.percentile(np.abs(x), emg.percentiles),
                                    strict=True):
                    put(f"{ch}_abs_p{q:g}_log", _log(value, AMPLITUDE_FLOOR))
        for c, ch in enumerate(feats.ch_names_):
            x = epoch[c]
            d1, d2 = np.diff(x), np.diff(x, n=2)
            mobility = np.sqrt(np.var(d1) / np.var(x))
            put(f"{ch}_hjorth_activity_log", _log(np.var(x)))
            put(f"{ch}_hjorth_mobility", sfreq / np.pi * np.arcsin(mobility / 2))
            put(f"{ch}_hjorth_complexity", np.sqrt(np.var(d2) / np.var(d1)) / mobility)
        for c, ch in enumerate(feats.ch_names_):
            x = epoch[c]
            q75, q25 = np.percentile(x, [75, 25])
            put(f"{ch}_std_log", _log(np.std(x), AMPLITUDE_FLOOR))
            put(f"{ch}_iqr_log", _log(q75 - q25, AMPLITUDE_FLOOR))
            put(f"{ch}_skewness", scipy.stats.skew(x))
            put(f"{ch}_kurtosis", scipy.stats.kurtosis(x))
            crossings = np.count_nonzero(np.diff(np.signbit(x - x.mean())))
            put(f"{ch}_zero_crossing_rate", crossings / duration)
            line_length = np.abs(np.diff(x)).sum() / duration
            put(f"{ch}_line_length_log", _log(line_length, AMPLITUDE_FLOOR))
    return {name: np.asarray(v) for name, v in values.items()}


def _tolerance(name: str) -> tuple[float, float]:
    """(rtol, atol) for a column; see the module docstring."""
    if name.endswith(("_peak_freq",)) or "_sef" in name:
        return 1e-5, 1e-4
    return 1e-5, 1e-5


def _random_epochs(rng, n_epochs, n_channels, n_samples, sfreq):
    """Coloured noise with a random offset and gain per epoch and channel, plus a sine."""
    white = rng.standard_normal((n_epochs, n_channels, n_samples))
    coloured = scipy.signal.lfilter([1.0], [1.0, -0.7], white, axis=-1)
    t = np.arange(n_samples) / sfreq
    freq = rng.uniform(1, 20, size=(n_epochs, n_channels, 1))
    signal = coloured + 2 * np.sin(2 * np.pi * freq * t)
    gain = 10 ** rng.uniform(-5, 1, size=(n_epochs, n_channels, 1))  # volts to raw units
    offset = rng.normal(0, 3, size=(n_epochs, n_channels, 1))
    return ((signal + offset) * gain).astype(np.float32)


CASES = {
    "rodent-welch": dict(sfreq=128.0, n_samples=512, params={}),
    "rodent-periodogram": dict(sfreq=128.0, n_samples=512, params={"window": 4.0}),
    "rodent-no-notch": dict(sfreq=128.0, n_samples=512, params={"notch_freqs": None}),
    "rodent-notch-256hz": dict(sfreq=256.0, n_samples=1024,
                               params={"notch_freqs": (50, 100), "notch_width": 3.0}),
    "rodent-multitaper": dict(sfreq=128.0, n_samples=512,
                              params={"method": "multitaper", "bandwidth": 2.0}),
    "human-welch": dict(sfreq=100.0, n_samples=3000,
                        params={"bands": "human", "ch_names": ["Fpz-Cz", "EOG", "EMG"],
                                "ch_types": ["eeg", "eog", "emg"],
                                "ratios": [("theta", "delta"), ("alpha", "theta")]}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_slow_reference(case):
    setup = CASES[case]
    rng = np.random.default_rng(20240501)
    n_epochs = 50 if setup["n_samples"] <= 512 else 12
    X = _random_epochs(rng, n_epochs, 3, setup["n_samples"], setup["sfreq"])
    feats = EpochFeatures(sfreq=setup["sfreq"], batch_size=16, **setup["params"]).fit(X)
    out = feats.transform(X)
    expected = reference_features(X, feats)
    names = list(feats.get_feature_names_out())
    assert sorted(names) == sorted(expected), "column names differ from the reference's"
    for j, name in enumerate(names):
        rtol, atol = _tolerance(name)
        np.testing.assert_allclose(out[:, j], expected[name], rtol=rtol, atol=atol,
                                   err_msg=f"column {name}")
