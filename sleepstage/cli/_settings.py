"""Checking ``--set`` (and ``--grid``) before any recording is read.

A misspelt or invalid setting should cost a second, not the minutes of loading recordings
and extracting features after which the fit would fail. :func:`check_settings` builds the
pipeline for a stand-in layout (a few minutes of synthetic data shaped like the reference
rodent layout, or like ``--sfreq`` / ``--epoch-length`` when given), applies the settings
and fits it on those epochs. Unknown names and invalid values are reported as usage errors
(exit status 2) naming the setting. Settings that are valid in general but not for the
real data's layout (e.g. a band above the real Nyquist frequency) are still caught when
the real pipeline is fitted.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from ._args import UsageError, parse_assignment
from ._pipeline import build_pipeline, neural_classifiers

__all__ = ["check_feature_settings", "check_settings"]

logger = logging.getLogger("sleepstage.cli")

#: Length (hours) of each of the two stand-in synthetic recordings.
_STAND_IN_HOURS = 0.15


def _stand_in_data(args):
    """Two short synthetic recordings in the command's layout (the reference one by default)."""
    from ..data import make_synthetic

    sfreq = getattr(args, "sfreq", None) or 128.0
    epoch_length = getattr(args, "epoch_length", None) or 4.0
    hours = max(_STAND_IN_HOURS, 40 * epoch_length / 3600)
    try:
        return make_synthetic(2, hours=hours, sfreq=sfreq, epoch_length=epoch_length,
                              random_state=0, artefact_rate=0.0)
    except (ValueError, TypeError):  # a layout the generator cannot make: use the reference
        return make_synthetic(2, hours=_STAND_IN_HOURS, random_state=0, artefact_rate=0.0)


@contextmanager
def _hushed():
    """No warnings and no progress lines while the stand-in pipeline is fitted."""
    log = logging.getLogger("sleepstage")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def _shorten_neural(pipeline) -> None:
    """One training pass, silent and without early stopping, for every neural classifier.

    Their own parameter checks run first, so that an invalid ``max_epochs`` or
    ``validation_fraction`` is reported rather than replaced.
    """
    quick = {}
    for prefix, classifier in neural_classifiers(pipeline).items():
        classifier._check_common_params()
        quick.update({f"{prefix}max_epochs": 1, f"{prefix}verbose": 0,
                      f"{prefix}validation_fraction": 0.0})
    pipeline.set_params(**quick)


def _smoke_fit(model: str, settings: Sequence[str], data, seed: int) -> None:
    """Build the pipeline with ``settings`` for ``data`` and fit it (raises what fit raises)."""
    from ..parallel import limit_threads
    from ..pipelines import fit_with_groups

    with _hushed():
        pipeline, applied = build_pipeline(model, settings, data, seed, quiet=True)
        # one thread for every step (threads on a tiny fit cost more than they save),
        # except where the settings give n_jobs themselves
        pipeline, _ = limit_threads(pipeline, keep=list(applied))
        _shorten_neural(pipeline)
        fit_with_groups(pipeline, data.X, data.y, data.groups, exclude_artefacts=False)


def _describe(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_settings(model: str, settings: Sequence[str] | None, args: Any, *,
                   grid: Any = None) -> None:
    """Raise ``UsageError`` if ``--set`` (or ``--grid``) would fail, before data are loaded.

    Parameters
    ----------
    model : str
        ``--pipeline`` value.
    settings : sequence of str or None
        The ``--set KEY=VALUE`` texts.
    args : argparse.Namespace
        The command's arguments (``--sfreq``, ``--epoch-length``, ``--seed``).
    grid : callable, optional
        Called with the stand-in pipeline to check the parameter names of a grid
        (``--grid``), e.g. ``lambda pipeline: parse_grid(..., pipeline)``.

    Raises
    ------
    UsageError
        An unknown parameter name, a ``make_staging_pipeline`` setting it rejects, or a value the
        fit rejects; the message names the ``--set`` text at fault.
    """
    settings = list(settings or [])
    if not settings and grid is None:
        return
    for text in settings:
        parse_assignment(text, "--set")  # malformed text: reported as such
    with _hushed():
        data = _stand_in_data(args)
    seed = getattr(args, "seed", 0)
    try:
        with _hushed():
            pipeline, _ = build_pipeline(model, settings, data, seed, quiet=True)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--set: {_describe(exc)}") from exc
    if grid is not None:
        grid(pipeline)
    if not settings:
        return
    try:
        _smoke_fit(model, settings, data, seed)
    except Exception as exc:  # any failure is attributed below, or ignored
        failure = exc
    else:
        return
    try:  # does the pipeline without the settings fit the stand-in data at all?
        _smoke_fit(model, [], data, seed)
    except Exception as exc:  # the stand-in says nothing; the real fit will
        logger.debug("settings not checked: the default pipeline does not fit the stand-in "
                     "data (%s)", _describe(exc))
        return
    culprits = []
    for text in settings:
        try:
            _smoke_fit(model, [text], data, seed)
        except Exception:  # this setting alone fails
            culprits.append(text)
    shown = ", ".join(f"--set {text}" for text in (culprits or settings))
    what = "is not a valid setting" if len(culprits) == 1 else "are not valid settings"
    if not culprits:
        what = "are not valid together"
    raise UsageError(f"{shown} {what}: {_describe(failure)}") from failure


#: ``sleepstage features --set`` keys that the data give instead.
_LAYOUT_KEYS = ("sfreq", "ch_names", "ch_types", "epoch_length")


def check_feature_settings(settings: dict[str, Any], args: Any) -> None:
    """Raise ``UsageError`` if ``EpochFeatures`` rejects ``settings``, before data are loaded.

    The settings of ``sleepstage features --set`` are given to an
    :class:`~sleepstage.features.EpochFeatures` for a stand-in layout, which is fitted on
    and applied to two synthetic epochs.

    Parameters
    ----------
    settings : dict
        Parsed ``--set`` values (``batch_size`` included).
    args : argparse.Namespace
        The command's arguments (``--sfreq``, ``--epoch-length``).

    Raises
    ------
    UsageError
        A layout key, an unknown parameter or an invalid value.
    """
    from ..features import EpochFeatures

    given = [key for key in _LAYOUT_KEYS if key in settings]
    if given:
        raise UsageError(f"--set {given[0]}=... is not allowed: the channel layout and epoch "
                         "length come from the data (--sfreq and --epoch-length set them).")
    params = {key: value for key, value in settings.items() if key != "batch_size"}
    if not params:
        return
    with _hushed():
        data = _stand_in_data(args)
        layout = {key: value for key, value in data.layout().items() if key in _LAYOUT_KEYS}
        try:
            step = EpochFeatures(**layout, **params, n_jobs=1)
            step.fit(data.X[:2]).transform(data.X[:2])
        except (TypeError, ValueError) as exc:
            shown = ", ".join(f"--set {key}={value!r}" for key, value in params.items())
            raise UsageError(f"{shown}: {_describe(exc)}") from exc
