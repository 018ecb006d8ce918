"""Background processes with a pid file and a log file, shared by `make up` and the tests.

A process started here outlives the Python that started it (its own session), so `make up`
can return; `stop` ends the whole process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Children started by this Python, kept so they are reaped (not warned about) when they end.
_children: dict[int, subprocess.Popen[bytes]] = {}


class StartError(RuntimeError):
    """A process did not start or did not become ready in time."""


@dataclass(frozen=True)
class Managed:
    """Where one named process keeps its pid and log."""

    name: str
    run_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "pids" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None


def pid_alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def start(
    managed: Managed,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` detached, logging to the managed log file; return its pid."""
    managed.pid_file.parent.mkdir(parents=True, exist_ok=True)
    managed.log_file.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with managed.log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    managed.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def stop(managed: Managed, *, timeout: float = 20.0) -> bool:
    """Stop the process group politely, then forcefully; True if something was running."""
    pid = managed.pid()
    if pid is None:
        managed.pid_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while pid_alive(pid):
            time.sleep(0.05)
    managed.pid_file.unlink(missing_ok=True)
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(managed: Managed, host: str, port: int, *, timeout: float) -> None:
    """Wait until `host:port` accepts connections; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if not managed.running():
            raise StartError(f"{managed.name} exited; see {managed.log_file}")
        time.sleep(0.2)
    raise StartError(f"{managed.name} not listening on {host}:{port} after {timeout:.0f}s")
