"""Run every benchmark script in ``benchmarks/`` in turn (``make bench``).

A benchmark script is a ``benchmarks/*.py`` file that defines ``main()`` at top level; run_all
calls each with no arguments (its defaults are the published run), in name order, and reports
which ones failed. Name scripts to run with ``python benchmarks/run_all.py vrplib_gaps ...``.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts() -> list[Path]:
    """Files of ``benchmarks/`` (other than this one) defining a top-level ``main`` function."""
    found = []
    for path in sorted(HERE.glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            found.append(path)
    return found


def run(path: Path) -> bool:
    spec = importlib.util.spec_from_file_location(f"benchmarks_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    saved, sys.argv = sys.argv, [str(path)]  # each script sees no command-line arguments
    try:
        status = module.main()
    finally:
        sys.argv = saved
    return status in (None, 0)


def main(argv: list[str] | None = None) -> int:
    wanted = set(sys.argv[1:] if argv is None else argv)
    selected = [p for p in scripts() if not wanted or p.stem in wanted]
    if wanted - {p.stem for p in selected}:
        print(f"no benchmark script named {sorted(wanted - {p.stem for p in selected})}")
        return 2
    failed = []
    sys.path.insert(0, str(HERE))
    for path in selected:
        print(f"=== {path.name}", flush=True)
        started = time.perf_counter()
        try:
            ok = run(path)
        except Exception:  # one broken benchmark must not hide the others' results
            traceback.print_exc()
            ok = False
        print(f"=== {path.name}: {'ok' if ok else 'FAILED'} in {time.perf_counter() - started:.0f} s")
        if not ok:
            failed.append(path.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
