"""A MongoDB-wire-protocol server for local dev and tests: FerretDB v1 on SQLite.

The Go program in `deploy/ferretdb` embeds FerretDB; it is built once per source hash into
`.data/tools/` and then started as a managed background process.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from onboarding_devstack.processes import Managed, StartError, start, stop, wait_for_port

NAME = "ferretdb"
HOST = "127.0.0.1"
BINARY = "ferretdb-embedded"


class GoToolchainError(RuntimeError):
    """Go is missing or the FerretDB program did not build."""


def _source_dir(root: Path) -> Path:
    return root / "deploy" / "ferretdb"


def _sources(src: Path) -> list[Path]:
    """What the binary is built from, so what its cache key hashes (tests are not part of it)."""
    code = [p for p in sorted(src.glob("*.go")) if not p.name.endswith("_test.go")]
    return [*code, src / "go.mod", src / "go.sum"]


def ferretdb_version(root: Path) -> str:
    """The FerretDB version pinned in `deploy/ferretdb/go.mod`, e.g. `v1.24.2`."""
    text = (_source_dir(root) / "go.mod").read_text()
    match = re.search(r"github\.com/FerretDB/FerretDB (v\S+)", text)
    if match is None:
        raise GoToolchainError(
            "deploy/ferretdb/go.mod does not require github.com/FerretDB/FerretDB"
        )
    return match.group(1)


def ensure_ferretdb(root: Path) -> Path:
    """Return the built server binary, building it first if its sources changed."""
    src = _source_dir(root)
    digest = hashlib.sha256()
    for path in _sources(src):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    folder = (
        root / ".data" / "tools" / f"ferretdb-{ferretdb_version(root)}-{digest.hexdigest()[:12]}"
    )
    binary = folder / BINARY
    if binary.is_file():
        return binary

    go = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.access(p, os.X_OK)), None
    )
    if go is None:
        raise GoToolchainError(
            "`go` not found: install Go 1.24 or newer (https://go.dev/dl/) and put it on PATH; "
            "it builds the local MongoDB-compatible server (FerretDB) from deploy/ferretdb"
        )
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{BINARY}.{os.getpid()}.tmp"
    # Pure Go (SQLite via modernc.org), so no C compiler; go.sum is committed, no -mod=mod.
    env = {**os.environ, "CGO_ENABLED": "0"}
    argv = [go, "build", "-trimpath", "-buildvcs=false", "-o", str(partial), "."]
    result = subprocess.run(
        argv, cwd=src, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise GoToolchainError(
            f"building FerretDB failed (`{' '.join(argv)}` in {src}; needs Go 1.24+ "
            f"and access to the Go module proxy):\n{result.stderr.strip()}"
        )
    partial.replace(binary)  # atomic: a concurrent build never sees half a file
    return binary


def mongodb_url(port: int, db: str = "onboarding") -> str:
    """Connection URL for the local server; FerretDB v1 does not support retryable writes."""
    return f"mongodb://{HOST}:{port}/{db}?retryWrites=false"


def _ping(port: int) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        mongodb_url(port), serverSelectionTimeoutMS=500, connectTimeoutMS=500
    )
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True


def start_ferretdb(
    root: Path, run_dir: Path, data_dir: Path, port: int, *, timeout: float = 30.0
) -> Managed:
    """Start the server on `port` with its SQLite files in `data_dir`; return once it answers
    `ping`. If it is already running under `run_dir`, only wait for it."""
    managed = Managed(NAME, run_dir)
    if not managed.running():
        binary = ensure_ferretdb(root)
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [str(binary), "-listen-addr", f"{HOST}:{port}", "-sqlite-dir", str(data_dir)]
        # "warn" would dump every failed command (e.g. endSessions on each client close).
        start(managed, [*argv, "-log-level", "error"])
    deadline = time.monotonic() + timeout
    wait_for_port(managed, HOST, port, timeout=timeout)
    while not _ping(port):
        if not managed.running():
            raise StartError(f"{NAME} exited; see {managed.log_file}")
        if time.monotonic() > deadline:
            raise StartError(f"{NAME} does not answer ping on {HOST}:{port} after {timeout:.0f}s")
        time.sleep(0.1)
    return managed


def stop_ferretdb(run_dir: Path) -> bool:
    """Stop the server started under `run_dir`; True if it was running. Data is kept."""
    return stop(Managed(NAME, run_dir))
