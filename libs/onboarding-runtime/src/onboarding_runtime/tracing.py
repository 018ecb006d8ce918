"""Traces (OpenTelemetry): off unless the environment names an exporter or an endpoint.

`configure_tracing(service)` is called once per serving process, beside `configure_logging`.
It reads the standard variables: `OTEL_TRACES_EXPORTER` (`otlp`, `console`, `none`; a comma
list), `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (OTLP over
HTTP/protobuf), `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
`OTEL_BSP_*`, `OTEL_SDK_DISABLED`. Unlike the SDK's own default, no exporter is set up
unless one of the first two is given: then no SDK is installed, the API's no-op tracer
answers, and `span()` hands back one shared `nullcontext` (no allocation per call).

FastAPI's own telemetry (0.165+) makes the server span of every request it routes, on the
provider installed here; the webhook's fast path, which bypasses FastAPI, makes its own.
Every processor is wrapped in `Scrubbed`, which drops `url.path` and `url.query`, cuts the
query off `url.full` and puts `{id}` in place of the segment after `/users/` in it, whoever
set them: a path or a query may name a person.

Context travels between services in the Kafka `traceparent` header (W3C trace context),
with `correlation-id` (the trace id) beside it: `trace_headers()` writes them for the span
or record being handled. Span names and attributes never hold personal data: no emails,
no employee ids or Okta user ids, no query strings (`url_for_span`, `url_template`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import MutableMapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.context import Context

__all__ = [
    "Scrubbed",
    "SpanKind",
    "configure_tracing",
    "continued",
    "current_traceparent",
    "enabled",
    "fastapi_telemetry",
    "span",
    "span_traceparent",
    "trace_headers",
    "trace_id_of",
    "traceparent_of",
    "url_for_span",
    "url_template",
    "url_without_query",
]

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
# The segment after `/users/` names a person: an Okta user id (`/api/v1/users/00u.../groups`),
# an employee id (`/v1/users/12345`).
_PERSON = re.compile(r"(/users/)[^/]+")
_PROPAGATOR = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("onboarding")
_NO_SPAN: AbstractContextManager[None] = contextlib.nullcontext()
_enabled = False

# The `traceparent` of the record being handled: carried on as is when tracing is off.
current_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_traceparent", default=None
)


def enabled() -> bool:
    return _enabled


def configure_tracing(service: str, *, processors: Sequence[SpanProcessor] | None = None) -> bool:
    """Install the SDK if the environment (or a test, with `processors`) asks for it; once
    per process. True when spans are recorded."""
    global _enabled
    if _enabled:
        return True
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    chosen = list(processors) if processors is not None else _processors_from_env()
    if not chosen:
        return False
    name = os.environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    for processor in chosen:
        provider.add_span_processor(Scrubbed(processor))
    trace.set_tracer_provider(provider)
    _enabled = True
    return True


def _processors_from_env() -> list[SpanProcessor]:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    names = os.environ.get("OTEL_TRACES_EXPORTER") or ("otlp" if endpoint else "none")
    processors: list[SpanProcessor] = []
    for name in (part.strip().lower() for part in names.split(",")):
        if name == "otlp":
            protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
            )
            if protocol != "http/protobuf":
                raise ValueError(f"OTLP protocol {protocol!r}: only http/protobuf is installed")
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            processors.append(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            processors.append(BatchSpanProcessor(ConsoleSpanExporter()))
        elif name not in ("none", ""):
            raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r}")
    return processors


# Polled every few seconds by orchestrators and Prometheus: no span for each.
_PROBES = frozenset({"/v1/healthz", "/v1/readyz", "/metrics"})


def _probe(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in _PROBES


def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's own telemetry as every service configures it: server spans on the provider
    set up here, none for probes and scrapes, and no exception logs (their messages may
    quote a request's personal data)."""
    return {"exclude": _probe, "logs": False, "auto_configure": False}


def span(
    name: str, *, kind: SpanKind = SpanKind.INTERNAL, parent: Context | None = None
) -> AbstractContextManager[Span | None]:
    """A current span, or (tracing off) a shared no-op context giving None."""
    if not _enabled:
        return _NO_SPAN
    return _tracer.start_as_current_span(name, context=parent, kind=kind)


def continued(traceparent: str | None) -> Context | None:
    """The remote parent a `traceparent` names (None: a new trace)."""
    if not traceparent:
        return None
    return _PROPAGATOR.extract({"traceparent": traceparent})


def traceparent_of(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    for key, value in headers or ():
        if key == "traceparent" and value is not None:
            return bytes(value).decode("latin-1")
    return None


def trace_id_of(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    return match.group(1) if match and match.group(1) != "0" * 32 else None


def span_traceparent(current: Span) -> str:
    context = current.get_span_context()
    flags = int(context.trace_flags)
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}"


def trace_headers() -> dict[str, str]:
    """`traceparent` and `correlation-id` for a record published now: the current span's
    (tracing on), else those of the record being handled; none outside of both."""
    current = trace.get_current_span() if _enabled else None
    if current is not None and current.get_span_context().is_valid:
        traceparent: str | None = span_traceparent(current)
    else:
        traceparent = current_traceparent.get()
    trace_id = trace_id_of(traceparent)
    if traceparent is None or trace_id is None:
        return {}
    return {"traceparent": traceparent, "correlation-id": trace_id}


def url_without_query(url: str) -> str:
    """`url` with its query (Okta's carries an email) and fragment cut off."""
    return url.split("?", 1)[0].split("#", 1)[0]


def url_for_span(url: str) -> str:
    """An URL fit for `url.full`: without its query and fragment, and `{id}` in place of the
    segment after `/users/` (`https://okta/api/v1/users/{id}/groups`)."""
    return _PERSON.sub(r"\1{id}", url_without_query(url))


def url_template(url: str) -> str:
    """`url.template`: the path of `url_for_span(url)` (`/api/v1/users/{id}/groups`)."""
    return urlsplit(url_for_span(url)).path


# Attributes that may hold personal data, dropped from every span (`http.route` stays).
_DROPPED = frozenset({"url.path", "url.query"})


class Scrubbed(SpanProcessor):
    """A span processor handing `inner` each ended span without `_DROPPED` attributes and
    with `url.full` as `url_for_span` makes it."""

    def __init__(self, inner: SpanProcessor) -> None:
        self._inner = inner

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        self._inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        attributes = span.attributes or {}
        full = attributes.get("url.full")
        scrubbed = url_for_span(full) if isinstance(full, str) else full
        if _DROPPED.isdisjoint(attributes) and scrubbed == full:
            self._inner.on_end(span)
            return
        kept = {k: v for k, v in attributes.items() if k not in _DROPPED}
        if scrubbed is not None:
            kept["url.full"] = scrubbed
        self._inner.on_end(
            ReadableSpan(
                name=span.name,
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                attributes=kept,
                events=span.events,
                links=span.links,
                kind=span.kind,
                status=span.status,
                start_time=span.start_time,
                end_time=span.end_time,
                instrumentation_scope=span.instrumentation_scope,
            )
        )

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)
