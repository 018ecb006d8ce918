"""Replay on the running stack: a replay after Okta changed shows the new groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig

from tests.e2e.ops_support import get_user, new_employee, ops, post_hr, put_okta_user


def _groups(stack: StackConfig, employee_id: str, wanted: list[str]) -> list[str] | None:
    response = get_user(stack, employee_id)
    if response.status_code != 200:
        return None
    groups: list[str] = response.json()["groups"]
    return groups if groups == wanted else None


def test_replay_after_okta_changed_shows_the_new_groups(stack: StackConfig) -> None:
    employee_id, email = new_employee("replay")
    put_okta_user(stack, email, ["Everyone", "Interns"])
    since = datetime.now(UTC) - timedelta(seconds=1)
    post_hr(stack, employee_id, email)
    eventually(lambda: _groups(stack, employee_id, ["Everyone", "Interns"]), within=60)
    put_okta_user(stack, email, ["Everyone", "Engineering"])

    replayed = ops(stack, "replay", "--since", since.isoformat())

    assert replayed.returncode == 0, replayed.stderr
    assert "HR events republished" in replayed.stdout
    eventually(lambda: _groups(stack, employee_id, ["Everyone", "Engineering"]), within=60)


def test_a_bad_timestamp_is_a_clear_error(stack: StackConfig) -> None:
    result = ops(stack, "replay", "--since", "not-a-time")

    assert result.returncode == 2
    assert "neither 'earliest' nor an ISO 8601 time" in result.stderr
