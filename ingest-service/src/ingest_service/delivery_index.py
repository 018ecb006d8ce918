"""Which webhook deliveries were accepted lately: rebuilt from `hr.users.v1` itself.

Every event written for a delivery carries its delivery id in the `delivery-id` Kafka
header, so the HR topic is the durable record of what was accepted; there is no second
store to keep in step with it, and nothing but Kafka on a request's path. Each ingest
process follows the topic from `retention` ago (`TopicFollower`), so it knows the
deliveries accepted before it started and those accepted by the other replicas, and adds
its own the moment Kafka acknowledges them. Until the follower has caught up the index
is not `ready` and a request with a delivery id is answered 503 (the sender retries).

The index is bounded: past `max_entries` the oldest ids are forgotten early (counted in
`ingest_dedupe_evicted_total`). Each entry is the id and a timestamp, about 200 bytes.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from confluent_kafka import Message

from ingest_service.metrics import DEDUPE_EVICTED

DELIVERY_ID_HEADER = "delivery-id"


class DeliveryIndex:
    def __init__(
        self,
        *,
        retention_s: float,
        max_entries: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._retention_ms = int(retention_s * 1000)
        self._max_entries = max_entries
        self._clock = clock
        # delivery id -> when it was accepted (ms); oldest first, near enough: records of
        # several partitions interleave, so expiry can keep an entry a little longer.
        self._accepted: OrderedDict[str, int] = OrderedDict()
        self.ready = False

    def __len__(self) -> int:
        return len(self._accepted)

    def __contains__(self, delivery_id: object) -> bool:
        if not isinstance(delivery_id, str):
            return False
        accepted_at = self._accepted.get(delivery_id)
        return accepted_at is not None and accepted_at > self._now_ms() - self._retention_ms

    def add(self, delivery_id: str, accepted_at_ms: int | None = None) -> None:
        now = self._now_ms()
        at = now if accepted_at_ms is None else accepted_at_ms
        if at <= now - self._retention_ms or delivery_id in self._accepted:
            return  # too old to matter, or known: the first acceptance counts
        self._accepted[delivery_id] = at
        self._expire(now)

    def apply(self, record: Message) -> None:
        """One record of the HR topic: remember its delivery id, if it has one."""
        headers = record.headers() or ()  # a list from the consumer; a dict when built so
        for name, value in headers.items() if isinstance(headers, dict) else headers:
            if name == DELIVERY_ID_HEADER:
                delivery = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                if delivery is not None:
                    self.add(delivery, record.timestamp()[1])
                return

    def _expire(self, now_ms: int) -> None:
        accepted = self._accepted
        while len(accepted) > self._max_entries:
            accepted.popitem(last=False)
            DEDUPE_EVICTED.inc()
        horizon = now_ms - self._retention_ms
        while accepted and next(iter(accepted.values())) <= horizon:
            accepted.popitem(last=False)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
