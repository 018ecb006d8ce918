"""Each package declares what it imports, read from the source without running it.

Every absolute import in a package's src/ (at the top of a module, inside a function, under
`if TYPE_CHECKING:` alike) is traced to the distribution that provides it: the standard
library and the package itself need nothing; a workspace module is its member package; any
other module is looked up in the installed distributions' file lists, so a namespace shared
by many distributions resolves to the one holding that submodule (`opentelemetry.sdk.trace`
is `opentelemetry-sdk`, `opentelemetry.trace` is `opentelemetry-api`).

Three problems are found: a distribution imported but not in `[project].dependencies` (it
works in the workspace only because a neighbour pulled it in), one declared but never
imported (a test-only dependency belongs in a dev group), and a module no installed
distribution provides. That the packages also import when installed alone:
`imports_alone.py`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from tests.repo.workspace import Package, normalize


@dataclass(frozen=True)
class Problem:
    """One mismatch between a package's imports and its declared dependencies."""

    package: str
    message: str

    def __str__(self) -> str:
        return f"{self.package}: {self.message}"


def imported_modules(src: Path) -> dict[str, str]:
    """Every module the files under `src` import absolutely, each with the first place that
    does (`path:line`, relative to `src`). `from a import b` counts as `a.b`: b may be a
    submodule, and the longest name a distribution holds decides below."""
    found: dict[str, str] = {}
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for node in ast.walk(tree):
            for name in _names(node):
                found.setdefault(name, f"{path.relative_to(src)}:{getattr(node, 'lineno', 0)}")
    return found


def _names(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        yield from (f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")


@cache
def _installed() -> tuple[Mapping[str, list[str]], Mapping[str, frozenset[str]]]:
    """Top-level module -> distributions holding it; distribution -> its files' paths."""
    by_module = metadata.packages_distributions()
    files = {
        normalize(dist.metadata["Name"]): frozenset(str(f) for f in dist.files or ())
        for dist in metadata.distributions()
    }
    return by_module, files


def distribution_of(module: str) -> str | None:
    """The installed distribution that provides `module` (or its longest importable parent),
    normalized; None if none does."""
    by_module, files = _installed()
    candidates = [normalize(name) for name in by_module.get(module.partition(".")[0], [])]
    if len(set(candidates)) <= 1:
        return candidates[0] if candidates else None
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        path = "/".join(parts[:length])
        holders = [
            dist
            for dist in candidates
            if any(f == f"{path}.py" or f.startswith(f"{path}/") for f in files.get(dist, ()))
        ]
        if len(holders) == 1:
            return holders[0]
    return None


def check_package(package: Package, workspace_modules: Mapping[str, str]) -> list[Problem]:
    """What `package` imports but does not declare, declares but does not import, or imports
    from nowhere. `workspace_modules` maps each workspace top-level module to its package."""
    problems: list[Problem] = []
    used: dict[str, str] = {}
    for module, where in sorted(imported_modules(package.src).items()):
        top = module.partition(".")[0]
        if top in sys.stdlib_module_names or top in package.modules:
            continue
        owner = workspace_modules.get(top) or distribution_of(module)
        if owner is None:
            problems.append(
                Problem(package.name, f"{where} imports {top}, which nothing installed provides")
            )
            continue
        used.setdefault(owner, f"{top} ({where})")
    for missing in sorted(used.keys() - package.dependencies - {package.name}):
        problems.append(
            Problem(package.name, f"imports {used[missing]} but does not declare {missing}")
        )
    for unused in sorted(package.dependencies - used.keys()):
        problems.append(
            Problem(
                package.name,
                f"declares {unused} but src/ never imports it "
                "(a test-only dependency goes in a dev group)",
            )
        )
    return problems
