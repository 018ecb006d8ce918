"""A durable producer: idempotent, `acks=all`, every record's acknowledgement awaitable.

Built on librdkafka (confluent-kafka), not aiokafka: batching, compression, the network
and the broker's answers are handled by librdkafka's own threads, outside the GIL. On the
ingest service's hot path that was about 16 µs of the event loop's CPU per accepted
webhook (tests/bench/ingest_throughput.py). The event loop only hands records over
(`produce`, a C call) and collects the delivery reports: `poll(0)` from a task that runs
every millisecond while records are in flight, so every callback runs on the loop's thread.

Every record handed over gets exactly one delivery report, within `timeout_s`
(`message.timeout.ms`): acknowledged, or failed. So every acknowledgement future settles,
and nothing handed over is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from onboarding_runtime.kafka.connection import KafkaConnection
from onboarding_runtime.kafka.probe import broker_answers

log = logging.getLogger(__name__)

# How often delivery reports are collected while records are in flight: the latency it
# adds to an acknowledgement, at most.
_POLL_INTERVAL_S = 0.001


class PublishError(Exception):
    """The broker did not acknowledge the record in time; it may or may not be written."""


@dataclass(frozen=True)
class Written:
    """Where an acknowledged record is: its partition, offset and timestamp (ms)."""

    topic: str
    partition: int
    offset: int
    timestamp: int


class EventProducer:
    def __init__(
        self, kafka: KafkaConnection, *, timeout_s: float = 5.0, linger_ms: int = 2
    ) -> None:
        """`timeout_s`: how long a record may take to be acknowledged before it fails;
        `linger_ms`: how long a record may wait for others to share its produce request."""
        self._kafka = kafka
        self._config: dict[str, Any] = kafka.librdkafka(
            {
                "enable.idempotence": True,  # and with it acks=all, ordered retries
                "acks": "all",
                "linger.ms": linger_ms,
                # The Java client's partition of a key (murmur2): every producer of ours, the
                # operators' tools and any Java producer put one employee in one partition.
                "partitioner": "murmur2_random",
                "message.timeout.ms": int(timeout_s * 1000),
                "request.timeout.ms": int(min(timeout_s, 30.0) * 1000),
                "retry.backoff.ms": 100,
                # A restarted broker is found again within a second, not librdkafka's 10 s.
                "reconnect.backoff.ms": 100,
                "reconnect.backoff.max.ms": 1000,
            },
            on_error=self._on_error,
        )
        self._timeout_s = timeout_s
        self._producer: Producer | None = None
        self._retired: list[Producer] = []  # after a fatal error: drained, then dropped
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connects in the background: records handed over while the broker is away wait
        for it (up to `timeout_s`), so a service comes up even while Kafka is down."""
        self._client()

    async def stop(self, *, wait_s: float | None = None) -> None:
        """Wait (up to `wait_s`, by default `timeout_s`) for what is in flight; what is
        left then fails, each record's future with `PublishError`."""
        producers = self._producers()
        self._producer, self._retired = None, []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._timeout_s if wait_s is None else wait_s)
        for producer in producers:
            while len(producer) > 0 and loop.time() < deadline:
                producer.poll(0)
                await asyncio.sleep(0.01)
            producer.purge()  # whatever is still queued fails, and is reported as failed
            producer.poll(0)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def flush(self) -> None:
        """Wait until every record handed over so far has its delivery report: written, or
        failed (`message.timeout.ms` bounds it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s + 1.0
        while any(len(p) > 0 for p in self._producers()) and loop.time() < deadline:
            for producer in self._producers():
                producer.poll(0)
            await asyncio.sleep(0.01)

    def _producers(self) -> list[Producer]:
        """Every client with records that may still be reported: retired ones first."""
        return [*self._retired, *([self._producer] if self._producer else [])]

    def _client(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(self._config)
        return self._producer

    async def publish(
        self,
        topic: str,
        *,
        key: str,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Written:
        """Send and wait for the acknowledgement from all in-sync replicas."""
        written: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._produce(topic, key, value, headers, partial(_report_written, written))
        return await written

    def enqueue(
        self,
        topic: str,
        *,
        key: str,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[None]:
        """Hand the record over and return its acknowledgement, without waiting for it.

        The record is sent whether or not anyone waits: a caller that stops waiting (a
        request answered 503) leaves it in flight, and the future still settles, with
        `PublishError` when the broker did not take it within `timeout_s`.
        """
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._produce(topic, key, value, headers, partial(_report, acknowledged))
        return acknowledged

    def _produce(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None,
        on_delivery: Any,
    ) -> None:
        producer = self._client()
        # The stub wants a list of `str | bytes | None` values; ours (bytes) is one, uncopied.
        sent_headers = cast("list[tuple[str, str | bytes | None]] | None", headers)
        try:
            producer.produce(topic, value, key, headers=sent_headers, on_delivery=on_delivery)
        except BufferError:  # librdkafka's queue is full: the broker is away or slow
            raise PublishError("Kafka is not keeping up: the send queue is full") from None
        except KafkaException as exc:
            raise PublishError(f"Kafka did not take the record: {exc.args[0].str()}") from None
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(
                self._collect_reports(), name="kafka-delivery-reports"
            )

    async def _collect_reports(self) -> None:
        """Serve delivery reports (and errors, logs) until nothing is in flight."""
        try:
            while True:
                pending = 0
                for producer in self._producers():
                    try:
                        producer.poll(0)
                    except Exception:  # a callback failed: the other reports still count
                        log.exception("serving Kafka delivery reports failed")
                    pending += len(producer)
                self._retired = [p for p in self._retired if len(p) > 0]
                if not pending:
                    return
                await asyncio.sleep(_POLL_INTERVAL_S)
        finally:
            self._poller = None

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            # The idempotent producer cannot go on (a fenced or out-of-sequence producer
            # id): its records in flight fail, and the next record gets a fresh producer.
            log.error("Kafka producer failed for good, starting a new one: %s", error.name())
            if self._producer is not None:
                self._retired.append(self._producer)
                self._producer = None
        else:
            log.warning("Kafka producer: %s", error.name())

    async def healthy(self) -> bool:
        """The broker answers a metadata request (`probe.py`)."""
        return await broker_answers(self._client(), self._kafka.access)


def _failure(error: KafkaError) -> PublishError:
    return PublishError(f"Kafka did not acknowledge: {error.name()}")


def _report(acknowledged: asyncio.Future[None], error: KafkaError | None, _: Message) -> None:
    if acknowledged.done():
        return
    if error is None:
        acknowledged.set_result(None)
    else:
        acknowledged.set_exception(_failure(error))


def _report_written(
    written: asyncio.Future[Written], error: KafkaError | None, msg: Message
) -> None:
    if written.done():
        return
    if error is not None:
        written.set_exception(_failure(error))
        return
    partition, offset = msg.partition(), msg.offset()
    written.set_result(
        Written(
            topic=msg.topic() or "",
            partition=partition if partition is not None else -1,
            offset=offset if offset is not None else -1,
            timestamp=msg.timestamp()[1],
        )
    )
