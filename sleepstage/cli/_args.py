"""Shared argument handling: errors, ``key=value`` settings, parameter grids."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DataError",
    "UsageError",
    "add_subcommand",
    "example_epilog",
    "parse_assignment",
    "parse_grid",
    "parse_value",
    "resolve_param",
    "safe_name",
    "split_list",
]

logger = logging.getLogger("sleepstage.cli")

#: Keyword arguments of ``make_staging_pipeline`` that ``--set`` may give (the layout comes
#: from the data).
FACTORY_KEYS = ("plain", "scaler", "context", "smoothing", "features", "random_state")


class UsageError(Exception):
    """The command line itself is wrong (exit status 2)."""


class DataError(Exception):
    """The data, model or files do not allow the command to run (exit status 1)."""


def example_epilog(*lines: str) -> str:
    """The 'example' block shown at the end of a subcommand's ``--help``."""
    return "example:\n" + "\n".join(f"  {line}" for line in lines)


def add_subcommand(subparsers, name: str, parents, *, help: str, description: str,
                   examples: tuple[str, ...]) -> argparse.ArgumentParser:
    """A subcommand parser whose ``--help`` ends with ``examples`` (lines kept as written)."""
    return subparsers.add_parser(
        name, parents=parents, help=help, description=description,
        epilog=example_epilog(*examples), formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def parse_value(text: str) -> Any:
    """Turn a command-line value into a Python value.

    Integers and floats (including ``1e-3``) become numbers; ``true``/``false``, ``null``/
    ``none``, ``[1, 2]`` and ``{a: 1}`` are read as YAML; anything else stays a string.
    """
    text = text.strip()
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text.lower() in ("none", "null", "~"):
        return None
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if value is None else value


def split_list(text: str) -> list[str]:
    """Split ``"a,b,[1, 2]"`` on top-level commas (not inside brackets or braces)."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_assignment(text: str, option: str = "--set") -> tuple[str, str]:
    """Split ``key=value`` (raises ``UsageError`` naming the option otherwise)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"{option} expects key=value, got {text!r}.")
    return key, value


def resolve_param(estimator, key: str) -> str:
    """Full ``get_params`` name of ``key``: exact, else the unique name ending in ``__key``.

    Short names make settings readable: ``num_leaves`` stands for
    ``classifier__estimator__num_leaves`` when the classifier is smoothed.
    """
    params = estimator.get_params(deep=True)
    if key in params:
        return key
    candidates = [name for name in params if name.endswith(f"__{key}")]
    if len(candidates) > 1:
        preferred = [c for c in candidates if c.startswith("classifier__")]
        if len(preferred) == 1:
            return preferred[0]
        raise UsageError(
            f"Parameter {key!r} is ambiguous: it could be {', '.join(sorted(candidates))}. "
            "Give the full name."
        )
    if not candidates:
        known = sorted(n for n in params if "__" in n and not n.endswith("__steps"))
        shown = ", ".join(known[:25]) + (", ..." if len(known) > 25 else "")
        raise UsageError(f"Unknown pipeline parameter {key!r}. Known parameters: {shown}.")
    return candidates[0]


def parse_grid(
    assignments: Sequence[str] | None, grid_file: str | None, estimator
) -> list[dict[str, list]]:
    """Parameter grid(s) from ``--grid key=v1,v2`` options and/or a YAML/JSON file.

    The file holds a mapping ``{param: [values, ...]}`` or a list of such mappings (several
    grids, as in scikit-learn's ``param_grid``). Parameter names may be short (see
    :func:`resolve_param`).
    """
    grids: list[dict[str, list]] = []
    if grid_file is not None:
        import yaml

        path = Path(grid_file)
        if not path.is_file():
            raise DataError(f"Grid file {path} does not exist.")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DataError(f"Could not parse the grid file {path}: {exc}") from exc
        loaded = [loaded] if isinstance(loaded, Mapping) else loaded
        if not isinstance(loaded, list) or not all(isinstance(g, Mapping) for g in loaded):
            raise DataError(f"The grid file {path} must hold a mapping param -> list of values "
                            "(or a list of such mappings).")
        for grid in loaded:
            grids.append({str(k): v if isinstance(v, list) else [v] for k, v in grid.items()})
    if assignments:
        command_line: dict[str, list] = {}
        given: dict[str, str] = {}  # full parameter name -> the --grid text that set it
        for text in assignments:
            key, values = parse_assignment(text, "--grid")
            full_key = resolve_param(estimator, key)
            if full_key in given:
                raise UsageError(
                    f"--grid {given[full_key]!r} and --grid {text!r} both set {full_key!r}; "
                    "give each parameter once, with all its values (--grid KEY=V1,V2)."
                )
            given[full_key] = text
            command_line[full_key] = [parse_value(v) for v in split_list(values)]
            if not command_line[full_key]:
                raise UsageError(f"--grid {text!r} gives no values.")
        if grids:
            merged = []
            for grid in grids:
                resolved_grid = _resolve_grid_keys(grid, estimator, "the grid file")
                overridden = sorted(set(resolved_grid) & set(command_line))
                if overridden:
                    logger.warning("--grid replaces the values of %s given in the grid file.",
                                   ", ".join(map(repr, overridden)))
                merged.append({**resolved_grid, **command_line})
            grids = merged
        else:
            grids = [command_line]
    if not grids:
        raise UsageError("grid-search needs a grid: --grid key=v1,v2 or --grid-file FILE.")
    resolved = []
    for grid in grids:
        if not grid:
            raise DataError("The parameter grid is empty.")
        for key, values in grid.items():
            if not values:
                raise DataError(f"The grid gives no values for {key!r}.")
        resolved.append(_resolve_grid_keys(grid, estimator, "the grid file"))
    return resolved


def _resolve_grid_keys(grid: Mapping[str, list], estimator, source: str) -> dict[str, list]:
    """``grid`` with full parameter names; two keys naming one parameter are an error."""
    full: dict[str, list] = {}
    names: dict[str, str] = {}
    for key, values in grid.items():
        full_key = resolve_param(estimator, key)
        if full_key in names:
            raise UsageError(
                f"{source} gives {names[full_key]!r} and {key!r}, which both name "
                f"{full_key!r}; give each parameter once."
            )
        names[full_key] = key
        full[full_key] = list(values)
    return full


def safe_name(value: Any) -> str:
    """A file-name-safe version of a recording id."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).strip("._")
    return name or "recording"


def build_pipeline(model: str, settings: Sequence[str] | None, data, seed: int, *,
                   quiet: bool = False):
    """``make_staging_pipeline`` for the data's layout, with ``--set key=value`` applied.

    Keys among :data:`FACTORY_KEYS` (``smoothing``, ``context``, ...) go to
    ``make_staging_pipeline``; every other key is a pipeline parameter, given in full
    (``classifier__estimator__num_leaves``) or by its unique short name (``num_leaves``).
    With ``quiet``, the neural models (``lstm``, ``cnn``) get ``verbose=0`` so that skorch
    prints no per-epoch table (an explicit ``--set verbose=...`` still wins).

    Returns
    -------
    (Pipeline, dict)
        The unfitted pipeline and the settings as applied (full names).
    """
    from ..pipelines import make_staging_pipeline

    factory: dict[str, Any] = {"random_state": seed}
    later: dict[str, Any] = {}
    for text in settings or []:
        key, value = parse_assignment(text, "--set")
        if key in ("sfreq", "ch_names", "ch_types", "model"):
            raise UsageError(f"--set {key}=... is not allowed: the layout comes from the data "
                             "and the model from --pipeline.")
        (factory if key in FACTORY_KEYS else later)[key] = parse_value(value)
    pipeline = make_staging_pipeline(model, **data.layout(), **factory)
    explicit = any(key == "verbose" or key.endswith("__verbose") for key in later)
    silenced = silence_neural(pipeline) if quiet and not explicit else {}
    applied = {resolve_param(pipeline, key): value for key, value in later.items()}
    pipeline.set_params(**applied)
    return pipeline, {**factory, **silenced, **applied}


def silence_neural(pipeline) -> dict[str, Any]:
    """Set ``verbose=0`` on every neural classifier inside ``pipeline`` (for ``--quiet``).

    Used for new pipelines (:func:`build_pipeline`) and for those from a model file.
    Returns the parameters that were set.
    """
    quiet = {f"{prefix}verbose": 0 for prefix in neural_classifiers(pipeline)}
    pipeline.set_params(**quiet)
    return quiet


def neural_classifiers(pipeline) -> dict[str, Any]:
    """The neural classifiers in ``pipeline`` (or the pipeline itself), by parameter prefix.

    Keys are ``""`` for the pipeline itself and ``"<name>__"`` for a nested estimator, so
    that ``f"{prefix}verbose"`` names its parameter.
    """
    torch_models = sys.modules.get("sleepstage.models._torch")
    if torch_models is None:  # never imported: the pipeline holds no neural model
        return {}
    candidates = {"": pipeline, **pipeline.get_params(deep=True)}
    return {f"{name}__" if name else "": value for name, value in candidates.items()
            if isinstance(value, torch_models.TorchClassifierBase)}


def apply_settings(pipeline, settings: Sequence[str] | None) -> dict[str, Any]:
    """Apply ``--set`` to an existing pipeline (parameters only); returns what was set."""
    applied = {}
    for text in settings or []:
        key, value = parse_assignment(text, "--set")
        applied[resolve_param(pipeline, key)] = parse_value(value)
    pipeline.set_params(**applied)
    return applied
