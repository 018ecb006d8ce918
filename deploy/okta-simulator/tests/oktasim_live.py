"""The simulator as a real server: `python -m okta_simulator` on a free port of 127.0.0.1.

For clients that cannot be handed an ASGI transport (another interpreter, another library's
HTTP stack). Ready means `/v1/healthz` answers 200, polled with a deadline; a process that
exits first fails at once, with its log.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from onboarding_devstack.polling import eventually
from onboarding_devstack.processes import free_port

READY_WITHIN_SECONDS = 30.0


@dataclass(frozen=True)
class LiveSimulator:
    base_url: str
    token: str
    log_file: Path

    def control(self) -> httpx.Client:
        """A client for `/_sim/` (and, with the token, the Okta API)."""
        return httpx.Client(base_url=self.base_url, timeout=10.0)


def _healthy(base_url: str, process: subprocess.Popen[bytes], log_file: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(
            f"okta-simulator exited ({process.returncode}):\n{log_file.read_text()}"
        )
    try:
        return httpx.get(f"{base_url}/v1/healthz", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.contextmanager
def running_simulator(workdir: Path, token: str, **settings: str) -> Iterator[LiveSimulator]:
    """Start the simulator with `OKTA_SIM_*` `settings`; stop it (and reap it) on exit."""
    port = free_port()
    env = {
        **os.environ,
        "OKTA_SIM_HOST": "127.0.0.1",
        "OKTA_SIM_PORT": str(port),
        "OKTA_API_TOKEN": token,
        "OKTA_SIM_LOG_LEVEL": "warning",
        **{f"OKTA_SIM_{name.upper()}": value for name, value in settings.items()},
    }
    log_file = workdir / "okta-simulator.log"
    base_url = f"http://127.0.0.1:{port}"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "okta_simulator"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=workdir,
        )
    try:
        eventually(lambda: _healthy(base_url, process, log_file), within=READY_WITHIN_SECONDS)
        yield LiveSimulator(base_url=base_url, token=token, log_file=log_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
