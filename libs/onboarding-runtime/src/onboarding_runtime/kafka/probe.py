"""Is the broker answering? One metadata request with a short deadline, off the event loop.

A frozen broker (paused, partitioned away) keeps its connections open and answers nothing:
only a request that must come back tells. Readiness of every service asks this.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


async def broker_answers(client: Producer | AdminClient) -> bool:
    """The cluster answers a metadata request within `PROBE_TIMEOUT_S`."""
    try:
        await asyncio.to_thread(client.list_topics, timeout=PROBE_TIMEOUT_S)
    except KafkaException:
        return False
    return True


class BrokerProbe:
    """For a service with no producer of its own to ask (query-service)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "reconnect.backoff.ms": 100,
            "reconnect.backoff.max.ms": 1000,
            "logger": log,
        }
        self._client: AdminClient | None = None

    async def healthy(self) -> bool:
        if self._client is None:
            self._client = AdminClient(self._config)
        return await broker_answers(self._client)
