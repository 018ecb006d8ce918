"""Redrive on the running stack: a real dead letter, the cause fixed, the user completed.

The test stack runs enrich with a short not-found period (ENRICH_NOT_FOUND_RETRY_S), so an
HR record for someone Okta does not know is dead-lettered within seconds.
"""

from __future__ import annotations

import json

import httpx
from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig

from tests.e2e.ops_support import found, new_employee, ops, post_hr, put_okta_user


def _status(stack: StackConfig, employee_id: str, wanted: str) -> dict[str, object] | None:
    response = httpx.get(f"{stack.url('query-service')}/v1/users/{employee_id}/status")
    if response.status_code != 200:
        return None
    body: dict[str, object] = response.json()
    return body if body["status"] == wanted else None


def test_redrive_after_the_cause_is_fixed_completes_the_user(stack: StackConfig) -> None:
    employee_id, email = new_employee("redrive")
    event_id = post_hr(stack, employee_id, email)  # Okta has no such user: it will fail

    failed = eventually(lambda: _status(stack, employee_id, "failed"), within=90)
    assert failed["event_id"] == event_id
    assert "okta_user_not_found" in str(failed["error"])
    listed = ops(stack, "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    row = next(r for r in rows if r["employee_id"] == employee_id)
    assert row["error_code"] == "okta_user_not_found"

    put_okta_user(stack, email, ["Everyone", "Redriven"])  # the cause, fixed
    redriven = ops(stack, "dlq", "redrive", "--employee", employee_id)

    assert redriven.returncode == 0, redriven.stderr
    user = eventually(lambda: found(stack, employee_id), within=60)
    assert user.json()["groups"] == ["Everyone", "Redriven"]
    assert eventually(lambda: _status(stack, employee_id, "completed"), within=30)
    again = ops(stack, "dlq", "redrive", "--employee", employee_id)
    assert again.returncode == 2  # sent back once; nothing waits any more
    assert f"no dead letter is waiting for employee {employee_id}" in again.stderr
