"""The cluster stack: three Kafka nodes, two replicas of every service, FerretDB, the Okta
simulator, and Toxiproxy between the services and what they depend on.

Where each replica connects (`ClusterStack.env`):
- every service to Kafka through its client group's proxies, one per broker (`kafka_cluster`);
- query-service to FerretDB through the `query-ferretdb` proxy;
- enrich-service to Okta through the `enrich-okta` proxy.
Operators' tools and the harness connect directly (`ops_env`, `bootstrap_servers`).

The layout (ports) is chosen once on free ports and saved as `cluster.json` in the data
folder, so `down` and the fault injection find every process again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from onboarding_devstack.ferretdb import mongodb_url
from onboarding_devstack.kafka_cluster import (
    MIN_INSYNC_REPLICAS,
    REPLICATION_FACTOR,
    Cluster,
    Listener,
    Node,
)
from onboarding_devstack.processes import free_port

SIMULATOR_TOKEN = "okta-simulator-token"
SERVICES = ("ingest-service", "enrich-service", "query-service")
GROUP = {"ingest-service": "ingest", "enrich-service": "enrich", "query-service": "query"}
PORT_VARIABLE = {
    "ingest-service": "INGEST_PORT",
    "enrich-service": "ENRICH_PORT",
    "query-service": "QUERY_PORT",
}
LAYOUT_FILE = "cluster.json"


@dataclass(frozen=True)
class ClusterStack:
    root: Path
    data_dir: Path
    kafka: Cluster
    mongo_port: int
    mongo_proxy_port: int
    okta_sim_port: int
    okta_proxy_port: int
    toxiproxy_port: int
    # Per service, the HTTP port of each possible replica (more than run at first: scaling).
    ports: Mapping[str, tuple[int, ...]]
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def on_free_ports(
        cls,
        root: Path,
        data_dir: Path,
        *,
        replicas: int = 3,
        extra_env: Mapping[str, str] | None = None,
    ) -> ClusterStack:
        return cls(
            root=root,
            data_dir=data_dir,
            kafka=Cluster.on_free_ports(groups=tuple(GROUP.values())),
            mongo_port=free_port(),
            mongo_proxy_port=free_port(),
            okta_sim_port=free_port(),
            okta_proxy_port=free_port(),
            toxiproxy_port=free_port(),
            ports={name: tuple(free_port() for _ in range(replicas)) for name in SERVICES},
            extra_env=dict(extra_env or {}),
        )

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def bootstrap_servers(self) -> str:
        """Direct, never through a proxy: for topics, the tools and the harness."""
        return self.kafka.bootstrap_servers

    @property
    def mongodb_url(self) -> str:
        return mongodb_url(self.mongo_port)

    @property
    def okta_url(self) -> str:
        return f"http://127.0.0.1:{self.okta_sim_port}"

    def replica(self, service: str, index: int) -> str:
        """The process name of replica `index` (from 1) of `service`."""
        return f"{service}-{index}"

    def url(self, service: str, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[service][index - 1]}"

    def env(self, service: str, index: int) -> dict[str, str]:
        group = GROUP[service]
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_for(group),
            "MONGODB_URL": mongodb_url(
                self.mongo_proxy_port if service == "query-service" else self.mongo_port
            ),
            "OKTA_ORG_URL": f"http://127.0.0.1:{self.okta_proxy_port}",
            "OKTA_API_TOKEN": SIMULATOR_TOKEN,
            PORT_VARIABLE[service]: str(self.ports[service][index - 1]),
        }
        env.update(self.extra_env)
        return env

    def simulator_env(self) -> dict[str, str]:
        return {"OKTA_SIM_PORT": str(self.okta_sim_port), "OKTA_API_TOKEN": SIMULATOR_TOKEN}

    def ops_env(self) -> dict[str, str]:
        """For `onboarding-ops`: direct connections, topics replicated three ways."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "MONGODB_URL": self.mongodb_url,
            "KAFKA_REPLICATION_FACTOR": str(REPLICATION_FACTOR),
            "KAFKA_MIN_INSYNC_REPLICAS": str(MIN_INSYNC_REPLICAS),
            **{k: v for k, v in self.extra_env.items() if k in _SHARED_WITH_OPS},
        }

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        layout = asdict(self)
        layout["root"], layout["data_dir"] = str(self.root), str(self.data_dir)
        (self.data_dir / LAYOUT_FILE).write_text(json.dumps(layout, indent=2) + "\n")

    @classmethod
    def load(cls, data_dir: Path) -> ClusterStack:
        layout = json.loads((data_dir / LAYOUT_FILE).read_text())
        nodes = tuple(
            Node(
                node_id=node["node_id"],
                port=node["port"],
                controller_port=node["controller_port"],
                listeners=tuple(Listener(**item) for item in node["listeners"]),
            )
            for node in layout["kafka"]["nodes"]
        )
        return cls(
            root=Path(layout["root"]),
            data_dir=Path(layout["data_dir"]),
            kafka=Cluster(nodes),
            mongo_port=layout["mongo_port"],
            mongo_proxy_port=layout["mongo_proxy_port"],
            okta_sim_port=layout["okta_sim_port"],
            okta_proxy_port=layout["okta_proxy_port"],
            toxiproxy_port=layout["toxiproxy_port"],
            ports={name: tuple(ports) for name, ports in layout["ports"].items()},
            extra_env=dict(layout["extra_env"]),
        )


# Settings of the services that the operators' tool must share (its pseudonyms, its fence).
_SHARED_WITH_OPS = frozenset({"PII_HASH_KEY", "KAFKA_PUBLISH_TIMEOUT_S", "ENVIRONMENT"})
