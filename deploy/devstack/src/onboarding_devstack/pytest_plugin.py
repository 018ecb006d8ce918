"""Pytest fixtures for the real broker and database, loaded by the root pytest config.

The session starts its own Kafka and FerretDB on free ports in a temporary folder (so a
`make up` stack may keep running) and stops them at the end. Nothing here is a fake.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from onboarding_runtime import tracing
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from onboarding_devstack.otlp_collector import Collector
from onboarding_devstack.private_broker import PrivateBroker
from onboarding_devstack.stack import StackConfig, create_topics, start_apps, start_infra, stop_all


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[4]


@pytest.fixture(scope="session")
def otlp_collector() -> Iterator[Collector]:
    """Where the test stack's services export their spans (OTLP/HTTP)."""
    collector = Collector()
    collector.start()
    try:
        yield collector
    finally:
        collector.stop()


@pytest.fixture(scope="session")
def infra(
    tmp_path_factory: pytest.TempPathFactory, otlp_collector: Collector
) -> Iterator[StackConfig]:
    """A running Kafka broker and MongoDB-protocol server for the whole session; the
    services, once started, trace to `otlp_collector`."""
    cfg = StackConfig.on_free_ports(
        _repo_root(),
        tmp_path_factory.mktemp("stack"),
        # A short not-found period and short retry tiers, so end-to-end tests see real
        # dead letters.
        # Ingest with two processes, as production runs it.
        {
            "LOG_FORMAT": "text",
            "ENVIRONMENT": "test",
            "ENRICH_NOT_FOUND_RETRY_S": "8",
            "ENRICH_RETRY_DELAYS_S": "1,2",
            "INGEST_WORKERS": "2",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        },
    )
    try:
        start_infra(cfg)
        create_topics(cfg)
        yield cfg
    finally:
        stop_all(cfg)


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: StackConfig) -> str:
    return infra.bootstrap_servers


@pytest.fixture(scope="session")
def mongodb_url(infra: StackConfig) -> str:
    return infra.mongodb_url


@pytest.fixture(scope="session")
def stack(infra: StackConfig) -> StackConfig:
    """The simulator and the three services as processes, on top of `infra`."""
    start_apps(infra, timeout=90)
    return infra


@pytest.fixture
async def private_broker(tmp_path: Path) -> AsyncIterator[PrivateBroker]:
    """A started broker of this test's own (no topics), for tests that stop, freeze or
    starve Kafka: the session's broker is never touched. Thawed and stopped afterwards."""
    own = PrivateBroker(_repo_root(), tmp_path / "private-broker")
    await own.start()
    try:
        yield own
    finally:
        own.thaw()
        await own.stop()


@pytest.fixture
def unique_name() -> str:
    """A name no other test uses: for topics, groups, collections, databases."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def _span_exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(tracing.Scrubbed(SimpleSpanProcessor(exporter)))
    trace.set_tracer_provider(provider)  # once per process, as `configure_tracing` does
    return exporter


@pytest.fixture
def spans(
    _span_exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test only, its finished spans in memory (other tests run with
    tracing off, the default)."""
    _span_exporter.clear()
    monkeypatch.setattr(tracing, "_enabled", True)
    yield _span_exporter
    _span_exporter.clear()
