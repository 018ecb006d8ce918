"""A private broker and FerretDB for the query-service benchmarks, on free ports in a tmp dir.

The benchmarks own their servers so they never disturb a `make up` stack or a test session.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from onboarding_devstack.stack import StackConfig, create_topics, start_infra, stop_all

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def bench_infra() -> Iterator[StackConfig]:
    with tempfile.TemporaryDirectory(prefix="query-bench-") as tmp:
        cfg = StackConfig.on_free_ports(
            ROOT, Path(tmp), {"LOG_FORMAT": "text", "ENVIRONMENT": "test"}
        )
        try:
            start_infra(cfg)
            create_topics(cfg)
            yield cfg
        finally:
            stop_all(cfg)


def with_database(url: str, name: str) -> str:
    """`url` with its database path replaced by `name` (query string kept)."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{name}" + (f"?{query}" if query else "")
