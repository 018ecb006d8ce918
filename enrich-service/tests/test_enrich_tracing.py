"""One trace through enrich: the consumed record's, with each Okta call and the publish in
it, and carried on in the published record's `traceparent`; no personal data in spans."""

from __future__ import annotations

import pytest
from enrich_support import (
    EnrichFactory,
    Simulator,
    end_offsets,
    hr_event,
    publish_hr,
    read_until,
    unique_person,
)
from onboarding_events import HR_USERS_TOPIC, USERS_ENRICHED_TOPIC, header_map
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

pytestmark = pytest.mark.integration

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


async def test_the_enriched_record_goes_on_in_the_hr_records_trace(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory, spans: InMemorySpanExporter
) -> None:
    employee, email = unique_person()
    okta_user = await sim.put_user(
        email, status="ACTIVE", groups=["Engineering"], app_links=["Slack"]
    )
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        await publish_hr(
            kafka_bootstrap, [hr_event(employee, email)], headers={"traceparent": TRACEPARENT}
        )
        [record] = await read_until(kafka_bootstrap, since, {employee}, lambda found: bool(found))

    ours = [s for s in spans.get_finished_spans() if f"{s.context.trace_id:032x}" == TRACE_ID]
    by_name = {span.name: span for span in ours}
    process = by_name[f"{HR_USERS_TOPIC} process"]
    assert process.parent is not None
    assert f"{process.parent.span_id:016x}" == "b7ad6b7169203331"
    assert {"GET listUsers", "GET listUserGroups", "GET listAppLinks"} <= set(by_name)
    publish = by_name[f"{USERS_ENRICHED_TOPIC} publish"]
    for child in [publish, by_name["GET listUsers"]]:
        assert child.parent is not None
        assert child.parent.span_id == process.context.span_id

    headers = header_map(record.headers)
    assert headers["traceparent"] == f"00-{TRACE_ID}-{publish.context.span_id:016x}-01"
    assert headers["correlation-id"] == TRACE_ID

    everything = " ".join(f"{s.name} {dict(s.attributes or {})} {s.events}" for s in ours)
    assert email not in everything
    assert email.split("@")[0] not in everything
    assert employee not in everything
    assert okta_user["id"] not in everything
    groups = by_name["GET listUserGroups"].attributes or {}
    assert groups["url.template"] == "/api/v1/users/{id}/groups"
    assert "?" not in str(by_name["GET listUsers"].attributes)
