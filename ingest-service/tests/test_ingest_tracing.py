"""The webhook's span (served on the fast path) with its validation and publish, and the
`traceparent` the Kafka record carries: the publish span's, in the caller's trace."""

from __future__ import annotations

import asyncio

import httpx
from asgi_lifespan import LifespanManager
from ingest_service.acceptor import Headers
from ingest_service.app import create_app
from ingest_support import SEED, MemorySink, loaded_index, make_settings
from onboarding_events import header_map
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

TRACE_ID = "5af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-c7ad6b7169203331-01"


class HeaderSink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.headers: list[dict[str, str]] = []

    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        self.headers.append(header_map(headers))
        return super().enqueue(key, value, headers)


async def _post(sink: MemorySink, path: str, **request: object) -> httpx.Response:
    app = create_app(make_settings(), sink=sink, deliveries=loaded_index())
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            return await client.request("POST" if path.startswith("/v1/hr/") else "GET", path,
                                        **request)  # type: ignore[arg-type]  # fmt: skip


async def test_a_webhook_is_one_span_with_validate_and_publish_in_the_callers_trace(
    spans: InMemorySpanExporter,
) -> None:
    sink = HeaderSink()
    response = await _post(sink, "/v1/hr/webhook", json=SEED, headers={"traceparent": TRACEPARENT})

    assert response.status_code == 202
    assert response.headers["x-correlation-id"] == TRACE_ID
    by_name = {span.name: span for span in spans.get_finished_spans()}
    server = by_name["POST /v1/hr/webhook"]
    assert server.kind is SpanKind.SERVER
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert (server.attributes or {})["http.response.status_code"] == 202
    for name in ("validate", "publish"):
        assert by_name[name].parent is not None
        assert by_name[name].parent.span_id == server.context.span_id  # type: ignore[union-attr]
    publish = by_name["publish"]
    [headers] = sink.headers
    assert headers["traceparent"] == f"00-{TRACE_ID}-{publish.context.span_id:016x}-01"
    assert headers["correlation-id"] == TRACE_ID
    named = " ".join(f"{s.name} {dict(s.attributes or {})}" for s in by_name.values())
    assert str(SEED["email"]) not in named
    assert str(SEED["employee_id"]) not in named


async def test_a_batch_is_one_trace_and_each_record_carries_its_publish_span(
    spans: InMemorySpanExporter,
) -> None:
    sink = HeaderSink()
    response = await _post(
        sink, "/v1/hr/webhooks:batch", json=[SEED, SEED], headers={"traceparent": TRACEPARENT}
    )

    assert response.status_code == 207
    assert response.headers["x-correlation-id"] == TRACE_ID
    by_name = {span.name: span for span in spans.get_finished_spans()}
    server = by_name["POST /v1/hr/webhooks:batch"]
    assert server.kind is SpanKind.SERVER
    assert {f"{span.context.trace_id:032x}" for span in by_name.values()} == {TRACE_ID}
    publish = by_name["publish"]
    assert (publish.attributes or {})["messaging.batch.message_count"] == 2
    assert [h["traceparent"] for h in sink.headers] == [
        f"00-{TRACE_ID}-{publish.context.span_id:016x}-01"
    ] * 2


async def test_a_refused_webhook_has_no_publish_span(spans: InMemorySpanExporter) -> None:
    response = await _post(
        HeaderSink(), "/v1/hr/webhook", content=b"{}", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    names = {span.name for span in spans.get_finished_spans()}
    assert names == {"POST /v1/hr/webhook", "validate"}


async def test_other_requests_are_in_fastapis_span_without_their_path(
    spans: InMemorySpanExporter,
) -> None:
    response = await _post(HeaderSink(), "/openapi.json?who=someone")

    assert response.status_code == 200
    [server] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server.name == "GET /openapi.json"  # the route's template
    assert f"{server.context.trace_id:032x}" == response.headers["x-correlation-id"]
    assert "url.path" not in (server.attributes or {})
    assert "url.query" not in (server.attributes or {})


async def test_probes_and_scrapes_make_no_span(spans: InMemorySpanExporter) -> None:
    for path in ("/v1/healthz", "/v1/readyz", "/metrics"):
        response = await _post(HeaderSink(), path)
        assert response.status_code == 200
        assert response.headers["x-correlation-id"]  # still answered with an id

    assert spans.get_finished_spans() == ()
