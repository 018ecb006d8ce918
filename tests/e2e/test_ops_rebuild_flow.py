"""Rebuild on the running stack: identical answers for 50 users, and never a 404 meanwhile."""

from __future__ import annotations

import subprocess

import httpx
from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig

from tests.e2e.ops_support import OPS, found, new_employee, post_hr, put_okta_user

USERS = 50


def test_rebuild_gives_identical_answers_and_no_404_while_it_runs(stack: StackConfig) -> None:
    people = [new_employee("rebuild") for _ in range(USERS)]
    for employee_id, email in people:
        put_okta_user(stack, email, ["Everyone", "Rebuilt"])
        post_hr(stack, employee_id, email, title="Engineer")
    before = {e: eventually(lambda e=e: found(stack, e), within=90).json() for e, _ in people}

    rebuild = subprocess.Popen(
        [OPS, "rebuild-view"],
        env={"PATH": "/usr/bin:/bin", **stack.service_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    not_found: list[str] = []
    reads = 0
    with httpx.Client(base_url=stack.url("query-service"), timeout=10) as client:
        while rebuild.poll() is None:
            for employee_id, _ in people:
                reads += 1
                if client.get(f"/v1/users/{employee_id}").status_code == 404:
                    not_found.append(employee_id)
    out, err = rebuild.communicate(timeout=120)

    assert rebuild.returncode == 0, err
    assert "view rebuilt into" in out
    assert reads > USERS
    assert not_found == []
    after = {e: found(stack, e) for e, _ in people}
    assert {e: r.json() if r is not None else None for e, r in after.items()} == before
