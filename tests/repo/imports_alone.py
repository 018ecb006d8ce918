"""`make check`: each workspace package, installed alone, imports every module under src/.

In the workspace's own environment every package sees every other's dependencies, so an
import it never declared works there and breaks in its image. Here each package gets a fresh
environment holding only what its image holds (`uv sync --locked --no-dev --no-editable
--package X`, as ./Dockerfile runs it: the package, the workspace packages it depends on,
and their locked dependencies), and `import_every_module.py` imports each of its modules
there. uv's cache keeps each install quick: nothing is downloaded twice.

    python -m tests.repo.imports_alone [PACKAGE...]

Exit status 1 if any module does not import, each failure naming the package, the module
and what it is missing. The static side, without installing: `declared_imports.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.repo.workspace import ROOT, Package, workspace_packages

WALKER = Path(__file__).with_name("import_every_module.py")
UV = ROOT / ".data" / "bootstrap" / "bin" / "uv"


def install_alone(package: Package, environment: Path) -> None:
    """`package` as its image installs it, into the new environment at `environment`."""
    if not UV.is_file():
        raise SystemExit(f"imports-alone: {UV} is missing: run `make check`, which installs it")
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["UV_PROJECT_ENVIRONMENT"] = str(environment)
    command = [str(UV), "sync", "--locked", "--no-dev", "--no-editable", "--quiet"]
    command += ["--package", package.name, "--python", sys.executable]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"imports-alone: {package.name}: uv sync failed:\n{done.stderr}")


def failures_alone(package: Package) -> list[str]:
    """One line per module of `package` that does not import when it is installed alone."""
    with tempfile.TemporaryDirectory(prefix=f"imports-alone-{package.name}-") as folder:
        environment = Path(folder) / "venv"
        install_alone(package, environment)
        # -I: neither the working directory nor PYTHON* variables reach the imports.
        done = subprocess.run(
            [str(environment / "bin" / "python"), "-I", str(WALKER), *sorted(package.modules)],
            cwd=folder,
            capture_output=True,
            text=True,
        )
    try:
        failures: list[list[str]] = json.loads(done.stdout)
    except json.JSONDecodeError:
        return [f"{package.name}: the import walk itself failed:\n{done.stderr}"]
    pyproject = (package.folder / "pyproject.toml").relative_to(ROOT)
    return [
        f"{package.name}: {module} imports {detail}, which is not installed with it "
        f"(declare its distribution in {pyproject})"
        if kind == "missing"
        else f"{package.name}: {module} does not import installed alone: {detail}"
        for module, kind, detail in failures
    ]


def main(names: list[str]) -> int:
    packages = [p for p in workspace_packages() if not names or p.name in names]
    unknown = set(names) - {p.name for p in packages}
    if unknown:
        print(f"imports-alone: no workspace package {sorted(unknown)}", file=sys.stderr)
        return 2
    problems = []
    for package in packages:
        found = failures_alone(package)
        print(f"{package.name}: {'FAILED' if found else 'every module imports'}", flush=True)
        problems += found
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
