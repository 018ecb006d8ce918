"""What the runner sets around the handling of a record: the log context and the span.

Every line logged while a record is handled carries its trace id (from its `traceparent`),
topic, partition and offset; the trace id is the correlation id too. With tracing on, the
handling is a consumer span continuing the record's trace, so the handler's spans (calls
out, the publish) and the `traceparent` it publishes (`tracing.trace_headers`) are in it.

A batch (one handler call per partition slice) holds records of many traces. The rule:
a line about one record of it is logged within `logged_as(record)` and so carries that
record's trace id, topic, partition and offset, as if it were handled alone (the projector's
skip of an unreadable record does); a line about the batch (the handler's own, the runner's
"batch failed, retrying") carries the slice (`batch_logged`): topic, partition, its first
`offset` and `last_offset`, and no trace id, since none is the batch's (a list of them would
make a line of tens of kilobytes for a batch of a thousand). With tracing on, each record
gets a span per attempt of its batch (that attempt's times and failure) in its own trace, so
a record's trace leads to its offset and the offset to the batch's lines.
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
def logged_as(record: Record) -> Iterator[dict[str, Any]]:
    """Every line logged within carries `record`'s trace id (from its `traceparent`; also
    the correlation id), topic, partition and offset. Gives the fields, which a caller may
    complete (`handling`, when the record's trace starts with its span)."""
    fields: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }
    trace_id = tracing.trace_id_of(tracing.traceparent_of(record.headers))
    if trace_id is not None:
        fields["trace_id"] = trace_id
    tokens = (log_context.record_fields.set(fields), log_context.correlation_id.set(trace_id))
    try:
        yield fields
    finally:
        log_context.record_fields.reset(tokens[0])
        log_context.correlation_id.reset(tokens[1])


@contextlib.contextmanager
def handling(record: Record, consumer: str) -> Iterator[Span | None]:
    """The log context of `record` and (tracing on) its span, for the time it is handled."""
    traceparent = tracing.traceparent_of(record.headers)
    with logged_as(record) as fields:
        token = tracing.current_traceparent.set(traceparent if "trace_id" in fields else None)
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
                if "trace_id" not in fields:  # no trace came with it: the new one is its log's
                    fields["trace_id"] = f"{current.get_span_context().trace_id:032x}"
                    log_context.correlation_id.set(fields["trace_id"])
                yield current
        finally:
            tracing.current_traceparent.reset(token)


@contextlib.contextmanager
def batch_logged(records: Sequence[Record]) -> Iterator[None]:
    """Every line logged within carries the slice: topic, partition, first `offset` and
    `last_offset` (the module's docstring says why no trace id)."""
    first = records[0]
    token = log_context.record_fields.set(
        {
            "topic": first.topic,
            "partition": first.partition,
            "offset": first.offset,
            "last_offset": records[-1].offset,
        }
    )
    try:
        yield
    finally:
        log_context.record_fields.reset(token)


def handling_batches(
    handler: Callable[[Sequence[Record]], Awaitable[None]], consumer: str
) -> Callable[[Sequence[Record]], Awaitable[None]]:
    """`handler`, and (tracing on) after each attempt a span per record of the batch."""

    async def handle(records: Sequence[Record]) -> None:
        started = time.time_ns()
        failure: BaseException | None = None
        try:
            await handler(records)
        except BaseException as exc:
            failure = exc
            raise
        finally:
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
