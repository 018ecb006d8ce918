"""Is the broker answering? One metadata request with a short deadline, off the event loop.

A frozen broker (paused, partitioned away) keeps its connections open and answers nothing:
only a request that must come back tells. Readiness of every service asks this.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from onboarding_runtime.kafka.connection import UNREACHABLE, KafkaAccess, KafkaConnection, cause_of

PROBE_TIMEOUT_S = 2.0


async def broker_answers(client: Producer | AdminClient, access: KafkaAccess) -> bool:
    """The cluster answers a metadata request within `PROBE_TIMEOUT_S` (and so whatever
    `access` held against it is over)."""
    try:
        await asyncio.to_thread(client.list_topics, timeout=PROBE_TIMEOUT_S)
    except KafkaException:
        client.poll(0)  # serves the error callbacks: why it failed reaches `access`
        return False
    access.answered()
    return True


async def why_unreachable(kafka: KafkaConnection, timeout_s: float) -> str:
    """Why the brokers do not answer a client of `kafka`: what they refused (`authentication
    failed`, `TLS handshake failed`) or `unreachable`. For a tool that must say why it
    gives up (aiokafka's clients only say that they could not connect)."""
    heard: list[str] = []

    def errors(error: KafkaError) -> None:
        if (cause := cause_of(error)) is not None:
            heard.append(cause)

    config = kafka.librdkafka({"reconnect.backoff.max.ms": 1000})
    config["error_cb"] = errors
    client = AdminClient(config)
    deadline = asyncio.get_running_loop().time() + timeout_s
    # Until the brokers answer (then the caller's failure was passing), or say why not.
    while not heard and asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(KafkaException):
            await asyncio.to_thread(client.list_topics, timeout=0.5)
            break
        client.poll(0)  # serves the error callbacks queued meanwhile
    refusals = [cause for cause in heard if cause != UNREACHABLE]
    return refusals[0] if refusals else UNREACHABLE


class BrokerProbe:
    """For a service with no producer of its own to ask (query-service)."""

    def __init__(self, kafka: KafkaConnection) -> None:
        self._kafka = kafka
        self._config: dict[str, Any] = kafka.librdkafka(
            {"reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 1000}
        )
        self._client: AdminClient | None = None

    async def healthy(self) -> bool:
        if self._client is None:
            self._client = AdminClient(self._config)
        return await broker_answers(self._client, self._kafka.access)
