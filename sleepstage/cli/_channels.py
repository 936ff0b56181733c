"""Channels of loaded data: the ``--channel`` types, picking, ``--rename``, a model's layout."""

from __future__ import annotations

import dataclasses

from ._args import DataError

__all__ = ["match_model", "pick_channels", "rename_channels", "typed_channels"]


def typed_channels(spec: dict[str, str | None]) -> dict[str, str]:
    """``--channel`` entries with a type each: the one given, else the one the name states."""
    from ..data import channel_type

    return {name: ch_type or channel_type(name) for name, ch_type in spec.items()}


def pick_channels(data, names, types=None, *, source: str, hint: str = ""):
    """``data`` with only the channels ``names``, in that order (with ``types`` if given)."""
    missing = [c for c in names if c not in data.ch_names]
    if missing:
        raise DataError(
            f"{source}: channel(s) {missing} not found; it has {list(data.ch_names)}.{hint}"
        )
    index = [data.ch_names.index(c) for c in names]
    if types is None:
        types = [data.ch_types[i] for i in index]
    return dataclasses.replace(data, X=data.X[:, index, :], ch_names=tuple(names),
                               ch_types=tuple(types))


def rename_channels(data, renames: dict[str, str]):
    """``data`` with its channels renamed by ``renames`` (``{old: new}``)."""
    if not renames:
        return data
    names = tuple(renames.get(c, c) for c in data.ch_names)
    if len(set(names)) != len(names):
        raise DataError(f"--rename makes channel names collide: {list(names)}.")
    return dataclasses.replace(data, ch_names=names)


def match_model(data, model, *, source: str):
    """Reorder/select the model's channels by name, check epoch length, resample."""
    from ..data import resample_epochs

    if model.ch_names:
        missing = [c for c in model.ch_names if c not in data.ch_names]
        hint = ""
        if missing:
            hint = (" The model needs it; map a recording channel to the model's name with "
                    f"--rename, e.g. --rename 'RECORDING NAME={missing[0]}'.")
        data = pick_channels(data, list(model.ch_names), model.ch_types, source=source,
                             hint=hint)
    if model.epoch_length and abs(data.epoch_length - float(model.epoch_length)) > 1e-6:
        raise DataError(f"{source} has {data.epoch_length:g}-s epochs but the model was fitted "
                        f"on {float(model.epoch_length):g}-s epochs.")
    if model.sfreq and abs(data.sfreq - float(model.sfreq)) > 1e-9:
        data = resample_epochs(data, float(model.sfreq))
    return data
