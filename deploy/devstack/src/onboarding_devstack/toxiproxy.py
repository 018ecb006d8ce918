"""Toxiproxy: a TCP proxy whose links can be slowed, stalled, reset or cut, for network faults.

`ensure_toxiproxy` installs the server once (`go install` of the pinned module from the Go
module proxy, the way `ferretdb.py` builds FerretDB) into `.data/tools/toxiproxy-<version>/`;
`make test` runs it through `onboarding-stack tools`. `start_toxiproxy` runs it as a managed
background process; `toxics.Toxiproxy` drives it over its HTTP API.

Put one proxy between each client and each server it must reach, then break the proxy:

    proxy = await Toxiproxy(api_url(port)).create("okta", f"127.0.0.1:{free_port()}", upstream)
    await proxy.latency(300)   # every chunk towards the client waits 300 ms
    await proxy.cut()          # open connections closed, new ones refused

A Kafka client connects to the bootstrap address, then to each broker's *advertised* address,
so one proxy on the bootstrap address cuts nothing: give each proxied client group its own
listener per broker (advertised as the proxy's address), one proxy per listener, and break
them together with a `toxics.ProxyGroup`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from onboarding_devstack.ferretdb import GoToolchainError
from onboarding_devstack.processes import Managed, StartError, start, stop

NAME = "toxiproxy"
HOST = "127.0.0.1"
VERSION = "v2.5.0"
PACKAGE = "github.com/Shopify/toxiproxy/v2/cmd/server"
BINARY = "toxiproxy-server"


def api_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def _go() -> str:
    go = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.access(p, os.X_OK)), None
    )
    if go is None:
        raise GoToolchainError(
            "`go` not found: install Go 1.24 or newer (https://go.dev/dl/) and put it on PATH; "
            f"it installs the network-fault proxy (Toxiproxy {VERSION}) for the tests"
        )
    return go


def ensure_toxiproxy(root: Path) -> Path:
    """Return the server binary, installing it first (once per version, under a lock)."""
    home = root / ".data" / "tools" / f"toxiproxy-{VERSION.removeprefix('v')}"
    binary, marker = home / BINARY, home / "installed"
    if marker.is_file() and marker.read_text().strip() == VERSION and binary.is_file():
        return binary
    go = _go()
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing it now
        if marker.is_file() and marker.read_text().strip() == VERSION and binary.is_file():
            return binary
        staging = home / "bin.partial"
        shutil.rmtree(staging, ignore_errors=True)
        # Pure Go, so no C compiler; `pkg@version` ignores any go.mod around it.
        env = {**os.environ, "GOBIN": str(staging), "CGO_ENABLED": "0"}
        argv = [go, "install", "-trimpath", f"{PACKAGE}@{VERSION}"]
        done = subprocess.run(
            argv, cwd=home, env=env, capture_output=True, text=True, timeout=1800, check=False
        )
        built = staging / "server"
        if done.returncode != 0 or not built.is_file():
            raise GoToolchainError(
                f"installing Toxiproxy failed (`{' '.join(argv)}`; needs Go 1.24+ and access "
                f"to the Go module proxy):\n{done.stderr.strip()}"
            )
        built.replace(binary)  # atomic: a running server keeps its old file
        shutil.rmtree(staging, ignore_errors=True)
        marker.write_text(f"{VERSION}\n")
    return binary


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"{api_url(port)}/version", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_toxiproxy(root: Path, run_dir: Path, port: int, *, timeout: float = 30.0) -> Managed:
    """Start the server with its API on `port`; return once `GET /version` answers. If it is
    already running under `run_dir`, only wait for it."""
    managed = Managed(NAME, run_dir)
    if not managed.running():
        binary = ensure_toxiproxy(root)
        # "info" logs every connection a proxy accepts and closes.
        argv = [str(binary), "-host", HOST, "-port", str(port)]
        start(managed, argv, env={"LOG_LEVEL": "warn"}, record_exit=True)
    deadline = time.monotonic() + timeout
    while not _answers(port):
        if not managed.running():
            raise StartError(managed.exit_report())
        if time.monotonic() > deadline:
            raise StartError(f"{NAME} API does not answer on {api_url(port)} after {timeout:.0f}s")
        time.sleep(0.1)
    return managed


def stop_toxiproxy(run_dir: Path) -> bool:
    """Stop the server started under `run_dir`; True if it was running. Its proxies go too."""
    return stop(Managed(NAME, run_dir))
