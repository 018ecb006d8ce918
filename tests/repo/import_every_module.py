"""Import every module of the given top-level packages; print the failures as JSON.

`imports_alone.py` runs this file by its path (`python -I`) with the interpreter of an
environment holding one workspace package and what it declares, so it uses the standard
library only. Output: a JSON list of `[module, "missing", module name]` (a module it imports
is not installed) and `[module, "error", message]` (it raised something else); exit status 1
if the list is not empty.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys


def import_failures(top: str) -> list[tuple[str, str, str]]:
    """Each module of package `top` (itself included) that does not import: the module,
    "missing" and the module it could not find, or "error" and what it raised instead."""
    failures: list[tuple[str, str, str]] = []

    def attempt(name: str) -> None:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            failures.append((name, "missing", exc.name or str(exc)))
        except Exception as exc:
            failures.append((name, "error", f"{type(exc).__name__}: {exc}"))

    attempt(top)
    if failures:
        return failures
    package = sys.modules[top]
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), f"{top}.", onerror=_ignore):
        if info.name not in sys.modules:
            attempt(info.name)
    return failures


def _ignore(name: str) -> None:
    """`walk_packages` imports each subpackage again to look inside: its failure is already
    counted."""


def main(tops: list[str]) -> int:
    failures = [failure for top in tops for failure in import_failures(top)]
    print(json.dumps(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
