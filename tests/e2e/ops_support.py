"""Running `onboarding-ops` against the test stack, and shaping its Okta and HR data."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from onboarding_devstack.stack import StackConfig

OPS = str(Path(sys.executable).parent / "onboarding-ops")


def ops_env(stack: StackConfig) -> dict[str, str]:
    """The services' variables, and where ingest listens (`import` posts there)."""
    return {
        "PATH": "/usr/bin:/bin",
        **stack.service_env(),
        "INGEST_URL": stack.url("ingest-service"),
    }


def ops(stack: StackConfig, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it: a process reading the services' variables."""
    return subprocess.run(
        [OPS, *args],
        env=ops_env(stack),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def new_employee(prefix: str) -> tuple[str, str]:
    """A fresh employee id and email, so tests never see each other's people."""
    tag = uuid.uuid4().hex[:10]
    return f"{prefix}-{tag}", f"{prefix}.{tag}@example.com"


def put_okta_user(stack: StackConfig, email: str, groups: list[str]) -> None:
    body = {"email": email, "first_name": "Op", "last_name": "Test", "groups": groups}
    httpx.put(f"{stack.url('okta-simulator')}/_sim/users", json=body).raise_for_status()


def post_hr(stack: StackConfig, employee_id: str, email: str, **extra: Any) -> str:
    body = {"employee_id": employee_id, "first_name": "Op", "last_name": "Test", "email": email}
    response = httpx.post(f"{stack.url('ingest-service')}/v1/hr/webhook", json=body | extra)
    assert response.status_code == 202, response.text
    return str(response.json()["event_id"])


def get_user(stack: StackConfig, employee_id: str) -> httpx.Response:
    return httpx.get(f"{stack.url('query-service')}/v1/users/{employee_id}", timeout=10)


def found(stack: StackConfig, employee_id: str) -> httpx.Response | None:
    response = get_user(stack, employee_id)
    return response if response.status_code == 200 else None


def waiting(stack: StackConfig, employee_id: str) -> dict[str, Any] | None:
    """The status of an employee whose HR event waits on a retry tier (None otherwise)."""
    response = get_user(stack, f"{employee_id}/status")
    if response.status_code != 200 or response.json()["next_check_at"] is None:
        return None
    status: dict[str, Any] = response.json()
    return status
