"""The ledger run's verdict: the plan and the ledger held against the topics and the query API.

Run it once the system is quiet (`settled`). Violations fail the run; notices are reported.

- **lost**: a 202's event is not on `hr.users.v1`; an employee's status is `pending` or
  missing, or a `completed` employee is not served (unless the event still waits); a
  waiting event whose newest wait is overdue (`waiting_dropped`: past its due time by more
  than `waiting_slack_s` at the check, so nothing will look at it again), or whose status
  is missing or says `pending` without `next_check_at`.
- **regressed**: the view is not the newest accepted version (by title), the status is
  not about the newest event, the last record on `users.enriched.v1` is not the view, or
  an enriched record is older (time, hroffset) than one before it.
- **duplicated**: one delivery answered with two event ids; two enriched records of one
  HR event from two HR offsets, the later not a replay (an operator's, or an activation's)
  or redrive copy.
- **resurrected**: an erased employee (no event after the erasure) is served, has a status,
  or has an enriched record after the tombstone.
- **outcome**: an employee ended otherwise than the plan expects (`failed` needs a dead
  letter of the newest event; `waiting_not_completed`: a person in Okta whose newest event
  still waits; a waiting event's status `completed` or `failed`); **off_contract**: the
  webhook answered other than 202, 429, 503; **pii**: an id or email of the plan in a log
  file; **unverified**: the query API answered something the check cannot judge.

Notices: a second unmarked HR record of one event (`hr_rewrite`), one HR offset enriched
twice (`re_enrichment`), an event on the topic whose delivery never got its 202
(`accepted_without_202`), deliveries that `gave_up` or were `refused`, `unreadable` records,
and `waiting`: the newest event neither enriched nor dead-lettered, its newest HR record on
a retry tier or written back to `hr.users.v1` from one, due again or due at most
`waiting_slack_s` before the check. Not lost: the view need not show it nor a dead letter
exist yet, but its status must say it waits. Right for a person Okta never learned of
(expected `failed`), a wrong outcome for one in Okta. Waits are kept apart from the HR
records: an event that waited and was enriched later is delivered once, however many
copies of it were written back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from onboarding_events import HR_USERS_DLQ_TOPIC, HR_USERS_TOPIC, RETRY_TOPICS, USERS_ENRICHED_TOPIC

from tests.chaos.clock import Clock, SystemClock
from tests.chaos.events import Topics, parse_topics
from tests.chaos.ledger import Ledger
from tests.chaos.logscan import scan_logs
from tests.chaos.plan import Employee, Outcome, Plan, outcome_for
from tests.chaos.rules import (
    NOT_DONE,
    Answers,
    EmployeeFacts,
    outcome_rules,
    topic_rules,
    waiting_detail,
)
from tests.chaos.sources import Sources
from tests.chaos.verdict import Notice, NoticeKind, Violation, ViolationKind

__all__ = ["WAITING_SLACK_S", "CheckResult", "Notice", "Violation", "check", "settled"]

# How long past its due time a wait may still be about to be handled: the tier consumer's
# and then the main consumer's lag. At least the run's longest tier delay (`run.py`: 5 s).
WAITING_SLACK_S = 60.0


@dataclass(frozen=True)
class CheckResult:
    violations: tuple[Violation, ...]
    notices: tuple[Notice, ...]
    employees: int
    events_accepted: int
    outcomes: Mapping[str, int] = field(default_factory=dict)  # expected outcome -> employees

    @property
    def ok(self) -> bool:
        return not self.violations

    def count(self, kind: ViolationKind) -> int:
        return sum(1 for v in self.violations if v.kind == kind)

    def noticed(self, kind: NoticeKind) -> int:
        return sum(1 for n in self.notices if n.kind == kind)

    @property
    def waiting(self) -> int:
        """Employees whose newest event still waits, not overdue: not lost, not done."""
        return self.noticed("waiting")


async def check(
    plan: Plan,
    ledger: Ledger,
    sources: Sources,
    *,
    erasures: Mapping[str, datetime] | None = None,
    log_files: Sequence[Path] = (),
    concurrency: int = 16,
    clock: Clock | None = None,
    waiting_slack_s: float = WAITING_SLACK_S,
) -> CheckResult:
    """`erasures`: employee id -> erasure time, for every employee the orchestrator erased.
    The check time is `clock`'s now before the topics are read: a wait due more than
    `waiting_slack_s` before it is overdue (lost)."""
    erasures = erasures or {}
    checked_at = (clock or SystemClock()).now()
    hr, enriched, dlq, *tiers = await asyncio.gather(
        sources.records(HR_USERS_TOPIC),
        sources.records(USERS_ENRICHED_TOPIC),
        sources.records(HR_USERS_DLQ_TOPIC),
        *(sources.records(topic) for topic in RETRY_TOPICS),
    )
    ids = {e.employee_id for e in plan}
    topics = parse_topics(
        hr, enriched, dlq, ids, retry_tiers=[r for records in tiers for r in records]
    )
    violations, notices = _ledger_rules(plan, ledger, topics)
    answers = await _answers(plan, sources, concurrency)
    accepted = ledger.accepted()
    facts = [
        _facts(e, plan, accepted, topics, erasures, at=checked_at, slack_s=waiting_slack_s)
        for e in plan
    ]
    for fact in facts:
        violations += outcome_rules(fact, answers[fact.employee.employee_id], topics)
        found, noticed = topic_rules(fact.employee.employee_id, topics)
        violations += found
        notices += noticed
        notices += fact.notices
    violations += [
        Violation(
            "pii", "id_or_email_in_log", leak.needle, f"{leak.what} in {leak.path}:{leak.line}"
        )
        for leak in scan_logs(log_files, plan)
    ]
    if topics.unreadable:
        notices.append(Notice("unreadable", None, f"{topics.unreadable} records"))
    outcomes: dict[str, int] = {}
    for fact in facts:
        outcomes[fact.expected] = outcomes.get(fact.expected, 0) + 1
    return CheckResult(
        tuple(violations),
        tuple(notices),
        len(plan),
        sum(len(f.accepted) for f in facts),
        outcomes,
    )


async def settled(
    plan: Plan,
    ledger: Ledger,
    sources: Sources,
    *,
    erased: Collection[str] = (),
    concurrency: int = 16,
) -> bool:
    """Quiet enough to check: every employee with an acknowledged event has a status that
    is not `pending` (nor `scheduled`), about their newest acknowledged event or a
    later-stamped one (a second record of an older delivery: the checker judges it);
    `erased` employees may have none."""
    return not await unsettled(plan, ledger, sources, erased=erased, concurrency=concurrency)


async def unsettled(
    plan: Plan,
    ledger: Ledger,
    sources: Sources,
    *,
    erased: Collection[str] = (),
    concurrency: int = 16,
) -> list[str]:
    """Why it is not quiet yet: one line per employee `settled` waits for (empty: quiet)."""
    accepted, tried = ledger.accepted(), ledger.first_tried()
    newest = {
        e.employee_id: found for e in plan if (found := _newest(e, accepted, tried)) is not None
    }
    answers = await _answers(plan, sources, concurrency, statuses_only=True)
    waiting: list[str] = []
    for employee_id, (event_id, first_sent) in newest.items():
        status = answers[employee_id].status
        if status.status == 404 and employee_id in erased:
            continue
        body = status.body or {}
        if status.status != 200 or body.get("status") in NOT_DONE:
            waiting.append(f"{employee_id}: HTTP {status.status}, {body.get('status')}")
        elif body.get("event_id") != event_id and not _stamped_after(body, first_sent):
            waiting.append(
                f"{employee_id}: {body.get('status')} for {body.get('event_id')}, "
                f"not the newest accepted {event_id}"
            )
    return waiting


def _newest(
    employee: Employee, accepted: Mapping[str, str], tried: Mapping[str, datetime]
) -> tuple[str, datetime] | None:
    """The newest acknowledged version's event id, and when its delivery was first tried
    (no record of it can be stamped earlier)."""
    for version in reversed(employee.versions):
        if version.delivery_id in accepted:
            return accepted[version.delivery_id], tried[version.delivery_id]
    return None


def _stamped_after(status: dict[str, object], moment: datetime) -> bool:
    try:
        accepted_at = datetime.fromisoformat(str(status.get("accepted_at")))
    except ValueError:
        return False
    return accepted_at.tzinfo is not None and accepted_at >= moment


def _ledger_rules(
    plan: Plan, ledger: Ledger, topics: Topics
) -> tuple[list[Violation], list[Notice]]:
    violations = [
        Violation("off_contract", f"webhook_answered_{a.status}", a.employee_id, a.delivery_id)
        for a in ledger.off_contract()
    ]
    notices: list[Notice] = []
    for delivery_id, event_ids in ledger.event_ids().items():
        if len(set(event_ids)) > 1:
            employee = plan.delivery(delivery_id)
            who = employee[0].employee_id if employee else None
            violations.append(Violation("duplicated", "delivery_two_event_ids", who, delivery_id))
    for delivery in ledger.deliveries:
        if delivery.end != "accepted":
            notices.append(Notice(delivery.end, delivery.employee_id, delivery.delivery_id))
    on_topic = {e.event_id for events in topics.hr.values() for e in events}
    for delivery_id, event_id in ledger.accepted().items():
        if event_id not in on_topic:
            found = plan.delivery(delivery_id)
            who = found[0].employee_id if found else None
            violations.append(Violation("lost", "event_not_on_topic", who, event_id))
    return violations, notices


def _facts(
    employee: Employee,
    plan: Plan,
    acknowledged: Mapping[str, str],
    topics: Topics,
    erasures: Mapping[str, datetime],
    *,
    at: datetime,
    slack_s: float,
) -> EmployeeFacts:
    """What was accepted of one employee (by a 202, or found on the topic by its delivery
    id), what is expected of them, and whether their newest event waits: overdue, if
    at the check time `at` it is past due by more than `slack_s`."""
    by_delivery = {
        e.delivery_id: e.event_id
        for e in topics.hr.get(employee.employee_id, [])
        if e.delivery_id is not None
    }
    accepted: dict[int, str] = {}
    notices: list[Notice] = []
    for version in employee.versions:
        if version.delivery_id in acknowledged:
            accepted[version.number] = acknowledged[version.delivery_id]
        elif version.delivery_id in by_delivery:
            accepted[version.number] = by_delivery[version.delivery_id]
            notices.append(
                Notice("accepted_without_202", employee.employee_id, version.delivery_id)
            )
    erased_at = erasures.get(employee.employee_id)
    events = topics.hr.get(employee.employee_id, [])
    rehired = erased_at is not None and any(e.time > erased_at for e in events)
    expected: Outcome = plan.expected(employee.employee_id)
    if erased_at is not None and not rehired:
        expected = "erased"
    elif expected == "erased":
        if erased_at is None:
            raise ValueError(f"{employee.employee_id} is expected erased: give its erasure time")
        expected = outcome_for(employee.okta)
    wait = None
    if accepted and expected != "erased":
        wait = topics.open_wait(employee.employee_id, accepted[max(accepted)])
    overdue = wait.overdue(at, slack_s) if wait is not None else None
    if wait is not None and overdue is None:
        notices.append(Notice("waiting", employee.employee_id, waiting_detail(wait)))
    return EmployeeFacts(
        employee, accepted, expected, erased_at, tuple(notices), wait=wait, overdue=overdue
    )


async def _answers(
    plan: Plan, sources: Sources, concurrency: int, *, statuses_only: bool = False
) -> dict[str, Answers]:
    gate = asyncio.Semaphore(concurrency)

    async def ask(employee_id: str) -> tuple[str, Answers]:
        async with gate:
            status = await sources.status(employee_id)
            user = None if statuses_only else await sources.user(employee_id)
        return employee_id, Answers(user, status)

    found = await asyncio.gather(*(ask(e.employee_id) for e in plan))
    return dict(found)
