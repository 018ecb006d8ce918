"""Erase on the running stack: gone at once, and still gone after a replay and a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig

from tests.e2e.ops_support import (
    found,
    get_user,
    new_employee,
    ops,
    post_hr,
    put_okta_user,
    waiting,
)


def _with_groups(stack: StackConfig, employee_id: str, groups: list[str]) -> bool | None:
    response = found(stack, employee_id)
    return True if response is not None and response.json()["groups"] == groups else None


def test_erase_then_replay_and_rebuild_still_404(stack: StackConfig) -> None:
    erased, erased_email = new_employee("erase")
    kept, kept_email = new_employee("keep")
    put_okta_user(stack, erased_email, ["Everyone"])
    put_okta_user(stack, kept_email, ["Everyone"])
    since = datetime.now(UTC) - timedelta(seconds=1)
    post_hr(stack, erased, erased_email)
    post_hr(stack, kept, kept_email)
    eventually(lambda: found(stack, erased), within=60)
    eventually(lambda: found(stack, kept), within=60)

    result = ops(stack, "erase", erased)

    assert result.returncode == 0, result.stderr
    assert get_user(stack, erased).status_code == 404
    status = get_user(stack, f"{erased}/status")
    assert status.status_code == 404, status.text

    # A replay brings the kept employee's groups up to date, never the erased one back.
    put_okta_user(stack, kept_email, ["Everyone", "Replayed"])
    replayed = ops(stack, "replay", "--since", since.isoformat())
    assert replayed.returncode == 0, replayed.stderr
    assert "1 of erased employees" in replayed.stdout
    eventually(lambda: _with_groups(stack, kept, ["Everyone", "Replayed"]), within=60)
    rebuilt = ops(stack, "rebuild-view")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert get_user(stack, erased).status_code == 404
    assert get_user(stack, kept).status_code == 200


def test_erase_of_an_unknown_id_is_a_clear_error(stack: StackConfig) -> None:
    result = ops(stack, "erase", "nobody-ever-posted-this")

    assert result.returncode == 2
    assert "unknown employee nobody-ever-posted-this" in result.stderr


def _erased_skips(stack: StackConfig) -> float:
    metrics = httpx.get(f"{stack.url('enrich-service')}/metrics").text
    for line in metrics.splitlines():
        if line.startswith("onboarding_enrich_erased_skipped_total "):
            return float(line.split()[1])
    return 0.0


def test_an_event_in_flight_at_the_erasure_does_not_bring_the_person_back(
    stack: StackConfig,
) -> None:
    employee_id, email = new_employee("inflight")
    skipped_before = _erased_skips(stack)
    post_hr(stack, employee_id, email)  # Okta does not know them yet: they wait on a tier
    eventually(lambda: waiting(stack, employee_id))

    result = ops(stack, "erase", employee_id)  # known to the status view: no --force needed
    assert result.returncode == 0, result.stderr
    put_okta_user(stack, email, ["Everyone"])  # the retry would now succeed

    eventually(lambda: _erased_skips(stack) > skipped_before or None, within=30)
    assert get_user(stack, employee_id).status_code == 404
