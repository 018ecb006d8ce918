"""The report: the same table as Markdown and JSON, per fault its readiness figures."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from onboarding_events import HR_USERS_DLQ_TOPIC

from tests.chaos.checker import check
from tests.chaos.fakes import T0, FakeClock, clean_world, to_tier, waiting_status
from tests.chaos.plan import build_plan
from tests.chaos.readiness import FaultWindow, ReadinessSample
from tests.chaos.report import build_report, to_json, to_markdown, write_report
from tests.chaos.sources import HttpAnswer


@dataclass(frozen=True)
class EpochFault:
    """A window as a fault injector may keep it: epoch seconds."""

    name: str
    started: float
    ended: float


INGEST, QUERY = "http://ingest/v1/readyz", "http://query/v1/readyz"


def _s(url: str, seconds: float, status: int | None) -> ReadinessSample:
    return ReadinessSample(T0 + timedelta(seconds=seconds), url, status, ())


SAMPLES = [
    _s(INGEST, 0, 200),
    _s(INGEST, 10, 503),
    _s(INGEST, 13, 200),
    _s(QUERY, 0, 200),
    _s(QUERY, 12, 503),
    _s(QUERY, 17.5, 200),
]
FAULT = FaultWindow("broker-2 killed", T0 + timedelta(seconds=9), T0 + timedelta(seconds=15))


async def test_a_clean_run_reports_zeros_and_its_faults(tmp_path: Path) -> None:
    world = clean_world(build_plan(3, redeliver_fraction=1.0, seed=5))
    result = await check(world.plan, world.ledger, world.sources)
    timed_out = dataclasses.replace(world.ledger.attempts[0], status=503, started_at=FAULT.start)
    world.ledger.record_attempt(timed_out)

    report = build_report(
        world.plan, world.ledger, result, samples=SAMPLES, faults=[FAULT], ingest_readyz=[INGEST]
    )

    assert report == build_report(
        world.plan,
        world.ledger,
        result,
        samples=SAMPLES,
        faults=[EpochFault(FAULT.name, FAULT.start.timestamp(), FAULT.end.timestamp())],
        ingest_readyz=[INGEST],
    )
    assert report.passed
    assert (report.events_planned, report.events_sent, report.events_accepted) == (9, 9, 9)
    assert report.deliveries == 18
    assert report.requests == 19
    assert set(report.violations.values()) == {0}
    assert report.answers == {"202": 18, "503": 1}
    [fault] = report.faults
    assert (fault.ingest_503_s, fault.ingest_no_answer_s, fault.webhook_503s) == (3.0, 0.0, 1)
    assert fault.recovered_after_s == 2.5
    markdown = to_markdown(report)
    assert markdown.startswith(f"# Ledger run `{world.plan.run_tag}`: PASSED")
    assert "| **lost** | 0 |" in markdown
    assert "| broker-2 killed |" in markdown
    assert "| 3.00 | 0.00 | 1 | 2.50 |" in markdown
    assert json.loads(to_json(report))["faults"][0]["recovered_after_s"] == 2.5

    md, js = write_report(report, tmp_path / "out" / "ledger-run.md")

    assert md.read_text() == markdown
    assert json.loads(js.read_text()) == json.loads(to_json(report))
    assert js.name == "ledger-run.json"


async def test_a_failed_run_names_its_first_violations() -> None:
    world = clean_world(build_plan(2, seed=5))
    who = world.plan.employees[0].employee_id
    world.sources.users.pop(who)
    result = await check(world.plan, world.ledger, world.sources)

    report = build_report(world.plan, world.ledger, result)

    assert not report.passed
    assert report.violations["lost"] == 1
    markdown = to_markdown(report)
    assert "FAILED" in markdown.splitlines()[0]
    assert f"- lost/not_served {who}: v3 accepted" in markdown
    assert "Faults:" not in markdown


async def test_the_verdict_names_the_employees_still_waiting_on_a_retry_tier() -> None:
    # one person Okta never knows, not dead-lettered yet: still waiting, which passes
    world = clean_world(build_plan(2, okta=lambda i: "never" if i == 1 else "present", seed=5))
    who = world.plan.employees[1].employee_id
    world.sources.topics[HR_USERS_DLQ_TOPIC].clear()
    waiting_status(world.sources, to_tier(world.sources, world.hr[who, 3], 2))
    result = await check(world.plan, world.ledger, world.sources, clock=FakeClock())

    report = build_report(world.plan, world.ledger, result)

    assert report.passed
    assert report.violations["lost"] == 0
    assert report.reported["waiting"] == 1
    verdict = to_markdown(report).splitlines()[0]
    assert verdict.endswith(": PASSED, 1 still waiting on a retry tier (not lost)")


async def test_a_fault_never_recovered_from_says_so() -> None:
    world = clean_world(build_plan(1, seed=5))
    world.sources.users[world.plan.employees[0].employee_id] = HttpAnswer(503, None)
    result = await check(world.plan, world.ledger, world.sources)
    stuck = [*SAMPLES[:3], _s(QUERY, 0, 200), _s(QUERY, 12, 503)]

    report = build_report(
        world.plan, world.ledger, result, samples=stuck, faults=[FAULT], ingest_readyz=[INGEST]
    )

    assert report.faults[0].recovered_after_s is None
    assert "not recovered" in to_markdown(report)
    assert report.violations["unverified"] == 1
    assert report.slow_recoveries == ("broker-2 killed",)


async def test_a_service_ready_again_only_after_a_minute_fails_the_run() -> None:
    world = clean_world(build_plan(1, seed=5))
    result = await check(world.plan, world.ledger, world.sources)
    late = [*SAMPLES[:3], _s(QUERY, 0, 200), _s(QUERY, 12, 503), _s(QUERY, 15 + 61, 200)]

    report = build_report(
        world.plan, world.ledger, result, samples=late, faults=[FAULT], ingest_readyz=[INGEST]
    )

    assert result.ok
    assert not report.passed
    assert report.faults[0].recovered_after_s == 61.0
    assert "within 60 s after:\n\n- broker-2 killed" in to_markdown(report)


async def test_each_fault_says_which_replicas_answered_503_and_for_what() -> None:
    world = clean_world(build_plan(1, seed=5))
    result = await check(world.plan, world.ledger, world.sources)
    cut = ReadinessSample(T0 + timedelta(seconds=12), QUERY, 503, ("mongodb",))
    samples = [*SAMPLES[:3], _s(QUERY, 0, 200), cut, _s(QUERY, 17.5, 200)]
    names = {INGEST: "ingest-service-1", QUERY: "query-service-1"}

    report = build_report(
        world.plan, world.ledger, result, samples=samples, faults=[FAULT], names=names
    )

    assert report.faults[0].said_unready == ("ingest-service-1: ?", "query-service-1: mongodb")
    assert "| ingest-service-1: ?; query-service-1: mongodb |" in to_markdown(report)
