"""The checker's rules for one employee: their end state, and their records on the topics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.chaos.events import Topics, Wait
from tests.chaos.plan import Employee, Outcome
from tests.chaos.sources import HttpAnswer
from tests.chaos.verdict import Notice, Violation

# Not done yet. `scheduled` (a future hire not in Okta yet) is `pending` to a client that,
# like this checker, judges by pending/completed/failed: the contract says so.
NOT_DONE = frozenset({"pending", "scheduled"})


@dataclass(frozen=True)
class EmployeeFacts:
    employee: Employee
    accepted: dict[int, str]  # version number -> event id, for every accepted version
    expected: Outcome  # `erased` only when erased and not re-hired since
    erased_at: datetime | None
    notices: tuple[Notice, ...] = ()
    wait: Wait | None = None  # the newest accepted event waits for Okta (`Topics.open_wait`)
    overdue: timedelta | None = None  # that wait this long past due at the check: dropped


@dataclass(frozen=True)
class Answers:
    user: HttpAnswer | None  # None when only statuses were asked
    status: HttpAnswer


def outcome_rules(fact: EmployeeFacts, answers: Answers, topics: Topics) -> list[Violation]:
    """The view, the status and the last enriched record against what is expected."""
    who = fact.employee.employee_id
    user, status = answers.user, answers.status
    if user is None:
        raise ValueError("outcome rules need the user view")
    unverified = [
        Violation("unverified", f"{name}_answered_{answer.status}", who, "")
        for name, answer in (("view", user), ("status", status))
        if answer.status not in (200, 404)
    ]
    if unverified:
        return unverified
    if fact.expected == "erased":
        return _erased(who, user, status, topics)
    if not fact.accepted:
        return []  # nothing of theirs was accepted: nothing is owed
    if fact.wait is not None:
        return _waiting(fact, fact.wait, status) + _view_is_last_enriched(who, user, topics)
    newest = max(fact.accepted)
    event_id = fact.accepted[newest]
    found = _status(who, status, fact.expected, event_id)
    body = user.body or {}
    if fact.expected == "completed":
        if user.status == 404:
            found.append(Violation("lost", "not_served", who, f"v{newest} accepted"))
        elif body.get("title") != fact.employee.versions[newest - 1].title:
            found.append(
                Violation("regressed", "view_not_newest", who, f"{body.get('title')} < v{newest}")
            )
    else:
        if user.status == 200:
            found.append(Violation("outcome", "failed_but_served", who, ""))
        if not any(d.event_id == event_id for d in topics.dead_letters.get(who, [])):
            found.append(Violation("outcome", "no_dead_letter", who, event_id))
    return found + _view_is_last_enriched(who, user, topics)


def _view_is_last_enriched(who: str, user: HttpAnswer, topics: Topics) -> list[Violation]:
    last = topics.last_enriched(who)
    if user.status == 200 and (last is None or last.data != user.body):
        return [Violation("regressed", "enriched_differs_from_view", who, "")]
    if user.status == 404 and last is not None and not last.tombstone:
        return [Violation("regressed", "enriched_without_view", who, "")]
    return []


def _waiting(fact: EmployeeFacts, wait: Wait, status: HttpAnswer) -> list[Violation]:
    """Neither enriched nor dead-lettered: the event waits, and its status says so. Overdue,
    nothing will look at it again: lost. Otherwise it comes due again: a person Okta does
    not know (expected `failed`: never added) rightly waits until the deadline; one in Okta
    by now should have been found when the record came due."""
    who = fact.employee.employee_id
    found = _waiting_status(who, status, wait.event_id)
    if fact.overdue is not None:
        late = f"{fact.overdue.total_seconds():.0f} s overdue"
        found.append(Violation("lost", "waiting_dropped", who, f"{waiting_detail(wait)}, {late}"))
    elif fact.expected == "completed":
        found.append(Violation("outcome", "waiting_not_completed", who, waiting_detail(wait)))
    return found


def _waiting_status(who: str, status: HttpAnswer, event_id: str) -> list[Violation]:
    """A waiting event's status: `pending` or `scheduled`, about it, with `next_check_at`."""
    if status.status == 404:
        return [Violation("lost", "no_status", who, event_id)]
    body = status.body or {}
    state = body.get("status")
    found = []
    if state not in NOT_DONE:
        found.append(Violation("outcome", f"{state}_while_waiting", who, event_id))
    elif not body.get("next_check_at"):
        found.append(Violation("lost", "no_next_check", who, event_id))
    if body.get("event_id") != event_id:
        found.append(Violation("regressed", "status_not_newest", who, event_id))
    return found


def waiting_detail(wait: Wait) -> str:
    w = wait.waiting
    back = ", written back" if wait.written_back else ""
    return (
        f"{w.reason} on tier {w.tier}{back} (hroffset {w.hr_offset}, lookup {w.lookups}), "
        f"due {w.due_at.isoformat()}, deadline {w.wait_until.isoformat()}"
    )


def _status(who: str, status: HttpAnswer, expected: Outcome, event_id: str) -> list[Violation]:
    if status.status == 404:
        return [Violation("lost", "no_status", who, event_id)]
    body = status.body or {}
    state = body.get("status")
    if state in NOT_DONE:
        return [Violation("lost", "pending", who, event_id)]
    found = []
    if state != expected:
        found.append(Violation("outcome", f"{state}_not_{expected}", who, event_id))
    if body.get("event_id") != event_id:
        found.append(Violation("regressed", "status_not_newest", who, event_id))
    return found


def _erased(who: str, user: HttpAnswer, status: HttpAnswer, topics: Topics) -> list[Violation]:
    found = []
    if user.status != 404:
        found.append(Violation("resurrected", "served_after_erasure", who, ""))
    if status.status != 404:
        found.append(Violation("resurrected", "status_after_erasure", who, ""))
    last = topics.last_enriched(who)
    if last is not None and not last.tombstone:
        found.append(Violation("resurrected", "enriched_after_erasure", who, f"@{last.offset}"))
    return found


def topic_rules(who: str, topics: Topics) -> tuple[list[Violation], list[Notice]]:
    """Forward only, one enrichment per HR record (copies aside), rewrites noticed. A wait
    written back to `hr.users.v1` is no HR record: its enrichment names the original."""
    violations: list[Violation] = []
    notices: list[Notice] = []
    high: tuple[datetime, int] | None = None
    seen_offsets: set[int] = set()
    unmarked_offsets: dict[str, set[int]] = {}
    for record in topics.enriched.get(who, []):
        if record.tombstone:
            high = None
            continue
        assert record.time is not None
        assert record.hr_offset is not None
        order = (record.time, record.hr_offset)
        if high is not None and order < high:
            violations.append(
                Violation("regressed", "enriched_went_back", who, f"@{record.offset}")
            )
        high = order if high is None else max(high, order)
        if record.hr_offset in seen_offsets:
            notices.append(Notice("re_enrichment", who, f"hroffset {record.hr_offset}"))
            continue
        seen_offsets.add(record.hr_offset)
        source = topics.hr_at(who, record.hr_offset)
        if source is None or source.copy_marker is None:
            offsets = unmarked_offsets.setdefault(str(record.hr_event_id), set())
            offsets.add(record.hr_offset)
            if len(offsets) > 1:
                violations.append(
                    Violation("duplicated", "enriched_twice", who, str(record.hr_event_id))
                )
    written = Counter(e.event_id for e in topics.hr.get(who, []) if e.copy_marker is None)
    notices += [
        Notice("hr_rewrite", who, event_id)
        for event_id, times in written.items()
        for _ in range(times - 1)
    ]
    return violations, notices
