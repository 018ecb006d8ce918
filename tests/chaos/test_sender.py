"""The workload sender against a scripted ingest at the transport (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from tests.chaos.fakes import FakeClock
from tests.chaos.ledger import Ledger
from tests.chaos.plan import Employee, Plan, Version, build_plan
from tests.chaos.sender import SenderConfig, WebhookSender

REPLICAS = ["http://ingest-a", "http://ingest-b", "http://ingest-c"]

# What the scripted ingest answers: a status (with Retry-After for 429/503), or an error.
Scripted = int | Callable[[httpx.Request], Exception]


@dataclass(frozen=True)
class Seen:
    replica: str
    delivery_id: str
    body: bytes
    headers: httpx.Headers


@dataclass
class FakeIngest:
    """Answers each delivery id's requests from its script, then 202 with a uuid5 event id."""

    scripts: dict[str, list[Scripted]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    retry_after: str = "5"
    in_flight: int = 0
    most_in_flight: int = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        delivery_id = request.headers["webhook-id"]
        self.seen.append(
            Seen(f"http://{request.url.host}", delivery_id, request.content, request.headers)
        )
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let the other workers in: the bound is what is measured
            script = self.scripts.get(delivery_id, [])
            answer = script.pop(0) if script else 202
            if not isinstance(answer, int):
                raise answer(request)
            if answer == 202:
                event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, delivery_id))
                return httpx.Response(202, json={"status": "accepted", "event_id": event_id})
            headers = {"retry-after": self.retry_after} if answer in (429, 503) else {}
            return httpx.Response(answer, json={"detail": "scripted"}, headers=headers)
        finally:
            self.in_flight -= 1

    def of(self, delivery_id: str) -> list[Seen]:
        return [s for s in self.seen if s.delivery_id == delivery_id]


async def _run(
    plan: Plan | list[Employee],
    ingest: FakeIngest,
    *,
    config: SenderConfig | None = None,
    clock: FakeClock | None = None,
) -> Ledger:
    async with httpx.AsyncClient(transport=httpx.MockTransport(ingest)) as client:
        sender = WebhookSender(
            client, REPLICAS, Ledger(), config=config, clock=clock or FakeClock()
        )
        return await sender.run(plan)


def _one(plan: Plan, version: int = 1) -> Version:
    return plan.employees[0].versions[version - 1]


def _timeout(request: httpx.Request) -> Exception:
    return httpx.ReadTimeout("scripted", request=request)


def _dropped(request: httpx.Request) -> Exception:
    return httpx.RemoteProtocolError("scripted", request=request)


def _refused(request: httpx.Request) -> Exception:
    return httpx.ConnectError("scripted", request=request)


async def test_versions_go_in_order_and_redeliveries_repeat_id_and_body() -> None:
    plan = build_plan(8, redeliver_fraction=0.5, seed=3)
    ingest = FakeIngest()

    ledger = await _run(plan, ingest, config=SenderConfig(concurrency=3))

    redelivered = [v for e in plan for v in e.versions if v.redelivery]
    assert redelivered, "the seed plans some redeliveries"
    assert len(ingest.seen) == plan.versions_total + len(redelivered)
    assert {d.end for d in ledger.deliveries} == {"accepted"}
    for employee in plan:
        own = {v.delivery_id for v in employee.versions}
        order = [s.delivery_id for s in ingest.seen if s.delivery_id in own]
        firsts = [order.index(v.delivery_id) for v in employee.versions]
        assert firsts == sorted(firsts)
        for version in employee.versions:
            sends = ingest.of(version.delivery_id)
            assert len({s.body for s in sends}) == 1
            assert len(set(ledger.event_ids()[version.delivery_id])) == 1
            if version.redelivery is None:
                assert len(sends) == 1
                continue
            second = len(order) - 1 - order[::-1].index(version.delivery_id)
            if version.redelivery.when == "late":
                assert second > max(firsts)
            elif version.number < len(employee.versions):
                assert second < firsts[version.number]
            if version.redelivery.other_replica:
                assert sends[0].replica != sends[1].replica
            else:
                assert sends[0].replica == sends[1].replica


async def test_a_503_is_retried_after_retry_after_on_the_next_replica() -> None:
    plan = build_plan(1, versions=1, redeliver_fraction=0.0)
    version = _one(plan)
    ingest = FakeIngest({version.delivery_id: [503, 202]}, retry_after="7")
    clock = FakeClock()

    ledger = await _run(plan, ingest, clock=clock)

    sends = ingest.of(version.delivery_id)
    assert [a.status for a in ledger.attempts] == [503, 202]
    assert ledger.attempts[0].retry_after_s == 7
    assert clock.slept[0] >= 7
    assert sends[0].body == sends[1].body
    assert sends[0].replica != sends[1].replica
    assert ledger.deliveries[0].attempts == 2


async def test_timeouts_drops_refusals_and_429s_are_retried() -> None:
    plan = build_plan(1, versions=1, redeliver_fraction=0.0)
    version = _one(plan)
    script: list[Scripted] = [_timeout, _dropped, _refused, 429, 202]
    ingest = FakeIngest({version.delivery_id: script}, retry_after="1")

    ledger = await _run(plan, ingest)

    assert [a.outcome for a in ledger.attempts] == ["timeout", "dropped", "connect", "429", "202"]
    assert ledger.outcome_counts() == {
        "202": 1,
        "429": 1,
        "connect": 1,
        "dropped": 1,
        "timeout": 1,
    }
    assert ledger.deliveries[0].end == "accepted"


async def test_backoff_grows_and_is_bounded() -> None:
    plan = build_plan(1, versions=1, redeliver_fraction=0.0)
    version = _one(plan)
    ingest = FakeIngest({version.delivery_id: [_timeout] * 8})
    clock = FakeClock()
    config = SenderConfig(backoff_base_s=1.0, backoff_max_s=4.0)

    await _run(plan, ingest, config=config, clock=clock)

    assert 0.5 <= clock.slept[0] <= 1.0
    assert 1.0 <= clock.slept[1] <= 2.0
    assert all(2.0 <= s <= 4.0 for s in clock.slept[3:])


async def test_out_of_time_it_gives_up_and_sends_no_later_version() -> None:
    plan = build_plan(1, versions=3, redeliver_fraction=0.0)
    first = _one(plan)
    ingest = FakeIngest({first.delivery_id: [503] * 1000}, retry_after="5")
    clock = FakeClock()

    ledger = await _run(plan, ingest, config=SenderConfig(budget_s=30), clock=clock)

    assert [d.end for d in ledger.deliveries] == ["gave_up"]
    assert {s.delivery_id for s in ingest.seen} == {first.delivery_id}
    assert sum(clock.slept) <= 30
    assert len(ledger.attempts) >= 5


async def test_a_refusal_is_not_retried() -> None:
    plan = build_plan(1, versions=2, redeliver_fraction=0.0)
    first = _one(plan)
    ingest = FakeIngest({first.delivery_id: [422]})

    ledger = await _run(plan, ingest)

    assert [(a.status, d.end) for a, d in zip(ledger.attempts, ledger.deliveries, strict=True)] == [
        (422, "refused")
    ]
    assert ledger.off_contract() == ledger.attempts


async def test_no_more_employees_in_flight_than_the_concurrency() -> None:
    plan = build_plan(12, redeliver_fraction=0.0)
    ingest = FakeIngest()

    await _run(plan, ingest, config=SenderConfig(concurrency=4))

    assert ingest.most_in_flight == 4


async def test_signed_with_the_secret_and_keyed() -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    plan = build_plan(1, versions=1, redeliver_fraction=0.0)
    ingest = FakeIngest()
    config = SenderConfig(webhook_secret=secret, api_key="k1")

    await _run(plan, ingest, config=config, clock=FakeClock(datetime.now(UTC)))

    [seen] = ingest.seen
    assert seen.headers["x-api-key"] == "k1"
    Webhook(secret).verify(seen.body, dict(seen.headers))  # raises when it does not verify


async def test_on_accepted_hears_each_first_acceptance() -> None:
    plan = build_plan(2, versions=2, redeliver_fraction=1.0, seed=1)
    heard: list[tuple[str, int, str]] = []

    async def on_accepted(employee: Employee, version: Version, event_id: str) -> None:
        heard.append((employee.employee_id, version.number, event_id))

    async with httpx.AsyncClient(transport=httpx.MockTransport(FakeIngest())) as client:
        sender = WebhookSender(
            client, REPLICAS, Ledger(), clock=FakeClock(), on_accepted=on_accepted
        )
        await sender.run(plan)

    assert sorted((who, n) for who, n, _ in heard) == sorted(
        (e.employee_id, v.number) for e in plan for v in e.versions
    )


async def test_the_ledger_reads_back_what_it_wrote(tmp_path: Path) -> None:
    plan = build_plan(2, redeliver_fraction=1.0, seed=2)
    ledger = await _run(plan, FakeIngest({_one(plan).delivery_id: [503, _timeout]}))
    path = tmp_path / "ledger.jsonl"

    ledger.write_jsonl(path)

    assert Ledger.read_jsonl(path) == ledger


async def test_at_least_one_replica_is_needed() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(FakeIngest())) as client:
        with pytest.raises(ValueError, match="ingest"):
            WebhookSender(client, [], Ledger())
