"""The package's shape: no import cycles, and each layer imports only layers below it.

Every ``import`` statement in ``gaitmon/`` counts, lazy ones inside functions included. An edge goes
from a module to the module it names: ``from P import name`` points at ``P.name`` when that is a
module, else at ``P``. The layers are those of ``docs/architecture.md``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gaitmon"

#: Bottom to top. A module may import its own layer and the layers below it, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("gaitmon._version", "gaitmon.consts", "gaitmon.errors", "gaitmon.events"),
    ("gaitmon.core", "gaitmon.io", "gaitmon.sensors"),
    ("gaitmon.analysis", "gaitmon.sim"),
    ("gaitmon.stream",),
    ("gaitmon.session",),
    ("gaitmon.sources",),
    ("gaitmon.report", "gaitmon.validation"),
    ("gaitmon.engine",),
    ("gaitmon.dashboard",),
    ("gaitmon.cli", "gaitmon.__main__", "gaitmon"),
)


#: Compiled modules (setup.py), which have no .py file of their own.
COMPILED = ("gaitmon.core._detector", "gaitmon.session._framing", "gaitmon.io._csvblock")


def _modules() -> dict[str, Path | None]:
    out: dict[str, Path | None] = dict.fromkeys(COMPILED)
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module → the gaitmon modules its import statements name."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        if path is None:
            continue
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.append(sub if sub in modules else source)
            for target in targets:
                while target and target not in modules:  # "import a.b.c" of a module a.b.c
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> int:
    best, level = -1, None
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), i
    assert level is not None, f"{module} is in no layer of tests/unit/test_architecture.py"
    return level


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_import_cycle_between_modules():
    assert _cycles(import_graph()) == []


def test_no_import_cycle_between_packages():
    graph = import_graph()
    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        packages.setdefault(_package(module), set()).update(
            _package(t) for t in targets if _package(t) != _package(module))
    for package in list(packages):
        packages.setdefault(package, set())
    for targets in list(packages.values()):
        for t in targets:
            packages.setdefault(t, set())
    assert _cycles(packages) == []


def test_layers_import_only_downwards():
    upward = [(module, target) for module, targets in import_graph().items() for target in targets
              if _layer(target) > _layer(module)]
    assert upward == []


def test_only_the_dashboard_imports_qt_and_only_the_ble_sources_import_bleak():
    qt, radio = [], []
    for name, path in _modules().items():
        if path is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for imported in names:
                if imported.split(".")[0] in ("PySide6", "pyqtgraph"):
                    qt.append(name)
                if imported.split(".")[0] == "bleak":
                    radio.append(name)
    assert {m for m in qt if not m.startswith("gaitmon.dashboard.")} == set()
    assert set(radio) <= {"gaitmon.sources.ble", "gaitmon.sources.virtual.backend"}  # the emulated bleak backend


def test_only_the_lsl_outlets_import_pylsl_and_only_when_asked():
    """The extra ``gaitmon[lsl]`` is optional: ``pylsl`` is imported in ``gaitmon.engine.lsl`` alone,
    inside a function (so the package imports without it)."""
    importers = {}
    for name, path in _modules().items():
        if path is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(imported.split(".")[0] == "pylsl" for imported in names):
                importers.setdefault(name, []).append(id(node) in top_level)
    assert importers == {"gaitmon.engine.lsl": [False]}
