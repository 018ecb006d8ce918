"""The checker's rules on synthetic topics and answers: a clean world passes, and each kind
of violation put into it is named."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from onboarding_events import HR_USERS_DLQ_TOPIC, HR_USERS_TOPIC, RETRY_TOPICS, USERS_ENRICHED_TOPIC

from tests.chaos.checker import CheckResult, check, settled
from tests.chaos.fakes import (
    T0,
    FakeClock,
    World,
    activation_replay,
    clean_world,
    enriched_value,
    to_tier,
    view_of,
    waiting_status,
    write_back,
)
from tests.chaos.plan import Plan, build_plan
from tests.chaos.sources import HttpAnswer


def _plan() -> Plan:
    # three people Okta knows, one it never will; every version redelivered once
    return build_plan(
        4, okta=lambda i: "never" if i == 3 else "present", redeliver_fraction=1.0, seed=7
    )


@pytest.fixture
def world() -> World:
    return clean_world(_plan())


def _id(world: World, index: int) -> str:
    return world.plan.employees[index].employee_id


def _rules(result: CheckResult) -> set[tuple[str, str, str | None]]:
    return {(v.kind, v.rule, v.employee_id) for v in result.violations}


async def _check(
    world: World,
    *,
    erasures: Mapping[str, datetime] | None = None,
    log_files: Sequence[Path] = (),
    at: datetime = T0,
    waiting_slack_s: float = 60.0,
) -> CheckResult:
    return await check(
        world.plan,
        world.ledger,
        world.sources,
        erasures=erasures,
        log_files=log_files,
        clock=FakeClock(at),
        waiting_slack_s=waiting_slack_s,
    )


async def test_a_clean_world_passes(world: World) -> None:
    result = await _check(world)

    assert result.ok, result.violations
    assert result.notices == ()
    assert result.events_accepted == 12
    assert result.outcomes == {"completed": 3, "failed": 1}


async def test_an_accepted_event_missing_from_the_topic_is_lost(world: World) -> None:
    who = _id(world, 0)
    missing = world.hr[who, 2]
    world.sources.topics[HR_USERS_TOPIC].remove(missing)

    result = await _check(world)

    assert _rules(result) == {("lost", "event_not_on_topic", who)}


@pytest.mark.parametrize("waiting", ["pending", "scheduled"])
async def test_a_pending_status_is_lost(world: World, waiting: str) -> None:
    who = _id(world, 1)
    status = world.sources.statuses[who]
    world.sources.statuses[who] = HttpAnswer(200, {**(status.body or {}), "status": waiting})

    result = await _check(world)

    assert _rules(result) == {("lost", "pending", who)}


async def test_a_completed_employee_not_served_is_lost(world: World) -> None:
    who = _id(world, 1)
    del world.sources.users[who]

    result = await _check(world)

    assert ("lost", "not_served", who) in _rules(result)


async def test_a_view_behind_the_newest_version_is_regressed(world: World) -> None:
    who = _id(world, 0)
    employee = world.plan.employee(who)
    world.sources.users[who] = HttpAnswer(200, view_of(employee, employee.versions[1]))

    result = await _check(world)

    assert _rules(result) == {
        ("regressed", "view_not_newest", who),
        ("regressed", "enriched_differs_from_view", who),
    }


async def test_an_enriched_record_older_than_the_one_before_is_regressed(world: World) -> None:
    who = _id(world, 2)
    employee = world.plan.employee(who)
    old = world.hr[who, 1]
    world.sources.append(
        USERS_ENRICHED_TOPIC, who, enriched_value(old, view_of(employee, employee.versions[0]))
    )

    result = await _check(world)

    assert ("regressed", "enriched_went_back", who) in _rules(result)
    assert ("regressed", "enriched_differs_from_view", who) in _rules(result)


async def test_a_status_about_an_older_event_is_regressed(world: World) -> None:
    who = _id(world, 0)
    status = world.sources.statuses[who]
    older = world.event_ids[who, 2]
    world.sources.statuses[who] = HttpAnswer(200, {**(status.body or {}), "event_id": older})

    result = await _check(world)

    assert _rules(result) == {("regressed", "status_not_newest", who)}


async def test_a_delivery_answered_with_two_event_ids_is_duplicated(world: World) -> None:
    first = world.ledger.attempts[0]
    world.ledger.record_attempt(dataclasses.replace(first, copy=1, event_id="another-event"))

    result = await _check(world)

    assert _rules(result) == {("duplicated", "delivery_two_event_ids", first.employee_id)}


async def test_an_hr_event_written_twice_and_enriched_twice_is_duplicated(world: World) -> None:
    who = _id(world, 0)
    employee = world.plan.employee(who)
    newest = world.hr[who, 3]
    again = world.sources.append(
        HR_USERS_TOPIC, who, _json(newest.value), delivery_id=employee.newest.delivery_id
    )
    world.sources.append(
        USERS_ENRICHED_TOPIC, who, enriched_value(again, view_of(employee, employee.newest))
    )

    result = await _check(world)

    assert _rules(result) == {("duplicated", "enriched_twice", who)}
    assert result.noticed("hr_rewrite") == 1


async def test_a_replayed_copy_enriched_again_is_not_a_duplicate(world: World) -> None:
    who = _id(world, 0)
    employee = world.plan.employee(who)
    newest = world.hr[who, 3]
    copy = world.sources.append(HR_USERS_TOPIC, who, _json(newest.value), onboarding_replay="r1")
    world.sources.append(
        USERS_ENRICHED_TOPIC, who, enriched_value(copy, view_of(employee, employee.newest))
    )

    result = await _check(world)

    assert result.ok, result.violations
    assert result.notices == ()


async def test_a_second_hr_record_not_enriched_again_is_only_reported(world: World) -> None:
    who = _id(world, 1)
    newest = world.hr[who, 3]
    world.sources.append(HR_USERS_TOPIC, who, _json(newest.value))

    result = await _check(world)

    assert result.ok, result.violations
    assert result.noticed("hr_rewrite") == 1


async def test_one_hr_offset_enriched_twice_is_only_reported(world: World) -> None:
    who = _id(world, 1)
    employee = world.plan.employee(who)
    world.sources.append(
        USERS_ENRICHED_TOPIC,
        who,
        enriched_value(world.hr[who, 3], view_of(employee, employee.newest)),
    )

    result = await _check(world)

    assert result.ok, result.violations
    assert result.noticed("re_enrichment") == 1


async def test_an_event_that_waited_on_retry_tiers_and_was_enriched_later_is_delivered_once(
    world: World,
) -> None:
    # v3 met a person not in Okta yet: tier 1, then tier 2, then found and enriched (the
    # enriched record names the HR record on hr.users.v1, as it does for any event)
    who = _id(world, 0)
    to_tier(world.sources, world.hr[who, 3], 1)
    to_tier(world.sources, world.hr[who, 3], 2)

    result = await _check(world)

    assert result.ok, result.violations
    assert result.notices == ()
    assert result.waiting == 0


async def test_an_event_put_on_a_tier_twice_and_enriched_from_both_is_no_duplicate(
    world: World,
) -> None:
    # enrich crashed after writing tier 1 and before committing: the HR record went again
    who = _id(world, 1)
    employee = world.plan.employee(who)
    newest = world.hr[who, 3]
    to_tier(world.sources, newest, 1)
    to_tier(world.sources, newest, 1)
    world.sources.append(
        USERS_ENRICHED_TOPIC, who, enriched_value(newest, view_of(employee, employee.newest))
    )

    result = await _check(world)

    assert result.ok, result.violations
    assert result.noticed("re_enrichment") == 1
    assert result.noticed("hr_rewrite") == 0


async def test_a_person_okta_never_knew_still_waiting_at_the_end_is_waiting_not_lost(
    world: World,
) -> None:
    # not in Okta, and the deadline not reached yet: no dead letter, the status not final
    who = _id(world, 3)
    world.sources.topics[HR_USERS_DLQ_TOPIC].clear()
    to_tier(world.sources, world.hr[who, 3], 1)
    waiting_status(world.sources, to_tier(world.sources, world.hr[who, 3], 2, reason="scheduled"))

    result = await _check(world)

    assert result.ok, result.violations
    assert result.waiting == 1
    [waiting] = [n for n in result.notices if n.kind == "waiting"]
    assert waiting.employee_id == who
    assert waiting.detail.startswith("scheduled on tier 2")


async def test_a_person_okta_never_knew_dead_lettered_from_a_tier_failed_as_planned(
    world: World,
) -> None:
    who = _id(world, 3)  # the dead letter names the original HR record, as from a tier
    to_tier(world.sources, world.hr[who, 3], 5)

    result = await _check(world)

    assert result.ok, result.violations
    assert result.waiting == 0
    assert result.outcomes == {"completed": 3, "failed": 1}


async def test_a_person_in_okta_still_waiting_at_the_end_is_a_wrong_outcome_not_lost(
    world: World,
) -> None:
    # v3 waits on tier 3 though the person is in Okta: v2 is what they are served
    who = _id(world, 1)
    employee = world.plan.employee(who)
    enriched = world.sources.topics[USERS_ENRICHED_TOPIC]
    v3 = world.event_ids[who, 3]
    enriched[:] = [r for r in enriched if _json(r.value)["hreventid"] != v3]
    world.sources.users[who] = HttpAnswer(200, view_of(employee, employee.versions[1]))
    waiting_status(world.sources, to_tier(world.sources, world.hr[who, 3], 3))

    result = await _check(world)

    assert _rules(result) == {("outcome", "waiting_not_completed", who)}
    assert result.count("lost") == 0
    assert result.waiting == 1


async def test_a_redriven_event_waiting_again_is_waiting_despite_its_dead_letter(
    world: World,
) -> None:
    # dead-lettered, redriven once the person was added to Okta, and on a tier again
    who = _id(world, 3)
    world.plan.expect(who, "completed")
    copy = world.sources.append(
        HR_USERS_TOPIC, who, _json(world.hr[who, 3].value), onboarding_redrive="1"
    )
    waiting_status(world.sources, to_tier(world.sources, copy, 1))

    result = await _check(world)

    assert _rules(result) == {("outcome", "waiting_not_completed", who)}
    assert result.waiting == 1


async def test_a_wait_written_back_to_hr_users_is_no_hr_record_and_is_enriched_once(
    world: World,
) -> None:
    # v3 waited on tier 1 and tier 2; each came due and was written back to hr.users.v1
    # with its tier headers; the second time the person was found, and the enriched record
    # names the original HR record (the clean world's)
    who = _id(world, 0)
    newest = world.hr[who, 3]
    write_back(world.sources, to_tier(world.sources, newest, 1))
    back = write_back(world.sources, to_tier(world.sources, newest, 2))

    result = await _check(world)

    assert result.ok, result.violations
    assert result.notices == ()
    assert result.events_accepted == 12
    assert back.offset > newest.offset


async def test_a_wait_written_back_and_enriched_under_its_own_offset_too_is_duplicated(
    world: World,
) -> None:
    # a written-back copy is not a replay: enriched as a record of its own, it is the same
    # HR event enriched twice
    who = _id(world, 1)
    employee = world.plan.employee(who)
    back = write_back(world.sources, to_tier(world.sources, world.hr[who, 3], 1))
    world.sources.append(
        USERS_ENRICHED_TOPIC, who, enriched_value(back, view_of(employee, employee.newest))
    )

    result = await _check(world)

    assert _rules(result) == {("duplicated", "enriched_twice", who)}
    assert result.noticed("hr_rewrite") == 0


async def test_an_activation_replay_enriched_again_is_no_duplicate_nor_regression(
    world: World,
) -> None:
    # v3 enriched while the account was STAGED (onboarded false), waited for activation,
    # came due (written back), found active: written again as an activation replay and
    # enriched again from the replay's offset, now onboarded
    who = _id(world, 2)
    employee = world.plan.employee(who)
    newest = world.hr[who, 3]
    enriched = world.sources.topics[USERS_ENRICHED_TOPIC]
    [first] = [
        r for r in enriched if r.key == who and _json(r.value)["hroffset"] == str(newest.offset)
    ]
    staged = {**view_of(employee, employee.newest), "onboarded": False}
    enriched[enriched.index(first)] = dataclasses.replace(
        first, value=json.dumps(enriched_value(newest, staged)).encode()
    )
    back = write_back(world.sources, to_tier(world.sources, newest, 1, reason="activation"))
    replay = activation_replay(world.sources, back)
    again = world.sources.append(
        USERS_ENRICHED_TOPIC, who, enriched_value(replay, view_of(employee, employee.newest))
    )

    result = await _check(world)

    assert result.ok, result.violations
    assert result.notices == ()
    assert _json(again.value)["hroffset"] == str(replay.offset)
    assert replay.offset > back.offset > newest.offset


@pytest.mark.parametrize("written_back", [False, True])
async def test_a_wait_long_past_its_due_time_is_dropped_and_lost(
    world: World, written_back: bool
) -> None:
    # the tier's consumer (or the main one, after the write-back) committed past it and
    # did nothing: no enrichment, no next tier, no dead letter, and it was due 2 min ago
    who = _id(world, 3)
    world.sources.topics[HR_USERS_DLQ_TOPIC].clear()
    to_tier(world.sources, world.hr[who, 3], 1)
    tier = to_tier(world.sources, world.hr[who, 3], 2)
    if written_back:
        write_back(world.sources, tier)
    waiting_status(world.sources, tier)
    due = T0 + timedelta(hours=2)

    result = await _check(world, at=due + timedelta(minutes=2))

    assert _rules(result) == {("lost", "waiting_dropped", who)}
    assert result.waiting == 0
    [dropped] = result.violations
    where = "on tier 2, written back" if written_back else "on tier 2 ("
    assert where in dropped.detail
    assert f"due {due.isoformat()}" in dropped.detail
    assert dropped.detail.endswith(", 120 s overdue")


async def test_a_wait_due_within_the_slack_still_waits(world: World) -> None:
    who = _id(world, 3)
    world.sources.topics[HR_USERS_DLQ_TOPIC].clear()
    waiting_status(world.sources, to_tier(world.sources, world.hr[who, 3], 2))
    due = T0 + timedelta(hours=2)

    soon = await _check(world, at=due + timedelta(seconds=30))
    later = await _check(world, at=due + timedelta(minutes=2), waiting_slack_s=300)

    for result in (soon, later):
        assert result.ok, result.violations
        assert result.waiting == 1


async def test_an_overdue_wait_of_a_person_in_okta_is_lost_not_a_wrong_outcome(
    world: World,
) -> None:
    who = _id(world, 1)
    employee = world.plan.employee(who)
    enriched = world.sources.topics[USERS_ENRICHED_TOPIC]
    v3 = world.event_ids[who, 3]
    enriched[:] = [r for r in enriched if _json(r.value)["hreventid"] != v3]
    world.sources.users[who] = HttpAnswer(200, view_of(employee, employee.versions[1]))
    waiting_status(world.sources, to_tier(world.sources, world.hr[who, 3], 1))

    result = await _check(world, at=T0 + timedelta(days=2))

    assert _rules(result) == {("lost", "waiting_dropped", who)}


def _no_next_check(status: HttpAnswer) -> HttpAnswer:
    return HttpAnswer(200, {**(status.body or {}), "next_check_at": None})


def _failed(status: HttpAnswer) -> HttpAnswer:
    return HttpAnswer(200, {**(status.body or {}), "status": "failed", "next_check_at": None})


def _about_v2(status: HttpAnswer) -> HttpAnswer:
    return HttpAnswer(200, {**(status.body or {}), "event_id": "v2"})


@pytest.mark.parametrize(
    ("change", "violation"),
    [
        (lambda _: None, ("lost", "no_status")),
        (_no_next_check, ("lost", "no_next_check")),
        (_failed, ("outcome", "failed_while_waiting")),
        (_about_v2, ("regressed", "status_not_newest")),
    ],
)
async def test_a_waiting_person_needs_a_status_that_says_so(
    world: World,
    change: Callable[[HttpAnswer], HttpAnswer | None],
    violation: tuple[str, str],
) -> None:
    # a person Okta never knew, waiting: no dead letter owed yet, but a status is
    who = _id(world, 3)
    world.sources.topics[HR_USERS_DLQ_TOPIC].clear()
    waiting_status(world.sources, to_tier(world.sources, world.hr[who, 3], 1))
    answer = change(world.sources.statuses[who])
    if answer is None:
        del world.sources.statuses[who]
    else:
        world.sources.statuses[who] = answer

    result = await _check(world)

    assert _rules(result) == {(*violation, who)}
    assert result.waiting == 1


async def test_a_retry_tier_record_without_its_tier_headers_is_unreadable(world: World) -> None:
    who = _id(world, 0)
    world.sources.append(RETRY_TOPICS[0], who, _json(world.hr[who, 3].value))

    result = await _check(world)

    assert result.ok, result.violations
    assert result.noticed("unreadable") == 1


async def test_an_erased_employee_gone_everywhere_passes() -> None:
    plan = _plan()
    who = plan.employees[2].employee_id
    erased_at = T0 + timedelta(hours=1)
    world = clean_world(plan, erased={who: erased_at})

    result = await _check(world, erasures={who: erased_at})

    assert result.ok, result.violations
    assert result.outcomes["erased"] == 1


async def test_an_erased_employee_anywhere_again_is_resurrected() -> None:
    plan = _plan()
    who = plan.employees[2].employee_id
    erased_at = T0 + timedelta(hours=1)
    world = clean_world(plan, erased={who: erased_at})
    employee = plan.employee(who)
    old = world.hr[who, 3]
    world.sources.append(
        USERS_ENRICHED_TOPIC, who, enriched_value(old, view_of(employee, employee.newest))
    )
    world.sources.users[who] = HttpAnswer(200, view_of(employee, employee.newest))
    world.sources.statuses[who] = HttpAnswer(200, {"id": who, "status": "completed"})

    result = await _check(world, erasures={who: erased_at})

    assert _rules(result) == {
        ("resurrected", "served_after_erasure", who),
        ("resurrected", "status_after_erasure", who),
        ("resurrected", "enriched_after_erasure", who),
    }


async def test_an_event_after_the_erasure_is_a_rehire_and_must_be_present() -> None:
    plan = _plan()
    who = plan.employees[0].employee_id
    world = clean_world(plan, erased={who: T0 + timedelta(hours=1)})

    # erased before their events: those are a re-hire, and the re-hire is gone
    result = await _check(world, erasures={who: T0 - timedelta(seconds=1)})

    assert ("lost", "not_served", who) in _rules(result)
    assert result.outcomes.get("erased", 0) == 0


async def test_expecting_erased_without_an_erasure_time_is_a_usage_error(world: World) -> None:
    world.plan.expect(_id(world, 0), "erased")

    with pytest.raises(ValueError, match="erasure time"):
        await _check(world)


async def test_a_completed_employee_planned_to_fail_is_a_wrong_outcome(world: World) -> None:
    who = _id(world, 1)
    world.plan.expect(who, "failed")

    result = await _check(world)

    assert _rules(result) == {
        ("outcome", "completed_not_failed", who),
        ("outcome", "failed_but_served", who),
        ("outcome", "no_dead_letter", who),
    }


async def test_a_failed_employee_needs_a_dead_letter_of_the_newest_event(world: World) -> None:
    who = _id(world, 3)
    world.sources.topics[HR_USERS_DLQ_TOPIC].clear()

    result = await _check(world)

    assert _rules(result) == {("outcome", "no_dead_letter", who)}


async def test_after_a_redrive_the_plan_expects_completed(world: World) -> None:
    who = _id(world, 3)
    world.plan.expect(who, "completed")

    result = await _check(world)

    assert _rules(result) == {
        ("outcome", "failed_not_completed", who),
        ("lost", "not_served", who),
    }


async def test_a_webhook_answer_off_the_contract_fails_the_run(world: World) -> None:
    first = world.ledger.attempts[0]
    world.ledger.record_attempt(dataclasses.replace(first, attempt=0, status=500, event_id=None))

    result = await _check(world)

    assert _rules(result) == {("off_contract", "webhook_answered_500", first.employee_id)}


async def test_an_id_or_email_in_a_log_is_a_pii_leak(world: World, tmp_path: Path) -> None:
    employee = world.plan.employees[1]
    clean = tmp_path / "enrich-service.log"
    clean.write_text("enriched p_0123456789abcdef (chaos-zzzzzz-0001)\n")
    leaky = tmp_path / "ingest-service.log"
    leaky.write_text(f"ok\nrejected {employee.email.upper()} for employee {employee.employee_id}\n")

    result = await _check(world, log_files=[clean, leaky])

    assert _rules(result) == {
        ("pii", "id_or_email_in_log", employee.email),
        ("pii", "id_or_email_in_log", employee.employee_id),
    }
    assert {v.detail for v in result.violations} == {
        f"email in {leaky}:2",
        f"employee_id in {leaky}:2",
    }


async def test_a_query_api_that_does_not_answer_leaves_it_unverified(world: World) -> None:
    who = _id(world, 0)
    world.sources.users[who] = HttpAnswer(503, {"detail": "Database unavailable"})

    result = await _check(world)

    assert _rules(result) == {("unverified", "view_answered_503", who)}


async def test_an_event_written_without_its_202_counts_as_accepted(world: World) -> None:
    # the sender timed out on v3 (twice) though ingest wrote it: the view shows v3, rightly
    who = _id(world, 0)
    newest = world.plan.employee(who).newest
    world.ledger.attempts = [
        dataclasses.replace(a, status=None, error="timeout", event_id=None)
        if a.delivery_id == newest.delivery_id
        else a
        for a in world.ledger.attempts
    ]

    result = await _check(world)

    assert result.ok, result.violations
    assert result.noticed("accepted_without_202") == 1


async def test_deliveries_given_up_are_reported(world: World) -> None:
    ended = world.ledger.deliveries[0]
    world.ledger.deliveries[0] = dataclasses.replace(ended, end="gave_up")

    result = await _check(world)

    assert result.ok
    assert result.noticed("gave_up") == 1


@pytest.mark.parametrize("waiting", ["pending", "scheduled"])
async def test_settled_once_no_status_is_pending(world: World, waiting: str) -> None:
    assert await settled(world.plan, world.ledger, world.sources)

    who = _id(world, 0)
    status = world.sources.statuses[who]
    world.sources.statuses[who] = HttpAnswer(200, {**(status.body or {}), "status": waiting})
    assert not await settled(world.plan, world.ledger, world.sources)


async def test_settled_waits_for_the_newest_event(world: World) -> None:
    who = _id(world, 0)
    status = world.sources.statuses[who]
    older = world.event_ids[who, 1]
    world.sources.statuses[who] = HttpAnswer(200, {**(status.body or {}), "event_id": older})

    assert not await settled(world.plan, world.ledger, world.sources)


def _json(value: bytes | None) -> dict[str, object]:
    assert value is not None
    loaded: dict[str, object] = json.loads(value)
    return loaded


async def test_settled_waits_for_a_status_to_appear_unless_erased(world: World) -> None:
    who = _id(world, 2)
    del world.sources.statuses[who]

    assert not await settled(world.plan, world.ledger, world.sources)
    assert await settled(world.plan, world.ledger, world.sources, erased=[who])


async def test_settled_by_a_status_stamped_after_the_newest_delivery(world: World) -> None:
    # a second record of an older delivery, stamped later, is what the status shows: the
    # system is quiet, and the checker (not `settled`) calls it a regression
    who = _id(world, 0)
    status = world.sources.statuses[who]
    older = world.event_ids[who, 2]
    later = (T0 + timedelta(hours=1)).isoformat()
    body = {**(status.body or {}), "event_id": older, "accepted_at": later}
    world.sources.statuses[who] = HttpAnswer(200, body)

    assert await settled(world.plan, world.ledger, world.sources)
    assert ("regressed", "status_not_newest", who) in _rules(await _check(world))
