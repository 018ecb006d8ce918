"""A private broker and FerretDB for the query-service benchmarks, on free ports in a tmp dir.

The benchmarks own their servers so they never disturb a `make up` stack or a test session.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from onboarding_devstack.processes import free_port
from onboarding_devstack.stack import StackConfig, start_infra, stop_all
from onboarding_runtime.kafka import ensure_topics

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def bench_infra() -> Iterator[StackConfig]:
    with tempfile.TemporaryDirectory(prefix="query-bench-") as tmp:
        cfg = StackConfig(
            root=ROOT,
            data_dir=Path(tmp),
            ingest_port=free_port(),
            query_port=free_port(),
            enrich_port=free_port(),
            okta_sim_port=free_port(),
            kafka_port=free_port(),
            kafka_controller_port=free_port(),
            mongo_port=free_port(),
            extra_env={"LOG_FORMAT": "text", "ENVIRONMENT": "test"},
        )
        try:
            start_infra(cfg)
            asyncio.run(ensure_topics(cfg.bootstrap_servers))
            yield cfg
        finally:
            stop_all(cfg)


def with_database(url: str, name: str) -> str:
    """`url` with its database path replaced by `name` (query string kept)."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{name}" + (f"?{query}" if query else "")
