"""The package's layout, read from its source (``tests/_import_graph.py``): no import cycle, no
import of another subpackage's private module, a ``_internal`` seam that imports nothing from
the subpackages, and an ``__all__`` whose names exist in every public package. The checker
itself is tested on small synthetic module trees. Also: scikit-learn's estimator checks run
from one registry."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest
from _import_graph import (
    Import,
    cycles,
    describe_cycle,
    describe_room_cycle,
    import_graph,
    imports,
    missing_public_names,
    private_imports,
    public_api,
    report,
    room_cycles,
)

PACKAGE = Path(__file__).resolve().parents[1] / "sleepstage"
SEAM = "sleepstage._internal"


def test_no_import_cycle():
    found = [describe_cycle(cycle) for cycle in cycles(PACKAGE)]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_no_import_cycle_between_subpackages():
    """Data flows one way between the rooms (``sleepstage.features`` and all below it, ...)."""
    found = [describe_room_cycle(cycle) for cycle in room_cycles(PACKAGE)]
    assert not found, "cycles between subpackages:\n" + "\n".join(found)


def test_no_import_of_another_subpackages_private_module():
    found = [f"{edge.source} imports {edge.target} ({edge.where()})"
             for edge in private_imports(PACKAGE)]
    assert not found, ("share through the subpackage's __init__ or sleepstage._internal:\n"
                       + "\n".join(found))


def test_the_internal_seam_imports_nothing_from_the_subpackages():
    found = [f"{edge.source} imports {edge.target} ({edge.where()})"
             for edge in imports(PACKAGE)
             if (edge.source == SEAM or edge.source.startswith(SEAM + "."))
             and not edge.target.startswith(SEAM) and edge.target != "sleepstage._version"]
    assert not found, "\n".join(found)


API = {api.package: api for api in public_api(PACKAGE)}


def test_every_public_subpackage_is_checked():
    assert {"sleepstage", "sleepstage.cli", "sleepstage.data", "sleepstage.features",
            "sleepstage.models", "sleepstage.pipelines"} <= set(API)


@pytest.mark.parametrize("package", sorted(API))
def test_public_package_declares_all(package):
    api = API[package]
    assert api.all is not None, f"{api.path} has no literal __all__ (a list of strings)"
    assert api.all, f"{package}.__all__ is empty"
    assert len(set(api.all)) == len(api.all), f"{package}.__all__ repeats a name"


@pytest.mark.parametrize("package", sorted(API))
def test_every_name_in_all_exists(package):
    api = API[package]
    missing = missing_public_names(api) if api.lazy else api.missing
    assert not missing, f"{package}.__all__ names what the package does not define: {missing}"


def test_estimator_checks_run_from_the_registry_only():
    """One ``parametrize_with_checks`` run over ``tests/_estimator_registry.py``; no copies."""
    tests = Path(__file__).resolve().parent
    users = sorted(
        path.name for path in tests.glob("*.py")
        if any(getattr(node, "id", getattr(node, "attr", None)) == "parametrize_with_checks"
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))))
    assert users == ["test_estimator_checks.py"]


# -- the checker, on synthetic trees ----------------------------------------------------------
def make_tree(base: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (path relative to ``base`` -> source) and return the top package."""
    for relative, source in files.items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    (top,) = {Path(relative).parts[0] for relative in files}
    return base / top


def edges(root: Path) -> set[tuple[str, str]]:
    return {(edge.source, edge.target) for edge in imports(root)}


def test_checker_resolves_absolute_and_relative_imports(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "from .sub import name\n",
        "pkg/top.py": ("import pkg.sub._private as p\nimport numpy\nimport pkg.gone\n"
                       "from .gone import x\n"),  # no module pkg.gone: no edge
        "pkg/sub/__init__.py": "name = 1\n",
        "pkg/sub/_private.py": "from . import name\nfrom .. import top\n",
        "pkg/sub/inner/__init__.py": "",
        "pkg/sub/inner/leaf.py": ("from ...top import x\nfrom .. import _private, name\n"
                                  "from ..inner import leaf\n"),
    })
    assert edges(root) == {
        ("pkg", "pkg.sub"),
        ("pkg.top", "pkg.sub"),  # the package's __init__ runs on the way: implicit
        ("pkg.top", "pkg.sub._private"),
        ("pkg.sub._private", "pkg.sub"),
        ("pkg.sub._private", "pkg.top"),
        ("pkg.sub.inner.leaf", "pkg.top"),
        ("pkg.sub.inner.leaf", "pkg.sub._private"),
        ("pkg.sub.inner.leaf", "pkg.sub"),
        ("pkg.sub.inner.leaf", "pkg.sub.inner.leaf"),
    }
    implicit = {(e.source, e.target) for e in imports(root) if e.implicit}
    assert implicit == {("pkg.top", "pkg.sub")}


def test_checker_finds_a_cycle_through_a_function_level_import(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import f\n",
        "pkg/b.py": "def f():\n    from .c import g\n    return g\n",
        "pkg/c.py": "from pkg import a\n",
        "pkg/d.py": "from . import a\n",  # leads into the cycle, is not part of it
    })
    (cycle,) = cycles(root)
    assert [edge.source for edge in cycle] == ["pkg.a", "pkg.b", "pkg.c"]
    assert cycle[-1].target == "pkg.a"
    assert describe_cycle(cycle) == (
        f"pkg.a -> pkg.b ({root / 'a.py'}:1) -> pkg.c ({root / 'b.py'}:2) "
        f"-> pkg.a ({root / 'c.py'}:1)")


def test_checker_reports_each_cycle_once(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n", "pkg/b.py": "from . import a\n",
        "pkg/c.py": "import pkg.d\n", "pkg/d.py": "import pkg.c\n",
        "pkg/e.py": "from . import e\n",  # importing itself is no cycle
    })
    found = [[edge.source for edge in cycle] for cycle in cycles(root)]
    assert found == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"]]


def test_checker_finds_a_cycle_between_subpackages(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "", "pkg/low/a.py": "def f():\n    from pkg.high.c import g\n",
        "pkg/high/__init__.py": "", "pkg/high/b.py": "from pkg.low import a\n",
        "pkg/high/c.py": "def g(): pass\n",
    })
    assert cycles(root) == []  # no module imports itself back, through others
    (cycle,) = room_cycles(root)
    assert describe_room_cycle(cycle) == (
        f"pkg.high -> pkg.low (pkg.high.b imports pkg.low.a at {root / 'high' / 'b.py'}:1) "
        f"-> pkg.high (pkg.low.a imports pkg.high.c at {root / 'low' / 'a.py'}:2)")


def test_checker_a_package_importing_its_children_is_no_cycle(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "from .feat import Thing\n",
        "pkg/feat/__init__.py": "from ._one import Thing\nfrom ._two import other\n",
        "pkg/feat/_one.py": "from ._two import other\nfrom pkg._seam import helper\n",
        "pkg/feat/_two.py": "other = 2\n",
        "pkg/_seam.py": "helper = 3\n",
    })
    assert cycles(root) == []
    assert private_imports(root) == []


def test_checker_a_package_init_on_the_way_closes_a_cycle(tmp_path):
    # a -> sub._x runs sub/__init__, which imports sub._y, which imports a
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.sub._x import f\n",
        "pkg/sub/__init__.py": "from ._x import f\nfrom ._y import g\n",
        "pkg/sub/_x.py": "def f(): pass\n",
        "pkg/sub/_y.py": "from ..a import f as g\n",
    })
    (cycle,) = cycles(root)
    assert [(edge.source, edge.target, edge.implicit) for edge in cycle] == [
        ("pkg.a", "pkg.sub", True), ("pkg.sub", "pkg.sub._y", False),
        ("pkg.sub._y", "pkg.a", False)]
    assert "implicit" in describe_cycle(cycle)


def test_checker_leaves_type_checking_imports_out_of_cycles(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": ("from typing import TYPE_CHECKING\nimport typing\n"
                     "if TYPE_CHECKING:\n    from .a import A\n"
                     "if typing.TYPE_CHECKING:\n    from pkg import a\n"),
    })
    assert cycles(root) == []
    hidden = {(e.source, e.target) for e in imports(root) if e.type_checking}
    assert hidden == {("pkg.b", "pkg.a")}
    assert ("pkg.b", "pkg.a") not in {
        (source, target) for source, targets in import_graph(imports(root)).items()
        for target in targets}


def test_checker_private_modules(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/_version.py": "v = 1\n",
        "pkg/_internal/__init__.py": "",
        "pkg/_internal/checks.py": "def check(): pass\n",
        "pkg/top.py": "from ._version import v\nfrom .one import _a\n",
        "pkg/one/__init__.py": "from ._a import f\n",
        "pkg/one/_a.py": "from pkg._internal.checks import check\ndef f(): pass\n",
        "pkg/one/deep/__init__.py": "",
        "pkg/one/deep/_b.py": "from .._a import f\n",  # inside pkg.one: allowed
        "pkg/two/__init__.py": "",
        "pkg/two/mod.py": ("def g():\n    from pkg.one._a import f\n"
                           "from pkg.one.deep._b import f\nfrom pkg.one import f\n"),
    })
    found = sorted((edge.source, edge.target, edge.line) for edge in private_imports(root))
    assert found == [("pkg.top", "pkg.one._a", 2), ("pkg.two.mod", "pkg.one._a", 2),
                     ("pkg.two.mod", "pkg.one.deep._b", 3)]


def test_checker_public_api(tmp_path):
    root = make_tree(tmp_path, {
        "pkg/__init__.py": ("from typing import TYPE_CHECKING\nfrom .sub import f as g\n"
                            "if TYPE_CHECKING:\n    from .sub import hidden\n"
                            "try:\n    import numpy as np\nexcept ImportError:\n    np = None\n"
                            "class C: pass\nCONST: int = 1\n"
                            "__all__ = ['C', 'CONST', 'g', 'np', 'sub', 'hidden', 'nowhere']\n"),
        "pkg/sub/__init__.py": "def f(): pass\n__all__ = sorted(['f'])\n",
        "pkg/none/__init__.py": "",
        "pkg/_private/__init__.py": "",  # not public: no __all__ needed
        "pkg/plus/__init__.py": "a = b = 1\n__all__ = ['a']\n__all__ += ['b']\n",
    })
    api = {found.package: found for found in public_api(root)}
    assert set(api) == {"pkg", "pkg.sub", "pkg.none", "pkg.plus"}
    assert api["pkg"].missing == ["hidden", "nowhere"] and not api["pkg"].lazy
    assert api["pkg.sub"].all is None and api["pkg.none"].all is None
    assert api["pkg.plus"].all == ["a", "b"] and api["pkg.plus"].missing == []
    assert report(root) == [
        "__all__ names not defined: pkg: hidden, nowhere",
        f"no literal __all__: pkg.none ({root / 'none' / '__init__.py'})",
        f"no literal __all__: pkg.sub ({root / 'sub' / '__init__.py'})",
    ]


@pytest.fixture
def importable(tmp_path, monkeypatch):
    """Put ``tmp_path`` on ``sys.path``; forget the modules imported from it afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_checker_asks_a_lazy_package_for_the_names_it_serves(importable):
    root = make_tree(importable, {
        "layout_lazy_pkg/__init__.py": (
            "import warnings\n__all__ = ['Eager', 'Lazy', 'Old', 'Gone']\nEager = 1\n"
            "def __getattr__(name):\n"
            "    if name == 'Old':\n"
            "        warnings.warn('Old is deprecated', FutureWarning)\n"
            "        return 3\n"
            "    if name == 'Lazy':\n        return 2\n"
            "    raise AttributeError(name)\n"),
    })
    (api,) = public_api(root)
    assert api.lazy and api.missing == ["Lazy", "Old", "Gone"]
    assert missing_public_names(api) == ["Gone"]


def test_import_edge_where():
    edge = Import("a", "b", Path("pkg/a.py"), 7)
    assert edge.where() == f"{Path('pkg/a.py')}:7"
