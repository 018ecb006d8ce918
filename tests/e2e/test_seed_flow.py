"""The seed example through the real broker, database, simulator and the three services."""

from __future__ import annotations

import httpx
from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig

# The contract's seed written out, not `HR_RECORD_EXAMPLE`: this test holds our constant,
# and everything built on it, to the contract's text.
SEED = {
    "employee_id": "12345",
    "first_name": "Jane",
    "last_name": "Doe",
    "preferred_name": "Janey",
    "email": "jane.doe@example.com",
    "title": "Software Engineer",
    "department": "Engineering",
    "start_date": "2024-01-15",
}

EXPECTED = {
    "id": "12345",
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "title": "Software Engineer",
    "department": "Engineering",
    "startDate": "2024-01-15",
    "groups": ["Everyone", "Engineering", "Full-Time Employees"],
    "applications": ["Google Workspace", "Slack", "Jira"],
    "onboarded": True,
}


def _found(stack: StackConfig, employee_id: str) -> httpx.Response | None:
    response = httpx.get(f"{stack.url('query-service')}/v1/users/{employee_id}")
    return response if response.status_code == 200 else None


def test_seed_record_is_enriched_and_served_exactly_as_the_contract_says(
    stack: StackConfig,
) -> None:
    accepted = httpx.post(f"{stack.url('ingest-service')}/v1/hr/webhook", json=SEED)

    assert accepted.status_code == 202
    body = accepted.json()
    assert body.pop("event_id")
    assert body == {
        "status": "accepted",
        "message": "User enrichment queued for background processing",
        "employee_id": "12345",
        "email": "jane.doe@example.com",
    }
    user = eventually(lambda: _found(stack, "12345"), within=60)
    assert user.json() == EXPECTED


def test_unknown_user_is_404_with_the_contract_detail(stack: StackConfig) -> None:
    response = httpx.get(f"{stack.url('query-service')}/v1/users/never-posted")

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


def test_every_service_reports_health_readiness_and_metrics(stack: StackConfig) -> None:
    for service in ("ingest-service", "enrich-service", "query-service"):
        base = stack.url(service)
        assert httpx.get(f"{base}/v1/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/v1/readyz").status_code == 200
        metrics = httpx.get(f"{base}/metrics")
        assert metrics.status_code == 200
        assert "# TYPE" in metrics.text
