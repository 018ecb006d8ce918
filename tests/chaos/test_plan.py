"""The plan: distinct, tagged people; distinguishable versions; redeliveries; Okta presence."""

from __future__ import annotations

import pytest
from onboarding_events import HrUser, is_valid_employee_id

from tests.chaos.plan import OktaPresence, build_plan


def test_ids_and_emails_are_distinct_tagged_and_valid() -> None:
    plan = build_plan(120, prefix="chaos", run_tag="k3x9q2")

    ids = [e.employee_id for e in plan]
    emails = [e.email for e in plan]
    assert len(set(ids)) == len(set(emails)) == 120
    assert ids[7] == "chaos-k3x9q2-0007"
    assert emails[7] == "chaos.k3x9q2.0007@example.com"
    assert all(is_valid_employee_id(i) for i in ids)
    # one width for all: no id is a prefix of another, so a log scan cannot confuse them
    assert not any(a != b and b.startswith(a) for a in ids for b in ids)


def test_each_run_has_its_own_tag() -> None:
    assert build_plan(1).run_tag != build_plan(1).run_tag


def test_versions_are_valid_hr_records_told_apart_by_title() -> None:
    plan = build_plan(3, versions=3)

    for employee in plan:
        assert [v.title for v in employee.versions] == ["v1", "v2", "v3"]
        assert employee.newest.number == 3
        for version in employee.versions:
            HrUser.model_validate(version.body)
    deliveries = [v.delivery_id for e in plan for v in e.versions]
    assert len(set(deliveries)) == 9
    assert not any(plan.run_tag in d for d in deliveries)  # a logged delivery id is no leak


def test_about_thirty_percent_are_redelivered_repeatably() -> None:
    plan = build_plan(2000, seed=11)
    again = build_plan(2000, seed=11)

    planned = [v.redelivery for e in plan for v in e.versions]
    share = sum(r is not None for r in planned) / len(planned)
    assert 0.27 < share < 0.33
    assert {r.when for r in planned if r} == {"immediate", "late"}
    assert {r.other_replica for r in planned if r} == {True, False}
    assert planned == [v.redelivery for e in again for v in e.versions]


def test_okta_presence_decides_the_expected_outcome_until_changed() -> None:
    presence: dict[int, OktaPresence] = {0: "present", 1: "late", 2: "never"}
    plan = build_plan(3, okta=lambda i: presence[i])
    never = plan.employees[2].employee_id

    assert [plan.expected(e.employee_id) for e in plan] == ["completed", "completed", "failed"]
    assert plan.with_okta("late") == [plan.employees[1]]
    plan.expect(never, "completed")  # added to Okta and redriven
    assert plan.expected(never) == "completed"
    with pytest.raises(KeyError):
        plan.expect("someone-else", "erased")


def test_needles_are_every_id_and_email() -> None:
    plan = build_plan(2)

    assert plan.needles() == {
        plan.employees[0].employee_id: "employee_id",
        plan.employees[0].email: "email",
        plan.employees[1].employee_id: "employee_id",
        plan.employees[1].email: "email",
    }
