"""The one logging setup: JSON lines (or text for humans) with the request's correlation id.

Log calls pass PII only through `pii.mask_email` / `Pseudonymizer`; `extra` fields given as
`fields={...}` are rendered as top-level JSON keys. Tracebacks are printed without foreign
exception messages (`tracebacks.py`): those may quote personal data.

Records go through a queue to a writer thread: the event loop only enqueues, and the thread
formats, writes, and flushes once per burst instead of once per line (a flush per line was
~9% of an accepted webhook's CPU). What depends on the calling context (the correlation id,
the message's arguments, the traceback) is fixed on the record before it is queued; an
`atexit` hook drains the queue, so lines logged before exit are not lost.
"""

from __future__ import annotations

import atexit
import contextvars
import copy
import json
import logging
import queue
import sys
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from onboarding_runtime.tracebacks import exception_text

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
# Set around the handling of a Kafka record: its trace id, topic, partition and offset, on
# every line logged meanwhile (`kafka/handling.py`).
record_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "record_fields", default=None
)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
# Set on a queued record: the correlation id of the context that logged it.
_CID = "_correlation_id"
_FIELDS = "_record_fields"


def _correlation(record: logging.LogRecord) -> str | None:
    if _CID in record.__dict__:
        cid: str | None = record.__dict__[_CID]
        return cid
    return correlation_id.get()


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields: dict[str, Any] | None = (
        record.__dict__[_FIELDS] if _FIELDS in record.__dict__ else record_fields.get()
    )
    return fields or {}


class _SafeExceptions(logging.Formatter):
    """Tracebacks without foreign messages, even when another handler formatted the record
    first (`logging` caches the first formatter's traceback text on the record)."""

    def formatException(self, ei: Any) -> str:
        return exception_text(ei[1]) if ei and ei[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        if not record.exc_info:
            return super().format(record)
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


class JsonFormatter(_SafeExceptions):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = _correlation(record)
        if cid:
            entry["correlation_id"] = cid
        entry.update(_record_fields(record))
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:  # formatted before the record was queued
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


class TextFormatter(_SafeExceptions):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {
            k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")
        }
        cid = _correlation(record)
        if cid:
            extras["correlation_id"] = cid
        extras.update(_record_fields(record))
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


class _ContextQueueHandler(QueueHandler):
    """Queues a copy of the record with everything the caller's context decides already fixed.

    Unlike `QueueHandler.prepare`, the formatter's output is not baked into the message: the
    writer thread's formatter still sees the fields, so the output is the same as unqueued.
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        queued = copy.copy(record)
        queued.msg = record.getMessage()
        queued.args = None
        if record.exc_info:
            queued.exc_text = exception_text(record.exc_info[1]) if record.exc_info[1] else None
            queued.exc_info = None  # a traceback holds frames: not for another thread
        queued.__dict__[_CID] = correlation_id.get()
        queued.__dict__[_FIELDS] = record_fields.get()
        return queued


class _BurstStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each line, and flushes only when no more lines are waiting."""

    def __init__(self, stream: Any, waiting: queue.SimpleQueue[logging.LogRecord]) -> None:
        super().__init__(stream)
        self._waiting = waiting

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
            if self._waiting.empty():
                self.flush()
        except Exception:
            self.handleError(record)


class KafkaRetryNoise(logging.Filter):
    """Drops the client libraries' own line for each failed connection attempt: a client
    retries every second or so, and the process's `KafkaAccess` (`kafka/connection.py`),
    which hears the same failures, says them in one line a minute instead."""

    # aiokafka's lines for a bootstrap or a broker it could not connect to.
    AIOKAFKA = frozenset(
        {
            'Unable connect to "%s:%s": %s',
            "Unable connect to node with id %s: %s",
            'Unable to request metadata from "%s:%s": %s',
        }
    )
    # librdkafka's facilities for a failed connection (its `error_cb` gets them too).
    LIBRDKAFKA = frozenset({"FAIL", "ERROR"})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("aiokafka"):
            return record.msg not in self.AIOKAFKA
        if record.name == "onboarding_runtime.kafka.librdkafka" and record.args:
            return not (isinstance(record.args, tuple) and record.args[0] in self.LIBRDKAFKA)
        return True


_listener: QueueListener | None = None


def _stop_listener() -> None:
    global _listener
    if _listener is not None:
        _listener.stop()  # drains what is queued
        _listener = None


atexit.register(_stop_listener)


def configure_logging(service: str, *, log_format: str = "json", level: str = "INFO") -> None:
    global _listener
    _stop_listener()
    waiting: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = _BurstStreamHandler(sys.stdout, waiting)
    formatter: logging.Formatter = (
        TextFormatter(service) if log_format == "text" else JsonFormatter(service)
    )
    writer.setFormatter(formatter)
    _listener = QueueListener(waiting, writer)
    _listener.start()
    root = logging.getLogger()
    handler = _ContextQueueHandler(waiting)
    handler.addFilter(KafkaRetryNoise())
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log would print paths with employee ids in clear.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("aiokafka", "kafka", "pymongo", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
