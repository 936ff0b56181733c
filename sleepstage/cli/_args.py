"""Shared argument handling: errors, ``key=value`` settings, parameter grids, file names."""

from __future__ import annotations

import argparse
import logging
import re
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
