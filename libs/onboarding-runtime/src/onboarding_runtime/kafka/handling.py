"""What the runner sets around the handling of a record: the log context and the span.

Every line logged while a record is handled carries its trace id (from its `traceparent`),
topic, partition and offset; the trace id is the correlation id too. With tracing on, the
handling is a consumer span continuing the record's trace, so the handler's spans (calls
out, the publish) and the `traceparent` it publishes (`tracing.trace_headers`) are in it.

A batch (one handler call per partition slice) is logged with its first and last offsets;
with tracing on, each record gets its own span (the batch's times) in its own trace.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

# A module, not its names: `logging` imports `kafka` (through `tracebacks`) in turn.
import onboarding_runtime.logging as log_context
from onboarding_runtime import tracing
from onboarding_runtime.kafka.lanes import Record

_tracer = trace.get_tracer("onboarding.kafka")


def _attributes(record: Record, consumer: str) -> dict[str, Any]:
    return {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
        "messaging.consumer.group.name": consumer,
    }


@contextlib.contextmanager
def handling(record: Record, consumer: str) -> Iterator[Span | None]:
    """The log context of `record` and (tracing on) its span, for the time it is handled."""
    traceparent = tracing.traceparent_of(record.headers)
    fields: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }
    trace_id = tracing.trace_id_of(traceparent)
    if trace_id is not None:
        fields["trace_id"] = trace_id
    tokens = (
        log_context.record_fields.set(fields),
        log_context.correlation_id.set(trace_id),
        tracing.current_traceparent.set(traceparent if trace_id is not None else None),
    )
    try:
        if not tracing.enabled():
            yield None
            return
        with _tracer.start_as_current_span(
            f"{record.topic} process",
            context=tracing.continued(traceparent),
            kind=SpanKind.CONSUMER,
            attributes=_attributes(record, consumer),
        ) as current:
            if trace_id is None:  # no trace came with it: the new one is its log's
                fields["trace_id"] = f"{current.get_span_context().trace_id:032x}"
                log_context.correlation_id.set(fields["trace_id"])
            yield current
    finally:
        log_context.record_fields.reset(tokens[0])
        log_context.correlation_id.reset(tokens[1])
        tracing.current_traceparent.reset(tokens[2])


def handling_batches(
    handler: Callable[[Sequence[Record]], Awaitable[None]], consumer: str
) -> Callable[[Sequence[Record]], Awaitable[None]]:
    async def handle(records: Sequence[Record]) -> None:
        first = records[0]
        token = log_context.record_fields.set(
            {
                "topic": first.topic,
                "partition": first.partition,
                "offset": first.offset,
                "last_offset": records[-1].offset,
            }
        )
        started = time.time_ns()
        failure: BaseException | None = None
        try:
            await handler(records)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            log_context.record_fields.reset(token)
            if tracing.enabled():
                _record_spans(records, consumer, started, time.time_ns(), failure)

    return handle


def _record_spans(
    records: Sequence[Record],
    consumer: str,
    started: int,
    ended: int,
    failure: BaseException | None,
) -> None:
    for record in records:
        attributes = _attributes(record, consumer)
        attributes["messaging.batch.message_count"] = len(records)
        current = _tracer.start_span(
            f"{record.topic} process",
            context=tracing.continued(tracing.traceparent_of(record.headers)),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            start_time=started,
        )
        if failure is not None:
            current.set_status(Status(StatusCode.ERROR, type(failure).__name__))
        current.end(end_time=ended)
