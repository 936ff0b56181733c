"""The package's layout read from its source with :mod:`ast`: the graph of imports between its
modules, the imports that reach into another subpackage's private module, and each package's
``__all__``.

``tests/test_layout.py`` asserts the rules on ``sleepstage`` and tests this checker on small
synthetic module trees. Nothing here imports the package being checked, except
:func:`missing_public_names` for a package that serves names lazily (a module-level
``__getattr__``, PEP 562), which no static reading can see.

Run ``python tests/_import_graph.py [PACKAGE_FOLDER]`` to print every violation (of
``sleepstage/`` by default).

Rules
-----
Import graph
    One edge per ``import`` / ``from ... import`` statement anywhere in a module (module level
    or inside a function), relative imports resolved, towards the most specific module of the
    package it names (``from pkg import _mod`` is an edge to ``pkg._mod``; ``from pkg import
    name`` to ``pkg``, the importer's own package included: a child taking a name from the
    ``__init__`` that imports it closes a cycle). Importing ``a.b.c`` also runs the ``__init__``
    of every package on the way that the importer is not itself inside, so those packages are
    targets as well (marked *implicit*). Imports under ``if TYPE_CHECKING:`` never run and are
    left out of the cycle check, as are a module's imports of itself. Dynamic imports
    (``importlib.import_module``, as in the lazy ``__getattr__`` of a package) and imports of
    modules that do not exist are not edges.
Rooms
    The same graph between subpackages and top-level modules (``root.features`` stands for
    everything below it) has no cycle either: data flows one way between them.
Private modules
    ``root.a._b`` (any module whose first private component is ``_b`` in package ``root.a``)
    may only be imported from inside ``root.a``. Private modules right below the root
    (``root._internal``, ``root._version``) are the shared seam and may be imported from
    anywhere in the package.
Public API
    Every public package (no private component in its dotted name, the root included)
    declares ``__all__`` as a literal list or tuple of strings, and each of those names is
    bound in its ``__init__`` (import, ``def``, ``class``, assignment) or is one of its
    submodules; a package with a module-level ``__getattr__`` is asked, once imported, for the
    names it does not bind.
"""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    """One edge of the import graph: ``source`` imports ``target`` at ``path:line``."""

    source: str
    target: str
    path: Path
    line: int
    implicit: bool = False  # a package's __init__ run on the way to the named module
    type_checking: bool = False  # under ``if TYPE_CHECKING:``: never runs

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module of the package in folder ``root``.

    A package is named after its ``__init__.py``; folders without one are not packages and
    are skipped, with everything below them.
    """
    root = Path(root)
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        parts = list(relative.parts)
        folders = [root.parent.joinpath(*parts[:i]) for i in range(1, len(parts))]
        if not all((folder / "__init__.py").is_file() for folder in folders):
            continue
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """``id`` of every node inside the body of an ``if TYPE_CHECKING:`` block."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
        if name == "TYPE_CHECKING":
            for statement in node.body:
                inside.update(id(child) for child in ast.walk(statement))
    return inside


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _named_targets(node: ast.AST, module: str, is_package: bool,
                   modules: dict[str, Path]) -> Iterator[str]:
    """The package's modules one import statement names (before adding the implicit ones)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in modules)
        return
    if node.level:  # relative: from the module's package, up ``level - 1`` packages
        package = module.split(".") if is_package else module.split(".")[:-1]
        if node.level - 1 > len(package) - 1:
            return  # beyond the top-level package: not ours
        base = package[: len(package) - (node.level - 1)]
        stem = ".".join([*base, *([node.module] if node.module else [])])
    else:
        stem = node.module or ""
    for alias in node.names:
        if f"{stem}.{alias.name}" in modules:
            yield f"{stem}.{alias.name}"  # ``from pkg import submodule``
        elif stem in modules:
            yield stem


def imports(root: Path) -> list[Import]:
    """Every import between the modules of the package in folder ``root``."""
    modules = module_names(root)
    edges: list[Import] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        hidden = _type_checking_nodes(tree)
        own = {module, *_ancestors(module)}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            named = dict.fromkeys(_named_targets(node, module, _is_package(path), modules))
            implicit = dict.fromkeys(name for target in named for name in _ancestors(target)
                                     if name not in own and name not in named)
            edges += [Import(module, name, path, node.lineno, implicit=name in implicit,
                             type_checking=id(node) in hidden)
                      for name in [*implicit, *named]]
    return edges


def import_graph(edges: list[Import]) -> dict[str, dict[str, Import]]:
    """source -> {target: the first import making that edge}, for the edges that run."""
    graph: dict[str, dict[str, Import]] = {}
    for edge in edges:
        if edge.type_checking or edge.source == edge.target:
            continue
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, {}):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * (len(graph) + 100)))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(components)


def shortest_cycle(graph: dict[str, dict[str, Import]], component: list[str]) -> list[Import]:
    """A shortest cycle through the first node of ``component``, as its import edges."""
    start, members = component[0], set(component)
    previous: dict[str, tuple[str, Import]] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target, edge in sorted(graph.get(node, {}).items()):
                if target not in members or target in previous:
                    continue
                previous[target] = (node, edge)
                if target == start:
                    cycle, step = [], start
                    while True:
                        step, edge = previous[step]
                        cycle.insert(0, edge)
                        if step == start:
                            return cycle
                following.append(target)
        frontier = following
    raise ValueError(f"no cycle through {start!r} in the component {component}")


def cycles(root: Path) -> list[list[Import]]:
    """One shortest cycle of imports per strongly connected component of the package."""
    graph = import_graph(imports(root))
    return [shortest_cycle(graph, component) for component in strongly_connected(graph)]


def room(module: str) -> str:
    """The subpackage or top-level module ``module`` belongs to (``root.features``)."""
    return ".".join(module.split(".")[:2])


def room_graph(edges: list[Import]) -> dict[str, dict[str, Import]]:
    """room -> {room it imports: the first import making that edge}, for the edges that run."""
    graph: dict[str, dict[str, Import]] = {}
    for edge in edges:
        source, target = room(edge.source), room(edge.target)
        if edge.type_checking or source == target:
            continue
        known = graph.setdefault(source, {}).setdefault(target, edge)
        if known.implicit and not edge.implicit:  # show the import as written
            graph[source][target] = edge
    return graph


def room_cycles(root: Path) -> list[list[Import]]:
    """One shortest cycle between subpackages (and top-level modules) per component."""
    graph = room_graph(imports(root))
    return [shortest_cycle(graph, component) for component in strongly_connected(graph)]


def describe_room_cycle(cycle: list[Import]) -> str:
    """``a -> b (a._x imports b._y at a/_x.py:3) -> a (...)`` for one cycle of rooms."""
    steps = [room(cycle[0].source)]
    steps += [f"{room(edge.target)} ({edge.source} imports {edge.target} at {edge.where()})"
              for edge in cycle]
    return " -> ".join(steps)


def describe_cycle(cycle: list[Import]) -> str:
    """``a -> b (a.py:3) -> a (b.py:7, implicit)`` for one cycle."""
    steps = [cycle[0].source]
    for edge in cycle:
        notes = [edge.where(), *(["implicit"] if edge.implicit else [])]
        steps.append(f"{edge.target} ({', '.join(notes)})")
    return " -> ".join(steps)


def private_owner(target: str) -> str | None:
    """The package owning ``target``'s first private component, or None if it has none."""
    parts = target.split(".")
    for i, part in enumerate(parts[1:], start=1):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def private_imports(root: Path) -> list[Import]:
    """Imports of another subpackage's private module (explicit imports only)."""
    package = Path(root).name
    found = []
    for edge in imports(root):
        owner = private_owner(edge.target)
        if edge.implicit or owner is None or owner == package:
            continue  # the private seam right below the root is open to the whole package
        if edge.source != owner and not edge.source.startswith(owner + "."):
            found.append(edge)
    return found


def _literal_all(tree: ast.Module) -> list[str] | None:
    """The names of a module-level ``__all__ = [...]`` (None if there is no literal one)."""
    names = None
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign))
                   else [])
        if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            continue
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            return None
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            return None
        names = [*(names or []), *value] if isinstance(node, ast.AugAssign) else list(value)
    return names


def _bound_names(tree: ast.Module) -> set[str]:
    """Names bound at module level, outside ``if TYPE_CHECKING:`` blocks."""
    hidden = _type_checking_nodes(tree)
    bound: set[str] = set()
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if id(node) in hidden:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
            continue
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                bound.add(child.id)
        for field in ("body", "orelse", "finalbody", "handlers"):
            pending.extend(getattr(node, field, []))
    return bound


def public_packages(root: Path) -> dict[str, Path]:
    """Dotted name -> ``__init__.py`` of every package without a private component."""
    return {name: path for name, path in module_names(root).items()
            if _is_package(path) and private_owner(name) is None}


@dataclass(frozen=True)
class PublicAPI:
    """What a package's ``__init__`` declares, read from its source."""

    package: str
    path: Path
    all: list[str] | None  # None: no literal __all__
    missing: list[str]  # names in __all__ neither bound nor submodules (statically)
    lazy: bool  # a module-level __getattr__ may serve the missing names


def public_api(root: Path) -> list[PublicAPI]:
    """The ``__all__`` of every public package of ``root``, and the names it lacks."""
    modules = module_names(root)
    found = []
    for package, path in public_packages(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = _literal_all(tree)
        bound = _bound_names(tree)
        missing = [name for name in names or []
                   if name not in bound and f"{package}.{name}" not in modules]
        found.append(PublicAPI(package, path, names, missing, lazy="__getattr__" in bound))
    return found


def missing_public_names(api: PublicAPI) -> list[str]:
    """The names of ``api.missing`` that importing the package does not serve either.

    For a package with a module-level ``__getattr__`` (lazy names); the package must be
    importable (its root's parent on ``sys.path``). Deprecated aliases warn when served.
    """
    module = importlib.import_module(api.package)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [name for name in api.missing if not hasattr(module, name)]


def report(root: Path) -> list[str]:
    """Every violation of the rules, one line each (imports a package with lazy names)."""
    lines = [f"cycle: {describe_cycle(cycle)}" for cycle in cycles(root)]
    lines += [f"cycle between subpackages: {describe_room_cycle(cycle)}"
              for cycle in room_cycles(root)]
    lines += [f"private import: {edge.source} imports {edge.target} ({edge.where()})"
              for edge in private_imports(root)]
    for api in public_api(root):
        missing = missing_public_names(api) if api.lazy and api.missing else api.missing
        if api.all is None:
            lines.append(f"no literal __all__: {api.package} ({api.path})")
        elif missing:
            lines.append(f"__all__ names not defined: {api.package}: {', '.join(missing)}")
    return lines


if __name__ == "__main__":
    package_root = (Path(sys.argv[1]) if len(sys.argv) > 1
                    else Path(__file__).resolve().parents[1] / "sleepstage").resolve()
    sys.path.insert(0, str(package_root.parent))  # lazy names: the package checked, imported
    violations = report(package_root)
    print("\n".join(violations) or "no violations")
    sys.exit(1 if violations else 0)
