"""Okta's SDK for Python in a virtualenv of its own, under `.data/tools/`, made on first use.

The SDK test runs the real `okta` package against the simulator. The SDK stays out of the
workspace's lockfile and `.venv`. Its requirements do resolve against today's locked versions,
but it is a probe of the simulator, not a dependency of any package: in the one `.venv` that
every service's tests share, its thirty-odd packages (aiohttp, requests, PyJWT, cryptography,
pydash...) could hide a missing dependency, and its floors would steer the workspace's
upgrades. So the session builds `.data/tools/okta-sdk-<version>/` (gitignored) with the
workspace's own uv, once: later sessions find the marker and the importable SDK and skip the
install. The install needs PyPI (or the index uv is configured with), as `make` does.

An exclusive `fcntl` lock beside the folder lets two pytest processes start at once: the
second waits for the first and then finds the environment ready.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

OKTA_SDK_VERSION = "3.4.6"
REQUIREMENT = f"okta=={OKTA_SDK_VERSION}"
INSTALL_TIMEOUT_SECONDS = 240.0


class SdkEnvError(RuntimeError):
    """The SDK's environment could not be made; the message says what uv answered."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def env_dir(root: Path) -> Path:
    return root / ".data" / "tools" / f"okta-sdk-{OKTA_SDK_VERSION}"


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def _marker_text() -> str:
    """What the marker records: the requirement and the interpreter the venv was made from.

    A new Python (say 3.11 to 3.12) makes the old environment stale, as it would be.
    """
    return f"{REQUIREMENT}\npython {sys.version.split()[0]} {sys.implementation.cache_tag}\n"


def _sdk_version(python: Path) -> str | None:
    """The `okta.__version__` that `python` imports, or None when it cannot."""
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import okta; print(okta.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def is_ready(env: Path) -> bool:
    """The marker matches and the environment's Python imports the pinned SDK."""
    marker = env / ".okta-sdk-installed"
    try:
        recorded = marker.read_text()
    except FileNotFoundError:
        return False
    return recorded == _marker_text() and _sdk_version(env_python(env)) == OKTA_SDK_VERSION


def uv_binary(root: Path) -> str:
    """The workspace's pinned uv (`make` bootstraps it), else one on PATH."""
    bootstrap = root / ".data" / "bootstrap" / "bin" / "uv"
    if bootstrap.exists():
        return str(bootstrap)
    found = shutil.which("uv")
    if found is None:
        raise SdkEnvError(f"no uv at {bootstrap} nor on PATH: run `make .venv/.synced` first")
    return found


def _run_uv(argv: list[str], root: Path) -> None:
    # uv's own variables only: VIRTUAL_ENV would point at the workspace's `.venv`.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PYTHON")}
    done = subprocess.run(
        argv,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise SdkEnvError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")


def ensure_okta_sdk(root: Path | None = None) -> Path:
    """The Python of a virtualenv holding `okta==OKTA_SDK_VERSION`; made when missing or stale."""
    root = root or repo_root()
    env = env_dir(root)
    env.parent.mkdir(parents=True, exist_ok=True)
    with (env.parent / f"{env.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if is_ready(env):
            return env_python(env)
        shutil.rmtree(env, ignore_errors=True)
        uv = uv_binary(root)
        _run_uv([uv, "venv", "--quiet", "--python", sys.executable, str(env)], root)
        _run_uv(
            [uv, "pip", "install", "--quiet", "--python", str(env_python(env)), REQUIREMENT],
            root,
        )
        installed = _sdk_version(env_python(env))
        if installed != OKTA_SDK_VERSION:
            raise SdkEnvError(f"{env} imports okta {installed!r}, not {OKTA_SDK_VERSION}")
        (env / ".okta-sdk-installed").write_text(_marker_text())
        return env_python(env)
