"""The service conventions (issue 12, ``dispatch/services/__init__.py``), checked on the source.

A use case takes its database, settings and clock from its caller and never reads the environment;
a step inside the caller's transaction has no twin that does the same in a transaction of its own.
The modules are read with :mod:`ast`, not imported, so the check costs nothing and sees every
function, private ones included.
"""

from __future__ import annotations

import ast
import zoneinfo
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The packages below the entry points whose functions must follow the conventions.
SERVICE_MODULES = sorted([*(REPO / "dispatch" / "services").glob("*.py"),
                          *(REPO / "dispatch" / "planning").glob("*.py")])
#: Everything below the entry points (CLI commands, the app factory, the scheduler's process).
BELOW_ENTRY_POINTS = sorted(
    path for package in ("dispatch", "sms", "routing", "web") for path in (REPO / package).rglob("*.py")
    if not (path.name in ("cli.py",) or path.name.endswith("_cli.py") or "migrations" in path.parts))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_the_modules_are_found() -> None:
    names = {p.name for p in SERVICE_MODULES}
    assert {"plans.py", "disruptions.py", "notify.py", "run.py"} <= names


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=_name)
def test_no_service_reads_the_environment(path: Path) -> None:
    """``settings_from_env()`` is for entry points: a service gets ``settings`` from its caller, so
    an SMS cancel and the console act with the same settings."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call):
            func = node.func
            name = (func.id if isinstance(func, ast.Name)
                    else func.attr if isinstance(func, ast.Attribute) else "")
            if name in ("settings_from_env", "getenv") or (name == "get" and _is_environ(func)):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and any(a.name == "settings_from_env" for a in node.names):
            found.append(f"line {node.lineno}: imports settings_from_env")
        elif isinstance(node, ast.Attribute) and node.attr == "environ":
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    assert not found, f"{_name(path)} reads the environment: {found}"


def _is_environ(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and ast.unparse(func.value).endswith("environ")


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=_name)
def test_no_function_has_an_in_transaction_twin(path: Path) -> None:
    """No public ``x`` beside an ``x_in`` / ``_x_in`` doing the same in the caller's transaction:
    a step that runs inside a transaction takes ``session`` and is the only way to do it."""
    functions = {node.name for node in _tree(path).body
                 if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    twins = sorted(f"{name} / {twin}" for name in functions if not name.startswith("_")
                   for twin in (f"{name}_in", f"_{name}_in") if twin in functions)
    assert not twins, f"{_name(path)} has transaction twins: {twins}"


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=_name)
def test_nothing_commits_by_hand(path: Path) -> None:
    """``Database.write()`` commits when its block ends; a step never commits its caller's work."""
    commits = [f"line {node.lineno}" for node in ast.walk(_tree(path))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "commit"]
    assert not commits, f"{_name(path)} commits by hand at {commits}"


@pytest.mark.parametrize("path", BELOW_ENTRY_POINTS, ids=_name)
def test_no_timezone_is_hard_coded_below_the_entry_points(path: Path) -> None:
    """Local times come from the region's timezone (``dispatch.localtime``), never from a name in
    the code: a region in Lisbon reads Lisbon's clock in every text."""
    # Area/Location names only: "UTC" (instants carry no local time) and words like "localtime" pass.
    zones = {name for name in zoneinfo.available_timezones() if "/" in name} - {"Etc/UTC"}
    named = [f"line {node.lineno}: {node.value!r}" for node in ast.walk(_tree(path))
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in zones]
    assert not named, f"{_name(path)} names a timezone: {named}"
