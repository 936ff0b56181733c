"""SYNTHETIC mouse EEG/EMG recordings: the package's embedded default data set.

No labelled rodent recording could be shipped with the package, so :func:`make_synthetic`
simulates one in the reference rodent layout (2 EEG + 1 EMG channels, 128 Hz, 4-s epochs,
24 h per animal, stages WAKE / NREM / REM). The data are **synthetic**: they exercise the
code paths, the evaluation protocol and the relative value of per-recording normalisation,
temporal context and smoothing, but a score obtained on them says nothing about accuracy on
real animals.

Generative model (per animal)
-----------------------------
1. *Hypnogram.* A semi-Markov chain over WAKE, NREM and REM in continuous time. Bout
   durations are log-normal: NREM bouts of a few minutes (median 3.2 min in the light
   phase, 1.9 min in the dark phase), REM bouts of 1-2 min (median 85 s), and wake bouts
   drawn from a three-component log-normal mixture (brief arousals of ~9 s, bouts of
   ~1 min and long bouts of ~15 min reaching over an hour), whose long component gains
   weight in the dark phase. WAKE is always followed by NREM; NREM by REM (probability
   0.36 in the light, 0.25 in the dark) or WAKE; REM by WAKE (0.9) or NREM. REM is thus
   entered from NREM only. The light/dark modulation is a cosine of the zeitgeber time
   (ZT 0-12 light, ZT 12-24 dark), giving about 45 % WAKE, 48 % NREM and 7 % REM over
   24 h and 20-25 state transitions per hour. NREM bouts last at least two epochs, so the
   epoch-wise hypnogram never shows WAKE directly followed by REM.
2. *Epoch labels.* Transitions fall at arbitrary sub-epoch times. Each epoch is labelled
   with the stage that occupies most of it, as a human scorer would; an epoch that
   straddles a transition contains the signals of both stages, joined by a 0.25-s
   cross-fade at the true transition time.
3. *EEG.* Each epoch of each channel is a Gaussian process drawn in the frequency domain
   (power spectrum x random complex coefficients, one inverse FFT per channel for all
   epochs). The spectrum sums an aperiodic 1/f^a background (per-animal exponent a),
   a delta component (log-normal bump centred on 2 Hz), a narrow theta peak (REM, width
   0.45 Hz at the animal's theta frequency, 6.4-8.6 Hz), a broad theta peak (WAKE,
   0.6 Hz lower), broadband beta/gamma activity (centred on 35 Hz), white amplifier noise
   and a small 50-Hz line component (when below Nyquist). Stage sets the weights: NREM
   large delta, scaled by a homeostatic process S that rises during wake and decays
   during sleep (time constants 10 h and 3.5 h), plus 10-15 Hz waxing-waning spindles
   (Hann-windowed bursts of 0.5-2 s, about 6 per minute) added in the time domain; REM
   strong narrow theta and low delta; WAKE mixed broad theta and fast activity. A slow
   arousal variable (autoregressive, time constant 60 s) moves wake between active wake
   (high EMG, theta and gamma) and quiet wake (low EMG, more delta, little theta); quiet
   wake epochs resemble NREM or REM on purpose. All weights carry slow and per-epoch
   log-normal jitter. Channel ``eeg1`` is frontal-like (more delta and spindles),
   ``eeg2`` parietal-like (more theta); the two share a common source (coherence 0.3-0.6).
4. *EMG.* Broadband noise (peak around 30 Hz) times an amplitude envelope: high and
   bursty in active wake (log-normal envelope following a 0.25-3 Hz random process),
   lower in quiet wake, low tone in NREM, atonia in REM with rare brief twitches (20-80 ms
   bursts in about a third of REM epochs), over a per-animal noise floor.
5. *Per-animal differences.* Log-normal gains of each EEG channel (factor ~2 spread) and
   of the EMG (larger spread), theta and spindle frequencies, aperiodic exponent, noise and
   line-noise levels, channel weights and inter-channel coherence. All are recorded in
   ``EpochData.info``. Their spread is scaled by ``animal_variability``.
6. *Movement artefacts.* A fraction ``artefact_rate`` of wake epochs (more often in active
   wake) receives a large slow excursion (0.1-0.6 s Gaussian, median 700 uV before gain) on
   both EEG channels and an EMG burst; the amplifier clips every channel at +/-1 mV.
7. Units are volts, stored as float32. At unit gain the median RMS of ``eeg1`` is about
   33 uV in WAKE, 64 uV in NREM (5-95 %: 39-113 uV) and 30 uV in REM (NREM peak to peak
   around 350 uV); the EMG RMS is about 35 uV in WAKE (5-95 %: 9-68 uV), 6 uV in NREM and
   3 uV in REM.

What the data can and cannot validate
-------------------------------------
They can check that a pipeline runs end to end in the reference layout, that it uses the
spectral and EMG cues sleep scorers use, that per-recording normalisation compensates for
animal gains, and that temporal context and smoothing exploit bout structure. They cannot
validate accuracy on real recordings: real EEG has non-Gaussian waveforms, non-stationary
noise, electrode drift and behaviours (grooming, eating, micro-arousals) this model ignores.
Epochs are generated independently, so the signal is not continuous across epoch borders.
"""

from __future__ import annotations

import logging
import numbers
import time
from typing import Any

import numpy as np
from scipy import fft as sp_fft
from scipy.ndimage import uniform_filter1d
from scipy.signal import lfilter

from .._internal.validation import check_positive
from ._epochs import EpochData
from ._stages import STAGES_3

__all__ = ["make_synthetic"]

logger = logging.getLogger(__name__)

_WAKE, _NREM, _REM = 0, 1, 2
_CH_NAMES = ("eeg1", "eeg2", "emg")
_CH_TYPES = ("eeg", "eeg", "emg")
_UV = 1e-6  # the model works in microvolts; output is in volts

# -- hypnogram ---------------------------------------------------------------------------------
#: Wake bout mixture: (median s, log-sd) of brief arousals, short bouts and long bouts,
#: with the component weights in mid-light and mid-dark phase.
_WAKE_COMPONENTS = ((9.0, 0.6), (70.0, 0.7), (900.0, 0.8))
_WAKE_WEIGHTS_LIGHT = (0.68, 0.29, 0.03)
_WAKE_WEIGHTS_DARK = (0.47, 0.32, 0.21)
_NREM_MEDIAN = (190.0, 115.0)  # light, dark (s)
_NREM_SIGMA = 0.6
_P_NREM_TO_REM = (0.36, 0.25)  # light, dark
_REM_MEDIAN, _REM_SIGMA = 85.0, 0.35
_P_REM_TO_NREM = 0.1
_TAU_S_WAKE, _TAU_S_SLEEP = 10 * 3600.0, 3.5 * 3600.0  # homeostatic process S (s)

# -- signals (microvolts RMS of each spectral component, before per-animal gains) -----------
# components: background, delta, narrow theta (REM), broad theta (wake), fast, noise, line
_N_COMP = 7
_ACTIVE_WAKE = np.array([22.0, 10.0, 0.0, 18.0, 14.0])
_QUIET_WAKE = np.array([22.0, 28.0, 0.0, 8.0, 6.0])
_NREM_EEG = np.array([26.0, 60.0, 0.0, 6.0, 4.0])
_REM_EEG = np.array([20.0, 9.0, 30.0, 0.0, 8.0])
_EMG_LEVEL = {"active": 30.0, "quiet": 12.0, "nrem": 6.0, "rem": 2.5, "twitch": 15.0}
_SPINDLE_RATE = 0.1  # per second of NREM
_CROSSFADE = 0.25  # s
_RAIL_UV = 1000.0
_TAU_AROUSAL, _TAU_DEPTH, _TAU_PHASIC = 60.0, 60.0, 8.0  # s


def make_synthetic(
    n_recordings: int = 3,
    hours: float = 24.0,
    *,
    sfreq: float = 128.0,
    epoch_length: float = 4.0,
    random_state: int | np.random.Generator | None = 0,
    artefact_rate: float = 0.02,
    animal_variability: float = 1.0,
    start_zt: float = 0.0,
) -> EpochData:
    """Simulate SYNTHETIC mouse EEG/EMG recordings with a known hypnogram.

    The package's embedded default data set, in the reference rodent layout: channels
    ``eeg1`` (frontal-like EEG), ``eeg2`` (parietal-like EEG) and ``emg``, labels
    ``"WAKE"``, ``"NREM"``, ``"REM"``. The generative model is described in
    :mod:`sleepstage.data._synthetic`: a semi-Markov hypnogram with mouse-like bout lengths
    and a light/dark cycle (about 45 % WAKE, 48 % NREM, 7 % REM), epochs synthesised in the
    frequency domain from a 1/f background plus stage-specific delta, theta, spindles and
    fast activity, EMG with stage-dependent tone, twitches and bursts, per-animal gains and
    frequencies, occasional movement artefacts, and mixed epochs at transitions. Scores on
    these data validate the code and the relative value of processing steps, not accuracy on
    real animals.

    Parameters
    ----------
    n_recordings : int
        Number of animals, one 24-h-style recording each. Animal ``k`` is the same whatever
        ``n_recordings`` and ``hours`` are, and its id names it: ``"synthetic-<k>"`` with
        the default seed 0, ``"synthetic-seed<s>-<k>"`` with another integer seed ``s`` (so
        that animals of different seeds never share an id), ``"synthetic-<k>"`` for a
        Generator or None, whose animals an id cannot name.
    hours : float
        Duration of each recording in hours; cut to a whole number of epochs.
    sfreq : float
        Sampling frequency in Hz (at least 32 Hz, so spindles lie below Nyquist).
    epoch_length : float
        Epoch duration in seconds (at least 2 s); ``sfreq * epoch_length`` must be an integer.
    random_state : int, numpy.random.Generator or None
        Seed; the same integer always gives the same data. None draws fresh entropy.
    artefact_rate : float
        Fraction of wake epochs, in [0, 1], carrying a movement artefact (large slow EEG
        excursion, EMG burst, possibly clipped at +/-1 mV).
    animal_variability : float
        Scales the spread of every per-animal parameter (gains, frequencies, noise); 0 makes
        all animals statistically identical, 1 is the calibrated default.
    start_zt : float
        Zeitgeber time (hours after lights on, in [0, 24)) at the start of each recording.

    Returns
    -------
    EpochData
        ``X`` float32 ``(n_recordings * n_epochs, 3, sfreq * epoch_length)`` in volts; ``y``
        stage names; ``groups`` recording ids; ``onsets`` seconds from recording start;
        ``info`` with ``synthetic=True``, the call parameters and, per recording, every
        drawn animal parameter, the stage fractions, transitions per hour, the number of
        mixed and artefact epochs and the continuous-time bouts.

    Raises
    ------
    ValueError
        If a parameter is out of range, e.g. ``hours <= 0`` or ``sfreq * epoch_length`` not
        an integer.
    TypeError
        If ``n_recordings`` is not an integer or ``random_state`` is not a valid seed.

    Examples
    --------
    >>> data = make_synthetic(n_recordings=2, hours=0.5, random_state=1)
    >>> data.X.shape, data.X.dtype
    ((900, 3, 512), dtype('float32'))
    >>> sorted(set(data.y)) <= ["NREM", "REM", "WAKE"]
    True
    >>> data.info["synthetic"], data.recordings.tolist()
    (True, ['synthetic-seed1-0', 'synthetic-seed1-1'])
    """
    n_recordings = _check_count(n_recordings)
    hours = check_positive("hours", hours)
    sfreq = check_positive("sfreq", sfreq)
    epoch_length = check_positive("epoch_length", epoch_length)
    artefact_rate = check_positive("artefact_rate", artefact_rate, strict=False)
    animal_variability = check_positive("animal_variability", animal_variability, strict=False)
    start_zt = check_positive("start_zt", start_zt, strict=False)
    if sfreq < 32:
        raise ValueError(f"sfreq must be at least 32 Hz (spindles reach 15 Hz), got {sfreq:g}.")
    if epoch_length < 2:
        raise ValueError(f"epoch_length must be at least 2 s, got {epoch_length:g}.")
    n_float = sfreq * epoch_length
    n_samples = round(n_float)
    if abs(n_float - n_samples) > 1e-6:
        raise ValueError(
            f"sfreq x epoch_length must be a whole number of samples, but {sfreq:g} Hz x "
            f"{epoch_length:g} s = {n_float:g}."
        )
    if artefact_rate > 1:
        raise ValueError(f"artefact_rate must lie in [0, 1], got {artefact_rate:g}.")
    if start_zt >= 24:
        raise ValueError(f"start_zt must lie in [0, 24) hours, got {start_zt:g}.")
    n_epochs = int(np.floor(hours * 3600.0 / epoch_length + 1e-9))
    if n_epochs < 1:
        raise ValueError(
            f"hours={hours:g} is shorter than one epoch of {epoch_length:g} s."
        )
    seeds = _spawn_seeds(random_state, n_recordings)

    start = time.perf_counter()
    X = np.empty((n_recordings * n_epochs, 3, n_samples), dtype=np.float32)
    y = np.empty(n_recordings * n_epochs, dtype="<U4")
    groups = np.empty(n_recordings * n_epochs, dtype=object)
    recordings = {}
    prefix = "synthetic-"
    if isinstance(random_state, numbers.Integral) and random_state != 0:
        prefix = f"synthetic-seed{int(random_state)}-"
    for k, seed in enumerate(seeds):
        rec_id = f"{prefix}{k}"
        part = slice(k * n_epochs, (k + 1) * n_epochs)
        labels, details = _make_recording(
            np.random.default_rng(seed), X[part], n_epochs, sfreq, epoch_length,
            start_zt, artefact_rate, animal_variability,
        )
        y[part] = np.asarray(STAGES_3)[labels]
        groups[part] = rec_id
        recordings[rec_id] = details
    logger.info("synthesised %d x %d epochs in %.2f s", n_recordings, n_epochs,
                time.perf_counter() - start)
    info = {
        "synthetic": True,
        "description": (
            "SYNTHETIC mouse EEG/EMG generated by sleepstage.data.make_synthetic; not a real "
            "recording. See the module docstring for the generative model."
        ),
        "source": "sleepstage.data.make_synthetic",
        "units": "V",
        "parameters": {
            "n_recordings": n_recordings, "hours": hours, "sfreq": sfreq,
            "epoch_length": epoch_length,
            "random_state": (int(random_state) if isinstance(random_state, numbers.Integral)
                             else repr(random_state)),
            "artefact_rate": artefact_rate, "animal_variability": animal_variability,
            "start_zt": start_zt,
        },
        "recordings": recordings,
    }
    onsets = np.tile(np.arange(n_epochs) * epoch_length, n_recordings)
    return EpochData(X=X, y=y, groups=groups.astype(str), sfreq=sfreq, ch_names=_CH_NAMES,
                     ch_types=_CH_TYPES, epoch_length=epoch_length, onsets=onsets, info=info)


# -- validation helpers -------------------------------------------------------------------------
def _check_count(n_recordings: Any) -> int:
    if isinstance(n_recordings, bool) or not isinstance(n_recordings, numbers.Integral):
        raise TypeError(f"n_recordings must be an integer, got {n_recordings!r}.")
    if n_recordings < 1:
        raise ValueError(f"n_recordings must be >= 1, got {n_recordings}.")
    return int(n_recordings)


def _spawn_seeds(random_state: Any, n: int) -> list[np.random.SeedSequence]:
    """One independent seed per animal; animal k does not depend on ``n``."""
    if isinstance(random_state, np.random.Generator):
        draws = random_state.integers(0, 2**63 - 1, size=n)
        return [np.random.SeedSequence(int(d)) for d in draws]
    if isinstance(random_state, np.random.SeedSequence):
        return random_state.spawn(n)
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral)
    ):
        raise TypeError(
            "random_state must be None, a non-negative integer or a numpy.random.Generator, "
            f"got {random_state!r}."
        )
    if random_state is not None and random_state < 0:
        raise ValueError(f"random_state must be non-negative, got {random_state}.")
    return np.random.SeedSequence(random_state).spawn(n)


# -- one animal ---------------------------------------------------------------------------------
def _draw_animal(rng: np.random.Generator, spread: float) -> dict[str, float]:
    """Per-animal parameters; ``spread`` scales every between-animal deviation."""

    def lognormal(median: float, sigma: float, limit: float = 2.5) -> float:
        z = np.clip(rng.standard_normal(), -limit, limit)  # no absurd outliers
        return float(median * np.exp(spread * sigma * z))

    def around(mean: float, sd: float, lo: float, hi: float) -> float:
        return float(np.clip(mean + spread * sd * rng.standard_normal(), lo, hi))

    return {
        "eeg1_gain": lognormal(1.0, 0.3),
        "eeg2_gain": lognormal(1.0, 0.3),
        "emg_gain": lognormal(1.0, 0.3, limit=2.0),
        "theta_freq_hz": around(7.5, 0.4, 6.4, 8.6),
        "spindle_freq_hz": around(12.5, 0.8, 11.0, 14.0),
        "aperiodic_exponent": around(1.6, 0.15, 1.2, 2.0),
        "eeg_noise_uv": lognormal(3.0, 0.4),
        "line_noise_uv": lognormal(1.5, 0.8),
        "emg_noise_uv": lognormal(1.2, 0.3),
        "eeg_coherence": around(0.45, 0.08, 0.3, 0.6),
        "eeg1_delta_weight": lognormal(1.0, 0.12),
        "eeg1_theta_weight": lognormal(0.55, 0.12),
        "eeg2_delta_weight": lognormal(0.65, 0.12),
        "eeg2_theta_weight": lognormal(1.0, 0.12),
        "eeg2_spindle_weight": lognormal(0.5, 0.2),
    }


def _light_weight(t_seconds: float, start_zt: float) -> float:
    """1 in mid-light (ZT 6), 0 in mid-dark (ZT 18), cosine in between."""
    zt = (start_zt + t_seconds / 3600.0) % 24.0
    return 0.5 + 0.5 * np.cos(2 * np.pi * (zt - 6.0) / 24.0)


def _hypnogram(rng, total: float, epoch_length: float, start_zt: float):
    """Continuous-time bouts covering ``total`` seconds: (bounds, stages, S at bout starts)."""
    onsets, stages, s_start = [], [], []
    t, stage = 0.0, _NREM if _light_weight(0.0, start_zt) > 0.5 else _WAKE
    s_value = 0.45 + 0.25 * (1 - _light_weight(0.0, start_zt))
    light_w, dark_w = np.array(_WAKE_WEIGHTS_LIGHT), np.array(_WAKE_WEIGHTS_DARK)
    while t < total:
        lw = _light_weight(t, start_zt)
        if stage == _WAKE:
            weights = lw * light_w + (1 - lw) * dark_w
            median, sigma = _WAKE_COMPONENTS[rng.choice(3, p=weights / weights.sum())]
            duration = max(rng.lognormal(np.log(median), sigma), 1.0)
            following = _NREM
        elif stage == _NREM:
            median = lw * _NREM_MEDIAN[0] + (1 - lw) * _NREM_MEDIAN[1]
            duration = max(rng.lognormal(np.log(median), _NREM_SIGMA), 2 * epoch_length)
            p_rem = lw * _P_NREM_TO_REM[0] + (1 - lw) * _P_NREM_TO_REM[1]
            following = _REM if rng.random() < p_rem else _WAKE
        else:
            duration = rng.lognormal(np.log(_REM_MEDIAN), _REM_SIGMA)
            following = _NREM if rng.random() < _P_REM_TO_NREM else _WAKE
        onsets.append(t)
        stages.append(stage)
        s_start.append(s_value)
        s_value = _evolve_s(np.asarray(s_value), np.asarray(duration), stage == _WAKE).item()
        t += duration
        stage = following
    bounds = np.append(onsets, t)
    return bounds, np.asarray(stages), np.asarray(s_start)


def _evolve_s(s0: np.ndarray, dt: np.ndarray, awake: np.ndarray | bool) -> np.ndarray:
    """Homeostatic process S after ``dt`` seconds of wake (rise) or sleep (decay)."""
    rise = 1 - (1 - s0) * np.exp(-dt / _TAU_S_WAKE)
    decay = s0 * np.exp(-dt / _TAU_S_SLEEP)
    return np.where(awake, rise, decay)


def _occupancy(bounds: np.ndarray, stages: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Seconds each stage occupies in each epoch, shape (n_epochs, 3), exact."""
    occupancy = np.empty((edges.size - 1, 3))
    durations = np.diff(bounds)
    for s in range(3):
        cumulative = np.concatenate([[0.0], np.cumsum(durations * (stages == s))])
        occupancy[:, s] = np.diff(np.interp(edges, bounds, cumulative))
    return occupancy


def _ar1(rng, n: int, tau_epochs: float) -> np.ndarray:
    """Unit-variance autoregressive process with time constant ``tau_epochs``."""
    phi = float(np.exp(-1.0 / max(tau_epochs, 1e-6)))
    noise = rng.standard_normal(n)
    zi = np.array([phi * rng.standard_normal()])
    out, _ = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], noise, zi=zi)
    return out


def _make_recording(rng, out, n_epochs, sfreq, epoch_length, start_zt, artefact_rate, spread):
    """Fill ``out`` (n_epochs, 3, n_samples) in volts; return labels and provenance."""
    n_samples = out.shape[2]
    animal = _draw_animal(rng, spread)
    edges = np.arange(n_epochs + 1) * epoch_length
    bounds, stages, s_start = _hypnogram(rng, edges[-1], epoch_length, start_zt)
    bounds[-1] = edges[-1]  # the last bout ends with the recording
    occupancy = _occupancy(bounds, stages, edges)
    labels = occupancy.argmax(axis=1)

    # One "row" per (epoch, stage present in it): the first stage of every epoch, in epoch
    # order, then the second (and third) stage of the few epochs that straddle transitions.
    present = occupancy > 1e-9
    n_per_epoch = present.sum(axis=1)
    mixed = n_per_epoch > 1
    row_epoch, row_stage = np.nonzero(present)
    rank = np.arange(row_epoch.size) - np.repeat(np.cumsum(n_per_epoch) - n_per_epoch,
                                                 n_per_epoch)
    order = np.argsort(rank, kind="stable")
    row_epoch, row_stage, rank = row_epoch[order], row_stage[order], rank[order]

    # latent per-epoch states
    mid = edges[:-1] + epoch_length / 2
    bout = np.clip(np.searchsorted(bounds, mid, side="right") - 1, 0, stages.size - 1)
    s_mid = _evolve_s(s_start[bout], mid - bounds[bout], stages[bout] == _WAKE)
    arousal = _ar1(rng, n_epochs, _TAU_AROUSAL / epoch_length)
    depth = _ar1(rng, n_epochs, _TAU_DEPTH / epoch_length)
    phasic = _ar1(rng, n_epochs, _TAU_PHASIC / epoch_length)
    quiet = 1.0 / (1.0 + np.exp((arousal + 0.8) / 0.3))  # ~20 % of wake is quiet

    rows = _RowState(row_stage, arousal[row_epoch], depth[row_epoch], phasic[row_epoch],
                     quiet[row_epoch], s_mid[row_epoch])
    extra = np.empty((row_epoch.size - n_epochs, 3, n_samples), dtype=np.float32)
    signals = _RowSignals(out, extra)
    _eeg(rng, signals, rows, animal, sfreq)
    _spindles(rng, signals, rows, animal, sfreq, epoch_length)
    _emg(rng, signals, rows, animal, sfreq, epoch_length)

    # mixed epochs: cross-fade the stages' signals at the true transition times
    if extra.shape[0]:
        mixed_rows = np.flatnonzero(mixed[row_epoch])
        times = edges[row_epoch[mixed_rows], None] + (np.arange(n_samples) + 0.5) / sfreq
        sample_bout = np.clip(np.searchsorted(bounds, times, side="right") - 1, 0,
                              stages.size - 1)
        indicator = (stages[sample_bout] == row_stage[mixed_rows, None]).astype(np.float32)
        width = max(1, round(_CROSSFADE * sfreq))
        weights = uniform_filter1d(indicator, width, axis=1, mode="nearest")[:, None, :]
        first = rank[mixed_rows] == 0
        out[row_epoch[mixed_rows[first]]] *= weights[first]
        for r in range(1, int(rank.max()) + 1):
            sel = rank[mixed_rows] == r
            out[row_epoch[mixed_rows[sel]]] += extra[mixed_rows[sel] - n_epochs] * weights[sel]
    del extra

    artefacts = _artefacts(rng, out, labels, quiet, artefact_rate, sfreq)
    gains = np.array([animal["eeg1_gain"], animal["eeg2_gain"], animal["emg_gain"]]) * _UV
    out *= gains.astype(np.float32)[None, :, None]
    np.clip(out, np.float32(-_RAIL_UV * _UV), np.float32(_RAIL_UV * _UV), out=out)

    hours = n_epochs * epoch_length / 3600.0
    epoch_changes = int(np.count_nonzero(np.diff(labels)))
    durations = np.diff(bounds)
    details = {
        "animal": animal,
        "stage_fractions": {
            name: float(np.mean(labels == s)) for s, name in enumerate(STAGES_3)
        },
        "transitions_per_hour": float((stages.size - 1) / (bounds[-1] / 3600.0)),
        "epoch_transitions_per_hour": epoch_changes / hours,
        "n_mixed_epochs": int(np.count_nonzero(mixed)),
        "n_artefact_epochs": int(artefacts),
        "bouts": {
            "onset": bounds[:-1].copy(),
            "duration": durations,
            "stage": np.asarray(STAGES_3)[stages],
        },
    }
    return labels, details


class _RowState:
    """Stage and latent variables of each (epoch, stage) row."""

    def __init__(self, stage, arousal, depth, phasic, quiet, s_value):
        self.stage = stage
        self.arousal = arousal
        self.depth = depth
        self.phasic = phasic
        self.quiet = quiet
        self.s_value = s_value

    @property
    def n(self) -> int:
        return self.stage.size


class _RowSignals:
    """Signals of all rows, stored in two blocks: first stages (written straight into the
    output, one row per epoch) and the extra stages of mixed epochs."""

    def __init__(self, first: np.ndarray, extra: np.ndarray):
        self.first = first
        self.extra = extra
        self.n_first = first.shape[0]
        self.n_samples = first.shape[2]

    def set(self, channel: int, values: np.ndarray) -> None:
        self.first[:, channel] = values[: self.n_first]
        self.extra[:, channel] = values[self.n_first:]

    def add(self, channel: int, rows: np.ndarray, values: np.ndarray) -> None:
        """Add ``values`` to ``channel`` of the given (sorted, unique) row indices."""
        split = np.searchsorted(rows, self.n_first)
        self.first[rows[:split], channel] += values[:split]
        self.extra[rows[split:] - self.n_first, channel] += values[split:]


# -- signal synthesis ---------------------------------------------------------------------------
def _spectral_shapes(animal, freqs: np.ndarray, sfreq: float) -> np.ndarray:
    """Unit-power spectral shape of each EEG component, shape (_N_COMP, n_freqs)."""
    f = np.maximum(freqs, 1e-3)
    highpass = 1.0 / (1.0 + (0.4 / f) ** 4)
    log_f = np.log(f)
    theta = animal["theta_freq_hz"]
    shapes = np.stack([
        (1.0 + f) ** -animal["aperiodic_exponent"],
        np.exp(-0.5 * ((log_f - np.log(2.0)) / 0.45) ** 2),
        np.exp(-0.5 * ((f - theta) / 0.45) ** 2),
        np.exp(-0.5 * ((f - theta + 0.6) / 1.3) ** 2),
        np.exp(-0.5 * ((log_f - np.log(35.0)) / 0.5) ** 2),
        np.ones_like(f),
        np.zeros_like(f),
    ]) * highpass
    if 50.0 < sfreq / 2 - 1.0:
        shapes[6, np.argmin(np.abs(freqs - 50.0))] = 1.0
    shapes[:, 0] = 0.0
    shapes /= np.maximum(shapes.sum(axis=1, keepdims=True), 1e-12)
    return shapes.astype(np.float32)


def _complex_normal(rng, shape) -> np.ndarray:
    """Complex Gaussian coefficients with E|z|^2 = 2 (unit real and imaginary parts)."""
    return rng.standard_normal((*shape[:-1], 2 * shape[-1]), dtype=np.float32).view(np.complex64)


def _synthesise(power: np.ndarray, coeffs: np.ndarray, n_samples: int) -> np.ndarray:
    """Signals whose expected per-bin power is ``power`` (variance = power summed).

    ``coeffs`` (complex Gaussian, one row per signal) is overwritten; ``power`` has one row
    per signal or a single row shared by all.
    """
    amplitude = np.sqrt(power, dtype=np.float32)
    amplitude *= np.float32(n_samples / 2)
    coeffs *= amplitude
    return sp_fft.irfft(coeffs, n=n_samples, axis=-1, overwrite_x=True)


def _eeg(rng, signals: _RowSignals, rows: _RowState, animal, sfreq) -> None:
    """Fill the two EEG channels of ``signals`` (microvolts)."""
    n, n_samples = rows.n, signals.n_samples
    freqs = sp_fft.rfftfreq(n_samples, 1.0 / sfreq)
    shapes = _spectral_shapes(animal, freqs, sfreq)

    amp = np.zeros((n, _N_COMP))
    wake, nrem, rem = (rows.stage == s for s in (_WAKE, _NREM, _REM))
    q = rows.quiet[wake, None]
    amp[wake, :5] = (1 - q) * _ACTIVE_WAKE + q * _QUIET_WAKE
    amp[wake, 4] *= np.exp(0.25 * rows.arousal[wake])
    amp[nrem, :5] = _NREM_EEG
    amp[nrem, 1] *= ((0.3 + rows.s_value[nrem]) / 0.75) * np.exp(0.2 * rows.depth[nrem])
    amp[rem, :5] = _REM_EEG
    amp[rem, 2] *= np.exp(0.2 * rows.phasic[rem])
    amp[:, :5] *= np.exp(0.3 * rng.standard_normal((n, 5)))  # per-epoch jitter
    amp[:, 5] = animal["eeg_noise_uv"]
    amp[:, 6] = animal["line_noise_uv"]

    # a common source shared by both channels below 20 Hz (volume conduction)
    rho = animal["eeg_coherence"]
    n_common = int(np.searchsorted(freqs, 20.0))
    common = _complex_normal(rng, (n, n_common)) * np.float32(np.sqrt(rho))
    channel_weights = (
        np.array([1.0, animal["eeg1_delta_weight"], animal["eeg1_theta_weight"],
                  animal["eeg1_theta_weight"], 1.0, 1.0, 1.0]),
        np.array([1.0, animal["eeg2_delta_weight"], animal["eeg2_theta_weight"],
                  animal["eeg2_theta_weight"], 0.8, 1.0, 1.0]),
    )
    for c, w in enumerate(channel_weights):
        power = ((amp * w) ** 2).astype(np.float32) @ shapes
        coeffs = _complex_normal(rng, (n, freqs.size))
        coeffs[:, :n_common] *= np.float32(np.sqrt(1 - rho))
        coeffs[:, :n_common] += common
        signals.set(c, _synthesise(power, coeffs, n_samples))


def _spindles(rng, signals: _RowSignals, rows: _RowState, animal, sfreq, epoch_length) -> None:
    """Add 10-15 Hz waxing-waning bursts (0.5-2 s) to NREM rows."""
    nrem = np.flatnonzero(rows.stage == _NREM)
    if nrem.size == 0:
        return
    expected = _SPINDLE_RATE * epoch_length
    n_slots = int(np.ceil(3 * expected)) + 1
    t = (np.arange(signals.n_samples) / sfreq).astype(np.float32)
    for _ in range(n_slots):
        p = np.clip(expected / n_slots * np.exp(0.3 * rows.depth[nrem]), 0, 1)
        idx = nrem[rng.random(nrem.size) < p]
        k = idx.size
        centre = rng.uniform(0, epoch_length, k)[:, None]
        width = rng.uniform(0.5, 2.0, k)[:, None]
        freq = (animal["spindle_freq_hz"] + rng.uniform(-0.7, 0.7, k))[:, None]
        phase = rng.uniform(0, 2 * np.pi, k)[:, None]
        amplitude = (25.0 * np.exp(0.3 * rng.standard_normal(k)))[:, None]
        offset = t[None, :] - centre
        hann = 0.5 + 0.5 * np.cos(2 * np.pi * offset / width)
        window = np.where(np.abs(offset) < width / 2, hann, 0.0)
        burst = (amplitude * window * np.sin(2 * np.pi * freq * offset + phase)).astype(np.float32)
        signals.add(0, idx, burst)
        signals.add(1, idx, np.float32(animal["eeg2_spindle_weight"]) * burst)


def _emg(rng, signals: _RowSignals, rows: _RowState, animal, sfreq, epoch_length) -> None:
    """Fill the EMG channel: broadband carrier times a stage-dependent envelope."""
    n, n_samples = rows.n, signals.n_samples
    freqs = sp_fft.rfftfreq(n_samples, 1.0 / sfreq)
    shape = (freqs / 30.0) ** 2 / (1 + (freqs / 30.0) ** 2) ** 2
    shape /= shape.sum()
    carrier = _synthesise(shape.astype(np.float32), _complex_normal(rng, (n, freqs.size)),
                          n_samples)

    level = np.empty(n)
    wake, nrem, rem = (rows.stage == s for s in (_WAKE, _NREM, _REM))
    q = rows.quiet[wake]
    level[wake] = ((1 - q) * _EMG_LEVEL["active"] + q * _EMG_LEVEL["quiet"]) * np.exp(
        0.25 * rows.arousal[wake])
    level[nrem] = _EMG_LEVEL["nrem"] * np.exp(-0.15 * rows.depth[nrem])
    level[rem] = _EMG_LEVEL["rem"]
    level *= np.exp(0.15 * rng.standard_normal(n))
    envelope = np.empty((n, n_samples), dtype=np.float32)
    envelope[:] = level.astype(np.float32)[:, None]

    # bursty wake: log-normal envelope following a slow (0.25-3 Hz) random process
    w_idx = np.flatnonzero(wake)
    if w_idx.size:
        n_slow = int(np.searchsorted(freqs, 3.0, side="right"))
        slow_shape = (freqs[:n_slow] > 0).astype(np.float32)
        slow_shape /= max(slow_shape.sum(), 1.0)
        slow = _synthesise(slow_shape, _complex_normal(rng, (w_idx.size, n_slow)), n_samples)
        beta = (0.8 * (1 - q))[:, None].astype(np.float32)
        envelope[w_idx] *= np.exp(beta * slow - beta**2 / 2)

    # REM twitches: brief bursts in about a third of REM epochs
    r_idx = np.flatnonzero(rem)
    t = (np.arange(n_samples) / sfreq).astype(np.float32)
    for _ in range(3):
        idx = r_idx[rng.random(r_idx.size) < 0.12 * np.exp(0.5 * rows.phasic[r_idx])]
        k = idx.size
        centre = rng.uniform(0, epoch_length, k)[:, None]
        sd = rng.uniform(0.02, 0.08, k)[:, None]
        height = _EMG_LEVEL["twitch"] * np.exp(0.3 * rng.standard_normal(k))[:, None]
        envelope[idx] += (height * np.exp(-0.5 * ((t - centre) / sd) ** 2)).astype(np.float32)

    floor = np.float32(animal["emg_noise_uv"])
    envelope *= envelope
    envelope += floor**2
    np.sqrt(envelope, out=envelope)
    carrier *= envelope
    signals.set(2, carrier)


def _artefacts(rng, out, labels, quiet, rate, sfreq) -> int:
    """Add movement artefacts to a fraction ``rate`` of wake epochs; return their count."""
    wake = np.flatnonzero(labels == _WAKE)
    if rate == 0 or wake.size == 0:
        return 0
    activity = 1 - quiet[wake]
    p = np.clip(rate * activity / max(activity.mean(), 1e-9), 0, 1)
    idx = wake[rng.random(wake.size) < p]
    k = idx.size
    if k == 0:
        return 0
    n_samples = out.shape[2]
    t = (np.arange(n_samples) / sfreq).astype(np.float32)
    centre = rng.uniform(0, n_samples / sfreq, k)[:, None]
    sd = rng.uniform(0.1, 0.6, k)[:, None]
    height = (rng.choice([-1.0, 1.0], k) * 700.0 * np.exp(0.5 * rng.standard_normal(k)))[:, None]
    bump = (height * np.exp(-0.5 * ((t - centre) / sd) ** 2)).astype(np.float32)
    out[idx, 0] += bump
    out[idx, 1] += bump * rng.uniform(0.6, 1.2, (k, 1)).astype(np.float32)
    out[idx, 2] *= np.float32(1.0) + 3.0 * np.abs(bump) / np.abs(height)
    return k
