"""Traces and log context around a consumed record: the runner on the real broker."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence

import pytest
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_runtime import tracing
from onboarding_runtime.kafka import BrokerUnavailable, EventProducer, KafkaConnection, Record
from onboarding_runtime.kafka.handling import logged_as
from onboarding_runtime.logging import JsonFormatter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from runtime_kafka_support import make_topic, runner_for, running

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN}-01"
log = logging.getLogger("test.handler")
RUNNER_LOGGER = "onboarding_runtime.kafka.attempts"


class _Lines(logging.Handler):
    """Formats each record as it is emitted, in the logging call's context."""

    def __init__(self) -> None:
        super().__init__()
        self.formatter = JsonFormatter("test")
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[_Lines]:
    """What the handler and the runner (its attempts) log."""
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in ("test.handler", RUNNER_LOGGER)]
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger("test.handler").setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


async def _send(bootstrap: str, topic: str, headers: dict[str, str]) -> None:
    producer = EventProducer(KafkaConnection(bootstrap))
    await producer.start()
    try:
        encoded = [(k, v.encode()) for k, v in headers.items()]
        await producer.publish(topic, key="k", value=b"v", headers=encoded)
    finally:
        await producer.stop()


async def test_a_record_with_a_traceparent_is_handled_in_its_trace(
    kafka_bootstrap: str, unique_name: str, spans: InMemorySpanExporter, lines: _Lines
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    passed_on: list[dict[str, str]] = []

    async def handler(record: Record) -> None:
        with tracing.span("inner"):
            log.info("handling")
            passed_on.append(tracing.trace_headers())

    await _send(kafka_bootstrap, topic, {"traceparent": TRACEPARENT})
    async with running(runner_for(kafka_bootstrap, topic, unique_name, handler=handler)):
        await eventually(lambda: len(passed_on) == 1)

    finished = {span.name: span for span in spans.get_finished_spans()}
    process, inner = finished[f"{topic} process"], finished["inner"]
    assert f"{process.context.trace_id:032x}" == TRACE_ID
    assert process.parent is not None
    assert f"{process.parent.span_id:016x}" == PARENT_SPAN
    assert inner.context.trace_id == process.context.trace_id
    assert inner.parent is not None
    assert inner.parent.span_id == process.context.span_id
    assert process.attributes is not None
    assert process.attributes["messaging.kafka.offset"] == 0
    # What the handler publishes continues the trace, from the span it is in.
    assert passed_on == [
        {
            "traceparent": f"00-{TRACE_ID}-{inner.context.span_id:016x}-01",
            "correlation-id": TRACE_ID,
        }
    ]
    [line] = lines.lines
    assert line["trace_id"] == line["correlation_id"] == TRACE_ID
    assert (line["topic"], line["partition"], line["offset"]) == (topic, 0, 0)


async def test_with_tracing_off_lines_still_carry_the_record_and_its_trace_goes_on(
    kafka_bootstrap: str, unique_name: str, lines: _Lines
) -> None:
    assert not tracing.enabled()
    topic = await make_topic(kafka_bootstrap, unique_name)
    passed_on: list[dict[str, str]] = []

    async def handler(record: Record) -> None:
        log.info("handling")
        passed_on.append(tracing.trace_headers())

    await _send(kafka_bootstrap, topic, {"traceparent": TRACEPARENT})
    async with running(runner_for(kafka_bootstrap, topic, unique_name, handler=handler)):
        await eventually(lambda: len(passed_on) == 1)

    assert passed_on == [{"traceparent": TRACEPARENT, "correlation-id": TRACE_ID}]
    [line] = lines.lines
    assert (line["trace_id"], line["topic"], line["partition"], line["offset"]) == (
        TRACE_ID,
        topic,
        0,
        0,
    )


async def test_each_record_of_a_batch_gets_a_span_in_its_own_trace(
    kafka_bootstrap: str, unique_name: str, spans: InMemorySpanExporter, lines: _Lines
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    written: list[int] = []

    async def batch(records: Sequence[Record]) -> None:
        log.info("writing")
        written.extend(record.offset for record in records)

    await _send(kafka_bootstrap, topic, {"traceparent": TRACEPARENT})
    await _send(kafka_bootstrap, topic, {})
    async with running(runner_for(kafka_bootstrap, topic, unique_name, batch_handler=batch)):
        await eventually(lambda: len(written) == 2)

    processed = [span for span in spans.get_finished_spans() if span.name == f"{topic} process"]
    assert len(processed) == 2
    first = next(span for span in processed if span.parent is not None)
    assert f"{first.context.trace_id:032x}" == TRACE_ID
    assert all(line["topic"] == topic and "offset" in line for line in lines.lines)


async def test_a_batchs_lines_carry_its_slice_and_a_line_about_one_record_that_records_trace(
    kafka_bootstrap: str, unique_name: str, lines: _Lines
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    attempts: list[list[int]] = []

    async def batch(records: Sequence[Record]) -> None:
        attempts.append([record.offset for record in records])
        if len(attempts) == 1:
            raise BrokerUnavailable()  # the runner logs that it retries the batch
        for record in records:
            with logged_as(record):
                log.info("about one record")
        log.info("about the batch")

    await _send(kafka_bootstrap, topic, {"traceparent": TRACEPARENT})
    await _send(kafka_bootstrap, topic, {})
    async with running(runner_for(kafka_bootstrap, topic, unique_name, batch_handler=batch)):
        await eventually(lambda: sum(map(len, attempts[1:])) == 2)

    about: dict[str, list[dict[str, object]]] = defaultdict(list)
    for line in lines.lines:
        about[str(line["message"])].append(line)
    [retrying] = about["batch failed, retrying"]
    first = attempts[0]
    assert (retrying["topic"], retrying["partition"]) == (topic, 0)
    assert (retrying["offset"], retrying["last_offset"]) == (first[0], first[-1])
    assert "trace_id" not in retrying
    batch_lines = about["about the batch"]
    assert all("last_offset" in line and "trace_id" not in line for line in batch_lines)
    records = sorted(about["about one record"], key=lambda line: int(str(line["offset"])))
    assert [(line["topic"], line["partition"], line["offset"]) for line in records] == [
        (topic, 0, 0),
        (topic, 0, 1),
    ]
    assert records[0]["trace_id"] == records[0]["correlation_id"] == TRACE_ID
    assert "trace_id" not in records[1]  # it came without a trace (tracing off: none made)
    assert all("last_offset" not in line for line in records)


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_only_an_exporter_or_an_endpoint_turns_tracing_on(env: dict[str, str], on: bool) -> None:
    code = (
        "from onboarding_runtime.tracing import configure_tracing, enabled, span\n"
        "from opentelemetry import trace\n"
        "print(configure_tracing('svc'), enabled(), type(trace.get_tracer_provider()).__name__)\n"
    )
    clean = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    configured, enabled, provider = result.stdout.split()
    assert configured == enabled == str(on)
    assert (provider == "TracerProvider") is on


def test_with_tracing_off_a_span_is_one_shared_no_op() -> None:
    assert not tracing.enabled()
    assert tracing.span("a") is tracing.span("b", kind=tracing.SpanKind.PRODUCER)
    with tracing.span("a") as current:
        assert current is None
    assert tracing.trace_headers() == {}


def test_a_scrubbed_span_loses_its_path_and_query(spans: InMemorySpanExporter) -> None:
    with tracing.span("GET") as current:
        assert current is not None
        current.set_attribute("url.path", "/v1/users/e123")
        current.set_attribute("url.query", "email=a@b.c")
        current.set_attribute("url.full", "https://okta/api/v1/users?search=a@b.c")
        current.set_attribute("http.route", "/v1/users/{employee_id}")
    [ended] = spans.get_finished_spans()
    assert dict(ended.attributes or {}) == {
        "url.full": "https://okta/api/v1/users",
        "http.route": "/v1/users/{employee_id}",
    }


def test_a_scrubbed_span_names_no_user_in_its_url(spans: InMemorySpanExporter) -> None:
    with tracing.span("GET") as current:
        assert current is not None
        current.set_attribute("url.full", "https://okta/api/v1/users/00uAbC123/groups?after=x")
    [ended] = spans.get_finished_spans()
    assert dict(ended.attributes or {}) == {"url.full": "https://okta/api/v1/users/{id}/groups"}
    assert tracing.url_template("https://okta/api/v1/users/00uAbC123/appLinks") == (
        "/api/v1/users/{id}/appLinks"
    )
