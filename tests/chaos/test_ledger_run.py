"""A tiny ledger run on the session stack, no faults: the checker finds nothing wrong.

Five employees, three versions each, with the planned redeliveries: three people Okta knows,
one it learns of two seconds in (the enricher waits for them), one it never knows (dead-
lettered after the stack's short not-found period: expected `failed`). Once every status is
settled, one completed employee is erased with `onboarding-ops erase`; then the checker
reads the topics and the query API, scans the services' logs, and the report is written.

Redeliveries here are all `immediate` (before the employee's next version). A `late` one
(an older version sent again after a newer one was accepted) can reach the ingest worker
that has not read the first record yet, which writes it again with a later CloudEvent time.
Those copies are what the short and full runs (`test_chaos_short.py`, `make chaos`) and the
enrich and query tests of copies exercise; this smoke test of the harness keeps to
immediate ones so that it checks the harness itself.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from onboarding_devstack.polling import eventually_async
from onboarding_devstack.stack import SERVICES, StackConfig, managed
from onboarding_runtime.settings import DEVELOPMENT_PII_KEY

from tests.chaos.checker import check, settled
from tests.chaos.ledger import Ledger
from tests.chaos.okta import put_okta_users
from tests.chaos.plan import OktaPresence, build_plan
from tests.chaos.readiness import FaultWindow, ReadinessProbe
from tests.chaos.report import build_report, write_report
from tests.chaos.sender import SenderConfig, WebhookSender
from tests.chaos.sources import LiveSources, erasure_times
from tests.e2e.ops_support import ops

pytestmark = pytest.mark.integration

PRESENCE: dict[int, OktaPresence] = {3: "late", 4: "never"}


async def test_a_small_ledger_run_loses_regresses_duplicates_and_resurrects_nothing(
    stack: StackConfig, tmp_path: Path
) -> None:
    plan = build_plan(
        5, okta=lambda i: PRESENCE.get(i, "present"), late_redelivery_fraction=0.0, seed=7
    )
    erased = plan.employees[0].employee_id
    ingest = stack.url("ingest-service")
    readyz = [f"{stack.url(s)}/v1/readyz" for s in SERVICES]
    env = stack.service_env()

    async with httpx.AsyncClient(timeout=10) as client:
        simulator = stack.url("okta-simulator")
        await put_okta_users(client, simulator, plan.with_okta("present"))
        await put_okta_users(client, simulator, plan.with_okta("late"), appears_after_s=2)
        async with (
            ReadinessProbe(client, readyz) as probe,
            LiveSources(stack.bootstrap_servers, stack.url("query-service")) as sources,
        ):
            began = datetime.now(UTC)
            sender = WebhookSender(client, [ingest], Ledger(), config=SenderConfig(budget_s=30))
            ledger = await sender.run(plan)
            sent = datetime.now(UTC)

            async def quiet() -> bool | None:
                return await settled(plan, ledger, sources) or None

            quiet_now: bool = await eventually_async(quiet, within=45, every=0.5)
            assert quiet_now

            erasing = await asyncio.to_thread(ops, stack, "erase", erased)
            assert erasing.returncode == 0, erasing.stderr
            plan.expect(erased, "erased")
            pii_key = env.get("PII_HASH_KEY", DEVELOPMENT_PII_KEY)
            erasures = await erasure_times(stack.bootstrap_servers, [erased], pii_key)
            logs = [managed(stack, s).log_file for s in SERVICES]
            result = await check(plan, ledger, sources, erasures=erasures, log_files=logs)

    report = build_report(
        plan,
        ledger,
        result,
        samples=probe.samples,
        faults=[FaultWindow("none (sending)", began, sent)],
        ingest_readyz=[f"{ingest}/v1/readyz"],
    )
    markdown, _ = write_report(report, tmp_path / "ledger-run.md")

    assert result.violations == (), markdown.read_text()
    assert report.passed
    assert (report.events_planned, report.events_sent, report.events_accepted) == (15, 15, 15)
    assert report.deliveries == 15 + 5  # seed 7 plans five redeliveries
    assert report.answers == {"202": report.requests}
    assert result.outcomes == {"completed": 3, "failed": 1, "erased": 1}
    assert set(erasures) == {erased}
    [fault] = report.faults
    assert fault.ingest_503_s == 0.0
    assert fault.recovered_after_s is not None
