"""The workload: a Standard Webhooks sender posting the plan to the ingest replicas.

Employees are sent by `concurrency` workers at once; one employee's versions go one after
the other, the next only after the previous was answered 202 (an employee whose delivery
runs out of time stops there: its later versions are never sent). A delivery that gets a
503, a 429, a 5xx, a timeout or a dropped connection is retried with the same `webhook-id`
and body after an exponential backoff with jitter, never sooner than `Retry-After`, on
the next replica (as a load balancer would), until `budget_s` from its first attempt has
passed. Any other 4xx ends it (`refused`). Each attempt is re-timestamped and, with a
secret, re-signed. Every answer goes into the ledger.

Planned redeliveries (`Redelivery`) are a second send of the same delivery: `immediate`
right after the first was accepted, `late` after the employee's last version.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from tests.chaos.clock import Clock, SystemClock
from tests.chaos.ledger import Attempt, Delivery, DeliveryEnd, ErrorKind, Ledger
from tests.chaos.plan import Employee, Version

WEBHOOK_PATH = "/v1/hr/webhook"

OnAccepted = Callable[[Employee, Version, str], Awaitable[None]]


@dataclass(frozen=True)
class SenderConfig:
    concurrency: int = 32
    request_timeout_s: float = 10.0
    budget_s: float = 300.0  # one delivery, all its retries included
    backoff_base_s: float = 0.25
    backoff_max_s: float = 10.0
    rotate_on_retry: bool = True
    api_key: str | None = None  # sent as X-API-Key
    webhook_secret: str | None = None  # `whsec_<base64>`: requests are signed


@dataclass(frozen=True)
class _Answer:
    status: int | None
    error: ErrorKind | None
    event_id: str | None
    retry_after_s: float | None


class WebhookSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        replicas: Sequence[str],
        ledger: Ledger,
        *,
        config: SenderConfig | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_accepted: OnAccepted | None = None,
    ) -> None:
        if not replicas:
            raise ValueError("at least one ingest base URL is needed")
        self._client = client
        self._replicas = [r.rstrip("/") for r in replicas]
        self._ledger = ledger
        self._config = config or SenderConfig()
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._on_accepted = on_accepted

    async def run(self, employees: Iterable[Employee]) -> Ledger:
        """Send every employee's versions; returns the ledger once all are done."""
        queue: asyncio.Queue[Employee] = asyncio.Queue()
        for employee in employees:
            queue.put_nowait(employee)
        workers = max(1, min(self._config.concurrency, queue.qsize()))

        async def work() -> None:
            while not queue.empty():
                await self.send_employee(queue.get_nowait())

        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(work())
        return self._ledger

    async def send_employee(self, employee: Employee) -> None:
        late: list[Version] = []
        for version in employee.versions:
            first = await self.deliver(employee, version, copy=0)
            if first.end != "accepted":
                break
            if self._on_accepted is not None and first.event_id is not None:
                await self._on_accepted(employee, version, first.event_id)
            if version.redelivery is None:
                continue
            if version.redelivery.when == "late":
                late.append(version)
            else:
                await self.deliver(employee, version, copy=1)
        for version in late:
            await self.deliver(employee, version, copy=1)

    async def deliver(self, employee: Employee, version: Version, *, copy: int) -> Delivery:
        """One send of `version`'s delivery id, with its retries."""
        body = json.dumps(version.body).encode()
        shift = 1 if copy and version.redelivery and version.redelivery.other_replica else 0
        start = self._clock.monotonic()
        started_at = self._clock.now()
        attempt = 0
        while True:
            attempt += 1
            turn = attempt - 1 if self._config.rotate_on_retry else 0
            replica = self._replicas[(version.replica_hint + shift + turn) % len(self._replicas)]
            at = self._clock.now()
            answer = await self._post(replica, version.delivery_id, body)
            self._ledger.record_attempt(
                Attempt(
                    version.delivery_id,
                    employee.employee_id,
                    version.number,
                    copy,
                    attempt,
                    replica,
                    answer.status,
                    answer.error,
                    answer.event_id,
                    answer.retry_after_s,
                    at,
                    self._clock.now(),
                )
            )
            end: DeliveryEnd | None = _end_of(answer)
            wait = self._backoff(attempt, answer.retry_after_s)
            if end is None and self._clock.monotonic() - start + wait > self._config.budget_s:
                end = "gave_up"
            if end is not None:
                delivery = Delivery(
                    version.delivery_id,
                    employee.employee_id,
                    version.number,
                    copy,
                    end,
                    answer.event_id,
                    attempt,
                    started_at,
                    self._clock.now(),
                )
                self._ledger.record_delivery(delivery)
                return delivery
            await self._clock.sleep(wait)

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        ceiling = min(
            self._config.backoff_max_s, self._config.backoff_base_s * 2.0 ** (attempt - 1)
        )
        wait = ceiling * (0.5 + self._rng.random() / 2)
        return max(wait, retry_after_s or 0.0)

    async def _post(self, replica: str, delivery_id: str, body: bytes) -> _Answer:
        headers = self._headers(delivery_id, body)
        try:
            response = await self._client.post(
                replica + WEBHOOK_PATH,
                content=body,
                headers=headers,
                timeout=self._config.request_timeout_s,
            )
        except httpx.TimeoutException:
            return _Answer(None, "timeout", None, None)
        except httpx.ConnectError:
            return _Answer(None, "connect", None, None)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            return _Answer(None, "dropped", None, None)
        except httpx.TransportError:
            return _Answer(None, "other", None, None)
        event_id = _event_id(response) if response.status_code == 202 else None
        return _Answer(
            response.status_code, None, event_id, _retry_after(response.headers.get("retry-after"))
        )

    def _headers(self, delivery_id: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery_id,
            "webhook-timestamp": timestamp,
        }
        if self._config.api_key is not None:
            headers["x-api-key"] = self._config.api_key
        if self._config.webhook_secret is not None:
            headers["webhook-signature"] = sign(
                self._config.webhook_secret, delivery_id, timestamp, body
            )
        return headers


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The Standard Webhooks signature: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _end_of(answer: _Answer) -> DeliveryEnd | None:
    """How an answer ends the delivery; None when it is retried."""
    if answer.status == 202:
        return "accepted"
    if answer.status is not None and answer.status < 500 and answer.status != 429:
        return "refused"
    return None


def _event_id(response: httpx.Response) -> str | None:
    try:
        event_id = response.json().get("event_id")
    except (ValueError, AttributeError):
        return None
    return event_id if isinstance(event_id, str) else None


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (the webhook sends whole seconds; a date is not expected)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
