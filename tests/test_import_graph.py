"""The import graph of our four packages: no cycles, and arrows only point down.

docs/architecture.md draws ``web → sms → dispatch → routing``. Nothing enforces that at run time:
a cycle still imports while one side's import sits inside a function, and a stray ``import flask``
in the domain works as long as Flask is installed. So the graph is read from the source with
:mod:`ast` (never by importing it, which would hide what lazy imports do): every ``import`` and
``from … import`` anywhere in a file, inside functions and ``TYPE_CHECKING`` blocks included,
relative imports resolved, ``from package import name`` counted as an import of the submodule when
``name`` is one. An edge goes to the module named, not to its parent packages (Python runs those
too, but a package's ``__init__`` importing its own submodules is not a cycle of ours).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dispatch", "routing", "web", "sms")
#: Third-party packages the domain must not import (the web and SMS edges' libraries).
EDGE_LIBRARIES = ("flask", "twilio", "folium")


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module: ours (dotted path of a file) or a third-party top-level name
    line: int


def module_files() -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file of our packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _ours(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules (``a.b.C`` names class C of a.b)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    """Every import in the file, resolved to our module or to a third-party top-level name."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            target = _ours(name, modules) or name.split(".")[0]
            if target != module:
                yield Import(module, target, node.lineno)


def graph() -> tuple[dict[str, set[str]], list[Import]]:
    """Edges between our modules, and every import (ours and third-party) for the layering rules."""
    modules = module_files()
    every = [imp for module, path in modules.items() for imp in imports_of(module, path, modules)]
    edges: dict[str, set[str]] = {module: set() for module in modules}
    for imp in every:
        if imp.target in modules:
            edges[imp.source].add(imp.target)
    return edges, every


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, …, a]``) per strongly connected component of more than one module
    (Tarjan's algorithm, iterative: the graph has hundreds of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return [_a_cycle(component, edges) for component in components]


def _a_cycle(component: set[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first back to it)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in component {sorted(component)}")


def test_no_import_cycle_among_our_modules() -> None:
    edges, _ = graph()
    found = [" → ".join(cycle) for cycle in cycles(edges)]
    assert found == [], "import cycles:\n" + "\n".join(found)


def _layer(module: str) -> str:
    return module.split(".")[0]


def test_imports_point_down_the_layers() -> None:
    """routing imports nothing of ours; dispatch no web, sms, Flask, Twilio or folium; sms no web."""
    _, every = graph()
    forbidden = {
        "routing": {"dispatch", "web", "sms"},
        "dispatch": {"web", "sms", *EDGE_LIBRARIES},
        "sms": {"web"},
    }
    violations = []
    for imp in every:
        layer, target = _layer(imp.source), _layer(imp.target)
        banned = forbidden.get(layer, set())
        if target in banned or (layer == "dispatch" and target.startswith("flask_")):
            violations.append(f"{imp.source} (line {imp.line}) imports {imp.target}")
    assert violations == [], "layering violations:\n" + "\n".join(violations)


def _path_segments(node: ast.expr) -> tuple[bool, list[str]]:
    """For ``a / "b" / "c"``: whether ``__file__`` is in it, and its string segments in order."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left_file, left = _path_segments(node.left)
        right_file, right = _path_segments(node.right)
        return left_file or right_file, left + right
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return False, [part for part in node.value.split("/") if part]
    return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node)), []


def test_no_package_reads_another_packages_files_by_path() -> None:
    """An import the graph cannot see: ``Path(__file__).parents[2] / "web" / "static"`` makes the
    domain depend on the web layer's files. A package reads only its own (package data)."""
    violations = []
    for module, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
                continue
            from_file, segments = _path_segments(node)
            others = set(PACKAGES) - {_layer(module)}
            if from_file and segments and segments[0] in others:
                violations.append(f"{module} (line {node.lineno}) reads {'/'.join(segments)}")
    assert violations == [], "reads of another package's files:\n" + "\n".join(sorted(set(violations)))


def test_the_graph_reader_sees_lazy_relative_and_submodule_imports(tmp_path: Path) -> None:
    """The reader itself: an import inside a function, a relative import and ``from pkg import
    submodule`` are all edges, and a cycle made of them is found and named."""
    (tmp_path / "pkg").mkdir()
    files = {
        "pkg": tmp_path / "pkg" / "__init__.py",
        "pkg.a": tmp_path / "pkg" / "a.py",
        "pkg.b": tmp_path / "pkg" / "b.py",
        "pkg.c": tmp_path / "pkg" / "c.py",
    }
    files["pkg"].write_text("", encoding="utf-8")
    files["pkg.a"].write_text("from . import b\n", encoding="utf-8")
    files["pkg.b"].write_text("def f():\n    from pkg.c import thing\n", encoding="utf-8")
    files["pkg.c"].write_text("from pkg import a\nimport flask\n", encoding="utf-8")
    edges = {module: {imp.target for imp in imports_of(module, path, files) if imp.target in files}
             for module, path in files.items()}
    assert edges == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c"}, "pkg.c": {"pkg.a"}}
    assert cycles(edges) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert "flask" in {imp.target for imp in imports_of("pkg.c", files["pkg.c"], files)}
