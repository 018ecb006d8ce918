"""The real Apache Kafka broker, single node in KRaft mode, run from its jars on Maven Central.

`deploy/kafka/pom.xml` pins the version; `ensure_kafka` copies the jars once into
`.data/tools/kafka-<version>/libs` (gitignored), `start_kafka` formats the storage on first
use (data is kept across restarts) and starts the broker detached through `processes`.

Startup is CPU-bound class loading, so the first broker that stops cleanly leaves a class-data
sharing archive (AppCDS) next to the jars that later starts map instead: about 2x faster.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from onboarding_devstack.kafka_security import LISTENER as SECURED
from onboarding_devstack.kafka_security import SecuredListener
from onboarding_devstack.processes import Managed, StartError, start, stop, wait_for_port

HOST = "127.0.0.1"
NAME = "kafka"
INSTALL_HINT = "install a JDK 17+ and Maven (apt-get install openjdk-17-jdk maven)"
# Fast JVM start for development and tests: small heap, serial GC, C1 only.
JVM_FLAGS = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-Djava.awt.headless=true",
    "-Xlog:cds*=off",
)
# C1 only starts in half the CPU, but its code costs more CPU per record under load:
# benchmarks, which share two cores with the broker, ask for the full JIT instead.
FAST_START_JIT = "-XX:TieredStopAtLevel=1"


def pom_file(root: Path) -> Path:
    return root / "deploy" / "kafka" / "pom.xml"


def kafka_version(root: Path) -> str:
    """The Kafka version pinned once in `deploy/kafka/pom.xml` (`<kafka.version>`)."""
    match = re.search(
        r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom_file(root).read_text()
    )
    if match is None:
        raise RuntimeError(f"no <kafka.version> in {pom_file(root)}")
    return match.group(1)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StartError(f"`{name}` not found: {INSTALL_HINT}")
    return path


def ensure_kafka(root: Path) -> Path:
    """Install the broker's jars once (`mvn` from Maven Central); return the libs folder."""
    pom = pom_file(root)
    home = root / ".data" / "tools" / f"kafka-{kafka_version(root)}"
    libs, marker = home / "libs", home / "installed"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if marker.is_file() and marker.read_text().strip() == digest and libs.is_dir():
        return libs
    _tool("java")
    mvn = _tool("mvn")
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing the same jars
        if marker.is_file() and marker.read_text().strip() == digest and libs.is_dir():
            return libs
        staging = home / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        argv = [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies"]
        done = subprocess.run(
            [*argv, f"-Dkafka.libs={staging}"], capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
            raise StartError(f"installing Kafka with Maven failed ({' '.join(argv)}):\n{tail}")
        shutil.rmtree(libs, ignore_errors=True)
        for stale in home.glob("classes-*.jsa"):  # archives of the jars replaced here
            stale.unlink()
        staging.rename(libs)
        marker.write_text(f"{digest}\n")
    return libs


def new_cluster_id() -> str:
    """A Kafka `Uuid` as `kafka-storage random-uuid` prints it, without starting a JVM."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _properties(
    data_dir: Path, port: int, controller_port: int, secured: SecuredListener | None = None
) -> str:
    listeners = f"PLAINTEXT://{HOST}:{port}"
    protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    if secured is not None:
        listeners += f",{SECURED}://{HOST}:{secured.port}"
        protocols += f",{SECURED}:SASL_SSL"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller_port}",
        "listeners": f"{listeners},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": listeners,
        "listener.security.protocol.map": protocols,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir / "kraft"),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "4",
        **(secured.broker_properties() if secured is not None else {}),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def metadata_brokers(port: int) -> int:
    """How many brokers the node on `port` lists in a Metadata (v4) answer (0: no answer)."""
    request = struct.pack(">hhih", 3, 4, 1, 8) + b"devstack" + struct.pack(">i?", 0, False)
    try:
        with socket.create_connection((HOST, port), timeout=2.0) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            head = _recv(sock, 4)
            body = _recv(sock, struct.unpack(">i", head)[0])
    except OSError:
        return 0
    # correlation id, throttle time, then the broker array's length
    correlation, _, brokers = struct.unpack(">iii", body[:12])
    return int(brokers) if correlation == 1 else 0


def _metadata_ready(port: int) -> bool:
    """True once the broker answers metadata listing at least one broker."""
    return metadata_brokers(port) > 0


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def start_kafka(
    root: Path,
    run_dir: Path,
    data_dir: Path,
    port: int,
    controller_port: int,
    *,
    timeout: float = 60.0,
    full_jit: bool = False,
    secured: SecuredListener | None = None,
) -> Managed:
    """Start the broker (formatting `data_dir` the first time); return once it serves metadata.
    With `secured`, it also listens there with SASL_SSL (`kafka_security.py`)."""
    managed = launch_node(
        root,
        Managed(NAME, run_dir),
        data_dir,
        _properties(data_dir, port, controller_port, secured),
        cluster_id=new_cluster_id(),
        full_jit=full_jit,
        format_arguments=secured.format_arguments() if secured is not None else (),
    )
    wait_serving(managed, port, timeout=timeout)
    return managed


def launch_node(
    root: Path,
    managed: Managed,
    data_dir: Path,
    properties: str,
    *,
    cluster_id: str,
    full_jit: bool = False,
    format_arguments: Sequence[str] = (),
) -> Managed:
    """Write `properties`, format `data_dir` (once, with `cluster_id`) and start the node in
    the background; `wait_serving` waits for it. Nodes of one cluster share the cluster id."""
    if managed.running():
        raise StartError(f"{managed.name} already running (pid {managed.pid()}); stop it first")
    libs = ensure_kafka(root)
    java = _tool("java")
    home = managed.run_dir / managed.name
    config = home / "server.properties"
    home.mkdir(parents=True, exist_ok=True)
    config.write_text(properties)
    archive = _archive(libs, java)
    logging = f"-Dlog4j2.configurationFile={root / 'deploy' / 'kafka' / 'log4j2.yaml'}"
    jit = [] if full_jit else [FAST_START_JIT]
    jvm = [java, *JVM_FLAGS, *jit, logging, "-cp", f"{libs}{os.sep}*"]
    if archive.is_file():
        jvm.insert(1, f"-XX:SharedArchiveFile={archive}")
    if not (data_dir / "kraft" / "meta.properties").is_file():
        (data_dir / "kraft").mkdir(parents=True, exist_ok=True)
        fmt = [*jvm, "kafka.tools.StorageTool", "format", "--ignore-formatted"]
        done = subprocess.run(
            [*fmt, "--cluster-id", cluster_id, "--config", str(config), *format_arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise StartError(f"formatting Kafka storage failed:\n{done.stdout}{done.stderr}")
    if not archive.is_file():  # this broker writes one when it exits; stop_kafka keeps it
        jvm.insert(1, f"-XX:ArchiveClassesAtExit={home / 'classes.jsa'}")
        (home / "classes.target").write_text(f"{archive}\n")
    start(managed, [*jvm, "kafka.Kafka", str(config)], cwd=home)
    return managed


def wait_serving(managed: Managed, port: int, *, timeout: float) -> None:
    """Until the node answers metadata on `port`; stopped and StartError if it does not."""
    deadline = time.monotonic() + timeout
    try:
        wait_for_port(managed, HOST, port, timeout=timeout)
        while not _metadata_ready(port):
            if not managed.running():
                raise StartError(f"{managed.name} exited; see {managed.log_file}")
            if time.monotonic() > deadline:
                raise StartError(f"{managed.name} not serving metadata after {timeout:.0f}s")
            time.sleep(0.1)
    except StartError:
        stop(managed)
        raise


def stop_kafka(run_dir: Path, name: str = NAME) -> bool:
    """Stop the broker `name` started with `run_dir`; True if it was running."""
    stopped = stop(Managed(name, run_dir), timeout=30.0)
    _keep_archive(run_dir / name)
    return stopped


def _archive(libs: Path, java: str) -> Path:
    """Where the class-data archive for these jars and this exact JVM lives."""
    real = Path(java).resolve()
    stamp = f"{real}:{real.stat().st_mtime_ns}".encode()
    return libs.parent / f"classes-{hashlib.sha256(stamp).hexdigest()[:12]}.jsa"


def _keep_archive(home: Path) -> None:
    """Move a class-data archive the stopped broker wrote next to the jars, if it is sound."""
    dump, note = home / "classes.jsa", home / "classes.target"
    if dump.is_file() and note.is_file():
        target = Path(note.read_text().strip())
        # A truncated archive crashes the JVM, so only one that maps with -Xshare:on is kept.
        classpath = ["-cp", f"{target.parent / 'libs'}{os.sep}*"]
        check = [
            _tool("java"),
            *JVM_FLAGS,
            FAST_START_JIT,
            f"-XX:SharedArchiveFile={dump}",
            "-Xshare:on",
        ]
        if subprocess.run([*check, *classpath, "-version"], capture_output=True).returncode == 0:
            partial = target.with_suffix(f".{os.getpid()}.partial")
            shutil.copyfile(dump, partial)
            partial.replace(target)
    dump.unlink(missing_ok=True)
    note.unlink(missing_ok=True)
