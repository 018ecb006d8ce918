"""The uv workspace's packages as their pyproject files declare them: name, folder, the
top-level modules under src/, runtime dependencies and console scripts."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def normalize(name: str) -> str:
    """A distribution name as packaging compares them (PEP 503): `Prometheus_Client` and
    `prometheus-client` are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a requirement: `uvicorn[standard]>=0.32` is
    `uvicorn`."""
    match = _REQUIREMENT_NAME.match(requirement.strip())
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return normalize(match.group())


@dataclass(frozen=True)
class Package:
    """One workspace member."""

    name: str  # normalized distribution name
    folder: Path
    modules: frozenset[str]  # the top-level modules and packages under src/
    dependencies: frozenset[str]  # normalized names of [project].dependencies
    scripts: frozenset[str]  # [project.scripts]

    @property
    def src(self) -> Path:
        return self.folder / "src"


def read_package(folder: Path) -> Package:
    """The package whose pyproject.toml is in `folder`."""
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    src = folder / "src"
    modules = {
        path.stem if path.is_file() else path.name
        for path in src.iterdir()
        if (path.is_dir() and (path / "__init__.py").is_file()) or path.suffix == ".py"
    }
    return Package(
        name=normalize(project["name"]),
        folder=folder,
        modules=frozenset(modules),
        dependencies=frozenset(requirement_name(r) for r in project.get("dependencies", [])),
        scripts=frozenset(project.get("scripts", {})),
    )


def workspace_packages(root: Path = ROOT) -> list[Package]:
    """Every member of the root pyproject's `[tool.uv.workspace]`, in its order."""
    workspace = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    excluded = {path for pattern in workspace.get("exclude", []) for path in root.glob(pattern)}
    folders = [
        path
        for pattern in workspace["members"]
        for path in sorted(root.glob(pattern))
        if path not in excluded and (path / "pyproject.toml").is_file()
    ]
    return [read_package(folder) for folder in folders]


def module_owners(packages: list[Package]) -> dict[str, str]:
    """Each workspace top-level module and the package that holds it."""
    return {module: package.name for package in packages for module in package.modules}
