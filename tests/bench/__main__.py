"""`make bench` lists the benchmarks; `make bench B=<name> [ARGS="..."]` runs one."""

from __future__ import annotations

import ast
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent
HELPERS = {"__init__", "__main__", "process_cpu", "query_infra"}  # imported, not run


def benchmarks() -> dict[str, str]:
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem not in HELPERS:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            found[path.stem] = doc.splitlines()[0] if doc else ""
    return found


def main() -> None:
    known = benchmarks()
    if len(sys.argv) < 2:
        print('make bench B=<name> [ARGS="--seconds 20 ..."], one of:')
        for name, summary in known.items():
            print(f"  {name:<24} {summary}")
        return
    name, args = sys.argv[1], sys.argv[2:]
    if name not in known:
        sys.exit(f"no benchmark {name!r}; `make bench` lists them")
    sys.argv = [f"tests.bench.{name}", *args]
    runpy.run_module(f"tests.bench.{name}", run_name="__main__")


if __name__ == "__main__":
    main()
