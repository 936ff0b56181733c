"""The registry of feature families: name -> class, declared parameters and statistics.

A family file defines a :class:`~sleepstage.features.FeatureFamily` subclass and registers
it with the :func:`register_family` decorator; :class:`~sleepstage.features.EpochFeatures`
then computes it by name (``include=`` or ``families=``), and :data:`FAMILIES`,
:func:`column_families` and :func:`column_family_of` tell readers of the feature names
(``sleepstage.inspection``) which families and column families exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from ._engine import STATISTICS
from ._family import FeatureFamily

__all__ = [
    "FAMILIES",
    "LAYOUT_PARAMETERS",
    "FamilySpec",
    "column_families",
    "column_family_of",
    "register_family",
    "unregister_family",
]

#: Parameters every family shares with the composite extractor, which sets them itself.
LAYOUT_PARAMETERS: tuple[str, ...] = ("sfreq", "ch_names", "ch_types", "epoch_length")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

F = TypeVar("F", bound=type)


@dataclass(frozen=True)
class FamilySpec:
    """What the registry knows of one feature family.

    Attributes
    ----------
    name : str
        Name used in ``EpochFeatures(include=...)`` and ``EpochFeatures(families=...)``.
    cls : type
        The :class:`~sleepstage.features.FeatureFamily` subclass.
    parameters : tuple of str
        Its scientific parameters (its ``__init__`` parameters but the layout ones, which
        :class:`~sleepstage.features.EpochFeatures` passes itself).
    statistics : tuple of str
        Statistics over samples it declares (``cls.statistics``), computed for all families
        in one pass.
    column_families : tuple of str
        Column families of its output columns (``cls.column_families``), as reported by
        ``feature_families_``.
    """

    name: str
    cls: type
    parameters: tuple[str, ...]
    statistics: tuple[str, ...]
    column_families: tuple[str, ...]


_REGISTRY: dict[str, FamilySpec] = {}

#: Registered families by name, in registration order (a read-only live view).
FAMILIES: Mapping[str, FamilySpec] = MappingProxyType(_REGISTRY)


def register_family(name: str) -> Callable[[F], F]:
    """Class decorator registering a feature family under ``name``.

    Parameters
    ----------
    name : str
        Lower-case identifier (``[a-z][a-z0-9_]*``) unique among the registered families.

    Returns
    -------
    callable
        The decorator; it returns the class unchanged.

    Raises
    ------
    ValueError
        If ``name`` is malformed or taken by another class, or if the class declares
        unknown statistics or no column family.
    TypeError
        If the decorated object is not a :class:`~sleepstage.features.FeatureFamily`
        subclass.

    Examples
    --------
    >>> import numpy as np
    >>> from sleepstage.features import (
    ...     EpochFeatures, FeatureFamily, register_family, unregister_family)
    >>> @register_family("rms")
    ... class RMSFeatures(FeatureFamily):
    ...     column_families = ("time",)
    ...     statistics = ("variance",)
    ...     def __init__(self, *, sfreq=128.0, ch_names=None, ch_types=None,
    ...                  epoch_length=None):
    ...         super().__init__(sfreq=sfreq, ch_names=ch_names, ch_types=ch_types,
    ...                          epoch_length=epoch_length)
    ...     def _feature_table(self, ch_names, ch_types):
    ...         return [(ch, "std", "time") for ch in ch_names]
    ...     def _fill(self, batch, out):
    ...         out[:] = np.sqrt(batch.variance)
    >>> X = np.ones((2, 3, 512), dtype=np.float32)
    >>> EpochFeatures(include=("rms",)).fit(X).get_feature_names_out().tolist()
    ['eeg1_std', 'eeg2_std', 'emg_std']
    >>> unregister_family("rms")
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            "A feature family name must be a lower-case identifier ([a-z][a-z0-9_]*), "
            f"but got {name!r}."
        )

    def decorate(cls: F) -> F:
        if not (isinstance(cls, type) and issubclass(cls, FeatureFamily)):
            raise TypeError(
                f"register_family({name!r}) decorates FeatureFamily subclasses, got {cls!r}."
            )
        known = _REGISTRY.get(name)
        if known is not None and _qualified(known.cls) != _qualified(cls):
            raise ValueError(
                f"The feature family name {name!r} is already registered by "
                f"{_qualified(known.cls)}; choose another name for {_qualified(cls)} (or "
                "unregister_family the first)."
            )
        statistics = tuple(cls.statistics)
        unknown = sorted(set(statistics) - set(STATISTICS))
        if unknown:
            raise ValueError(
                f"{cls.__name__} declares unknown statistics {unknown}; the batch computes "
                f"{list(STATISTICS)}."
            )
        column_families = tuple(cls.column_families)
        if not column_families or not all(isinstance(c, str) and c for c in column_families):
            raise ValueError(
                f"{cls.__name__} must declare its column families as a non-empty tuple of "
                f"str (class attribute 'column_families'), got {cls.column_families!r}."
            )
        parameters = tuple(p for p in cls._get_param_names() if p not in LAYOUT_PARAMETERS)
        _REGISTRY[name] = FamilySpec(
            name=name, cls=cls, parameters=parameters, statistics=statistics,
            column_families=column_families,
        )
        return cls

    return decorate


def unregister_family(name: str) -> None:
    """Remove the family ``name`` from the registry (``KeyError`` if it is not there)."""
    if name not in _REGISTRY:
        raise KeyError(f"No feature family {name!r} is registered; known: {list(_REGISTRY)}.")
    del _REGISTRY[name]


def column_families() -> tuple[str, ...]:
    """Column families of every registered family, in registration order, each once.

    Examples
    --------
    >>> sorted(column_families())
    ['band_power', 'emg', 'hjorth', 'spectral_shape', 'time']
    """
    return tuple(dict.fromkeys(c for spec in _REGISTRY.values() for c in spec.column_families))


def column_family_of(feature: str) -> str | None:
    """Column family of a feature name without its channel (``"theta_relpower"``), or None.

    Asks every registered family (``FeatureFamily.column_family_of``); None when no family
    recognises the name.

    Examples
    --------
    >>> column_family_of("theta_relpower"), column_family_of("hjorth_mobility")
    ('band_power', 'hjorth')
    >>> column_family_of("theta_relpower__mean_c15") is None
    True
    """
    for spec in _REGISTRY.values():
        family = spec.cls.column_family_of(feature)
        if family is not None:
            return family
    return None


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
