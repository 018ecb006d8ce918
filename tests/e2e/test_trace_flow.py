"""One webhook, one trace: ingest, enrich and the query projector export their spans (OTLP
over HTTP) to the session's collector, all in the trace of the webhook's `traceparent`."""

from __future__ import annotations

import uuid

import httpx
import pytest
from onboarding_devstack.otlp_collector import Collector
from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig
from onboarding_events import HR_USERS_TOPIC, USERS_ENRICHED_TOPIC

from tests.e2e.ops_support import found, new_employee, put_okta_user

pytestmark = pytest.mark.integration


def test_a_webhook_is_one_trace_across_the_three_services(
    stack: StackConfig, otlp_collector: Collector
) -> None:
    employee_id, email = new_employee("traced")
    put_okta_user(stack, email, ["Everyone"])
    trace_id = uuid.uuid4().hex
    body = {"employee_id": employee_id, "first_name": "Tr", "last_name": "Aced", "email": email}
    response = httpx.post(
        f"{stack.url('ingest-service')}/v1/hr/webhook",
        json=body,
        headers={"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"},
    )
    assert response.status_code == 202
    assert response.headers["x-correlation-id"] == trace_id
    eventually(lambda: found(stack, employee_id), within=60)

    wanted = {
        ("ingest-service", "POST /v1/hr/webhook"),
        ("ingest-service", "validate"),
        ("ingest-service", "publish"),
        ("enrich-service", f"{HR_USERS_TOPIC} process"),
        ("enrich-service", "GET listUsers"),
        ("enrich-service", f"{USERS_ENRICHED_TOPIC} publish"),
        ("query-service", f"{USERS_ENRICHED_TOPIC} process"),
    }

    def all_there() -> bool | None:
        seen = {(s.service, s.name) for s in otlp_collector.spans(trace_id)}
        return wanted <= seen or None

    eventually(all_there, within=30)
    spans = otlp_collector.spans(trace_id)
    by_id = {s.span_id: s for s in spans}
    # Connected: every span but the webhook's has its parent in the trace.
    for span in spans:
        if span.name != "POST /v1/hr/webhook":
            assert span.parent_span_id in by_id, span
    text = " ".join(f"{s.name} {s.attributes}" for s in spans)
    assert email not in text
    assert email.split("@")[0] not in text
    assert employee_id not in text


def test_a_read_is_a_span_named_by_its_route_without_the_id(
    stack: StackConfig, otlp_collector: Collector
) -> None:
    employee_id, _ = new_employee("read")
    trace_id = uuid.uuid4().hex
    response = httpx.get(
        f"{stack.url('query-service')}/v1/users/{employee_id}",
        headers={"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"},
    )
    assert response.status_code == 404

    spans = eventually(lambda: otlp_collector.spans(trace_id) or None, within=30)
    [read] = [s for s in spans if s.kind == 2]  # SPAN_KIND_SERVER
    assert (read.service, read.name) == ("query-service", "GET /v1/users/{employee_id}")
    assert employee_id not in " ".join(f"{s.name} {s.attributes}" for s in spans)
