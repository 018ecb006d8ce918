"""The local stack: broker, database, Okta simulator and the three services, as processes.

`make up` and the end-to-end tests both build a `StackConfig` and call these functions; the
tests pick free ports and a temporary folder, `make up` the contract's defaults and `.data/`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from onboarding_devstack.ferretdb import ensure_ferretdb, start_ferretdb, stop_ferretdb
from onboarding_devstack.kafka import ensure_kafka, start_kafka, stop_kafka
from onboarding_devstack.kafka_security import SecuredListener, secured_listener
from onboarding_devstack.processes import Managed, StartError, free_port, start, stop

SIMULATOR_TOKEN = "okta-simulator-token"
SERVICES = ("ingest-service", "enrich-service", "query-service")


@dataclass(frozen=True)
class StackConfig:
    root: Path
    data_dir: Path
    ingest_port: int = 8000
    query_port: int = 8001
    enrich_port: int = 8002
    okta_sim_port: int = 8010
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    mongo_port: int = 27017
    # Set when a real Okta is configured: then no simulator is started.
    okta_org_url: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # The broker's JIT: fast start (tests, `make up`) or full (benchmarks), see kafka.py.
    kafka_full_jit: bool = False
    # Set (`with_secured_kafka`): the broker also listens with SASL_SSL, and the services
    # and `onboarding-ops` are given only that listener.
    kafka_secured: SecuredListener | None = None

    @classmethod
    def on_free_ports(
        cls,
        root: Path,
        data_dir: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        kafka_full_jit: bool = False,
    ) -> StackConfig:
        """A private stack (tests, benchmarks) beside any `make up` one: every port free."""
        return cls(
            root=root,
            data_dir=data_dir,
            ingest_port=free_port(),
            query_port=free_port(),
            enrich_port=free_port(),
            okta_sim_port=free_port(),
            kafka_port=free_port(),
            kafka_controller_port=free_port(),
            mongo_port=free_port(),
            extra_env=dict(extra_env or {}),
            kafka_full_jit=kafka_full_jit,
        )

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/onboarding?retryWrites=false"

    @property
    def okta_url(self) -> str:
        return self.okta_org_url or f"http://127.0.0.1:{self.okta_sim_port}"

    def url(self, service: str) -> str:
        port = {
            "ingest-service": self.ingest_port,
            "query-service": self.query_port,
            "enrich-service": self.enrich_port,
            "okta-simulator": self.okta_sim_port,
        }[service]
        return f"http://127.0.0.1:{port}"

    def service_env(self) -> dict[str, str]:
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "MONGODB_URL": self.mongodb_url,
            "OKTA_ORG_URL": self.okta_url,
            "OKTA_API_TOKEN": os.environ.get("OKTA_API_TOKEN", SIMULATOR_TOKEN),
            "INGEST_PORT": str(self.ingest_port),
            "QUERY_PORT": str(self.query_port),
            "ENRICH_PORT": str(self.enrich_port),
            "OKTA_SIM_PORT": str(self.okta_sim_port),
        }
        if self.kafka_secured is not None:
            env.update(self.kafka_secured.client_env())
        env.update(self.extra_env)
        return env


def with_secured_kafka(cfg: StackConfig) -> StackConfig:
    """`cfg` with a SASL_SSL listener on a free port: a certificate authority, the broker's
    certificate and a SCRAM user, made under its data folder (`kafka_security.py`)."""
    secured = secured_listener(cfg.data_dir / "kafka-tls", free_port())
    return dataclasses.replace(cfg, kafka_secured=secured)


def config_from_env(root: Path, env: Mapping[str, str] = os.environ) -> StackConfig:
    """The contract's defaults, overridden by the contract's variables."""
    kafka = urlsplit("//" + env.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092").split(",")[0])
    mongo = urlsplit(env.get("MONGODB_URL", "mongodb://localhost:27017/onboarding"))
    real_okta = env.get("OKTA_ORG_URL") if env.get("OKTA_API_TOKEN") else None
    return StackConfig(
        root=root,
        data_dir=root / ".data",
        ingest_port=int(env.get("INGEST_PORT", 8000)),
        query_port=int(env.get("QUERY_PORT", 8001)),
        enrich_port=int(env.get("ENRICH_PORT", 8002)),
        okta_sim_port=int(env.get("OKTA_SIM_PORT", 8010)),
        kafka_port=kafka.port or 9092,
        kafka_controller_port=int(env.get("KAFKA_CONTROLLER_PORT", 9093)),
        mongo_port=mongo.port or 27017,
        okta_org_url=real_okta,
    )


def managed(cfg: StackConfig, name: str) -> Managed:
    return Managed(name, cfg.run_dir)


def _bin(name: str) -> str:
    """A console script of this environment (the services are workspace members)."""
    return str(Path(sys.executable).parent / name)


def start_infra(cfg: StackConfig) -> list[str]:
    """Broker and database (installed on first use); returns what was started."""
    started = []
    ensure_kafka(cfg.root)
    ensure_ferretdb(cfg.root)
    if not managed(cfg, "kafka").running():
        start_kafka(
            cfg.root,
            cfg.run_dir,
            cfg.data_dir / "kafka",
            cfg.kafka_port,
            cfg.kafka_controller_port,
            full_jit=cfg.kafka_full_jit,
            secured=cfg.kafka_secured,
        )
        started.append("kafka")
    if not managed(cfg, "ferretdb").running():
        start_ferretdb(cfg.root, cfg.run_dir, cfg.data_dir / "ferretdb", cfg.mongo_port)
        started.append("ferretdb")
    return started


def create_topics(cfg: StackConfig) -> None:
    """`onboarding-ops topics`: the one place that knows every topic and its configuration."""
    env = {**os.environ, **cfg.service_env()}
    done = subprocess.run(
        [_bin("onboarding-ops"), "topics"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise StartError(f"onboarding-ops topics failed:\n{done.stdout}{done.stderr}")


def start_apps(cfg: StackConfig, *, timeout: float = 60.0) -> list[str]:
    """Simulator (unless a real Okta is set) and the services; waits until each is ready."""
    names = list(SERVICES) if cfg.okta_org_url else ["okta-simulator", *SERVICES]
    started = []
    env = cfg.service_env()
    for name in names:
        if not managed(cfg, name).running():
            start(managed(cfg, name), [_bin(name)], env=env, cwd=cfg.root, record_exit=True)
            started.append(name)
    for name in names:
        path = "/v1/healthz" if name == "okta-simulator" else "/v1/readyz"
        wait_http(managed(cfg, name), cfg.url(name) + path, timeout=timeout)
    return started


def wait_http(proc: Managed, url: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        if not proc.running():
            raise StartError(proc.exit_report())
        time.sleep(0.2)
    raise StartError(f"{proc.name} not ready at {url} after {timeout:.0f}s ({last})")


def status(cfg: StackConfig) -> list[tuple[str, str, bool]]:
    """Each process of the stack: (name, what it is doing, whether it ended on its own).

    A service that ended without `make down` (a consumer that failed, a crash) shows its
    exit status and log file; `make up` starts it again."""
    names = ["kafka", "ferretdb", *([] if cfg.okta_org_url else ["okta-simulator"]), *SERVICES]
    report = []
    for name in names:
        proc = managed(cfg, name)
        pid = proc.pid()
        if pid is not None:
            report.append((name, f"running (pid {pid})", False))
        elif proc.exited():
            report.append((name, proc.exit_report(), True))
        else:
            report.append((name, "not running", False))
    return report


def stop_all(cfg: StackConfig) -> list[str]:
    stopped = [n for n in (*reversed(SERVICES), "okta-simulator") if stop(managed(cfg, n))]
    if managed(cfg, "ferretdb").running():
        stop_ferretdb(cfg.run_dir)
        stopped.append("ferretdb")
    if managed(cfg, "kafka").running():
        stop_kafka(cfg.run_dir)
        stopped.append("kafka")
    return stopped


def clean(cfg: StackConfig) -> None:
    stop_all(cfg)
    for sub in ("kafka", "ferretdb", "run"):
        shutil.rmtree(cfg.data_dir / sub, ignore_errors=True)
