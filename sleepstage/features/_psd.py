"""Where model files written before the feature engine moved find the PSD plan.

Fitted spectral and EMG families hold a :class:`~sleepstage.features._engine.PSDPlan`
(``psd_plan_``), and a model file records its class by module path: up to version 0.1.0 that
path was ``sleepstage.features._psd``. Model files trust a class only in the module that
defines it, so this module defines the old name as a subclass of the plan, without fields or
methods of its own: a file written before the move loads and predicts as before (its
families share one PSD as they did, their plans being of one class), and a refit pipeline
holds plans of the engine's class again. Remove with the next major version, whose model
files refuse those of 0.x anyway.
"""

from __future__ import annotations

from ._engine import PSDPlan as _EnginePSDPlan

__all__ = ["PSDPlan"]


class PSDPlan(_EnginePSDPlan):
    """The PSD plan under its module path before version 0.2 (model files only)."""

    __slots__ = ()
