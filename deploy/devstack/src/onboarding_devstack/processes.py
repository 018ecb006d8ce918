"""Background processes with a pid file and a log file, shared by `make up` and the tests.

A process started here outlives the Python that started it (its own session), so `make up`
can return; `stop` ends the whole process group. Started with `record_exit`, a small shell
waits for it and writes its exit status beside the pid file, so a process that ended on its
own (its pid file is still there: `stop` removes it) can be reported with its status.
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

    @property
    def exit_file(self) -> Path:
        return self.run_dir / "exits" / f"{self.name}.exit"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def exited(self) -> bool:
        """It ended without `stop`: its pid file is there, the process is not."""
        return self.pid_file.exists() and not self.running()

    def exit_status(self) -> int | None:
        """The status it ended with, if it was started with `record_exit` and has ended."""
        try:
            return int(self.exit_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def exit_report(self) -> str:
        """`<name> exited with status N; see <log>`, for a process that ended on its own."""
        status = self.exit_status()
        said = "" if status is None else f" with status {status}"
        return f"{self.name} exited{said}; see {self.log_file}"


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
    record_exit: bool = False,
) -> int:
    """Start `argv` detached, logging to the managed log file; return its pid.

    `record_exit`: run it under `/bin/sh`, which writes its exit status to `exit_file` when
    it ends; the shell defers SIGTERM until its child has ended, so `stop` still waits for
    the process itself."""
    managed.pid_file.parent.mkdir(parents=True, exist_ok=True)
    managed.log_file.parent.mkdir(parents=True, exist_ok=True)
    if record_exit:
        managed.exit_file.parent.mkdir(parents=True, exist_ok=True)
        managed.exit_file.unlink(missing_ok=True)
        argv = ["/bin/sh", "-c", _RECORD_EXIT, "sh", str(managed.exit_file), *argv]
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


# $1: the exit file; the rest: the command. A trapped signal waits for the foreground child
# (POSIX), and the child gets default handlers back, so it stops as it would alone.
_RECORD_EXIT = 'exit_file=$1; shift; trap : TERM INT; "$@"; echo $? > "$exit_file"'


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


# Ports this process handed out: the system may offer a port again as soon as its probe
# socket is closed, and two parts of one stack (a broker and its controller) must differ.
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, and not one this process handed out before."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


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
