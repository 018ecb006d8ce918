"""People not in Okta yet, through the running stack: a future hire is `scheduled` with the
time of the next lookup, and is enriched once Okta knows them; someone starting today is
`pending` meanwhile. (The stack's retry tiers wait 1 s, then 2 s.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig

from tests.e2e.ops_support import found, get_user, new_employee, post_hr, put_okta_user, waiting


def test_a_future_hire_is_scheduled_until_okta_knows_them_then_completed(
    stack: StackConfig,
) -> None:
    hire, hire_email = new_employee("prehire")
    today, today_email = new_employee("today")
    start = datetime.now(UTC).date() + timedelta(days=30)
    event_id = post_hr(stack, hire, hire_email, start_date=start.isoformat())
    post_hr(stack, today, today_email, start_date=datetime.now(UTC).date().isoformat())

    scheduled = eventually(lambda: waiting(stack, hire), within=60)
    pending = eventually(lambda: waiting(stack, today), within=60)

    assert (scheduled["status"], scheduled["event_id"]) == ("scheduled", event_id)
    assert datetime.fromisoformat(scheduled["next_check_at"]) > datetime.fromisoformat(
        scheduled["accepted_at"]
    )
    assert pending["status"] == "pending"
    assert get_user(stack, hire).status_code == 404

    put_okta_user(stack, hire_email, ["Everyone"])
    user = eventually(lambda: found(stack, hire), within=60)
    assert user.json()["startDate"] == start.isoformat()
    status = get_user(stack, f"{hire}/status").json()
    assert (status["status"], status["next_check_at"]) == ("completed", None)
