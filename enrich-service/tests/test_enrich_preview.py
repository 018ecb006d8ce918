"""`POST /v1/preview` against the real broker and the Okta simulator: the user as the query
service would serve them, or the status enrichment would give and why; nothing published."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from enrich_service.preview import BUSY, OKTA_BUSY, OKTA_DOWN, PREVIEW_PATH
from enrich_support import (
    ApiFactory,
    EnrichFactory,
    Offsets,
    Simulator,
    end_offsets,
    hr_event,
    publish_hr,
    read_until,
    unique_person,
)
from onboarding_devstack.polling import eventually_async
from onboarding_events import HR_USERS_DLQ_TOPIC, HR_USERS_TOPIC, USERS_ENRICHED_TOPIC
from onboarding_runtime.view.records import enriched_change
from onboarding_runtime.view.writer import Put

pytestmark = pytest.mark.integration

KEYS = "old-key,new-key"  # `API_KEY` during a rotation: either one opens the preview
WITH_KEY = {"X-API-Key": "new-key"}
TOPICS = (HR_USERS_TOPIC, USERS_ENRICHED_TOPIC, HR_USERS_DLQ_TOPIC)


def hr_record(employee: str, email: str) -> dict[str, Any]:
    """The record as the HR system posts it to the webhook."""
    return hr_event(employee, email).data.model_dump(mode="json")


async def topic_ends(bootstrap: str) -> dict[str, Offsets]:
    return {topic: await end_offsets(bootstrap, topic) for topic in TOPICS}


def _tag(email: str) -> str:
    return email.split("@")[0]  # unique per person, and unchanged in a URL's query


async def test_a_person_in_okta_is_answered_as_the_query_service_would_serve_them(
    kafka_bootstrap: str,
    sim: Simulator,
    enrich_api: ApiFactory,
    enrich: EnrichFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    employee, email = unique_person()
    await sim.put_user(
        email, status="ACTIVE", groups=["Everyone", "Engineering"], app_links=["Slack", "Jira"]
    )
    event = hr_event(employee, email)
    before = await topic_ends(kafka_bootstrap)
    caplog.set_level(logging.INFO)
    async with enrich_api(api_key=KEYS) as client:
        answers = [
            await client.post(
                PREVIEW_PATH, json=hr_record(employee, email), headers={"X-API-Key": key}
            )
            for key in ("old-key", "new-key")
        ]
    # Anything published would have been flushed when the service stopped.
    assert await topic_ends(kafka_bootstrap) == before
    logged = [str(vars(record)) for record in caplog.records]

    assert [answer.status_code for answer in answers] == [200, 200]
    preview = answers[0].json()
    assert answers[1].json() == preview
    assert {k: preview[k] for k in ("status", "reason", "message")} == {
        "status": "completed",
        "reason": None,
        "message": None,
    }
    assert not [line for line in logged if email in line or employee in line]

    # The same record enriched for real, and stored as the query service stores and serves it.
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        await publish_hr(kafka_bootstrap, [event])
        [record] = await read_until(kafka_bootstrap, since, {employee}, bool)
    stored = enriched_change(record)
    assert isinstance(stored, Put)
    served = json.loads(stored.fields["body"])
    assert list(preview["user"].items()) == list(served.items())  # same keys, order, values
    assert served["groups"] == ["Everyone", "Engineering"]


async def test_a_person_not_in_okta_is_pending_as_enrichment_would_keep_them(
    kafka_bootstrap: str, sim: Simulator, enrich_api: ApiFactory
) -> None:
    employee, email = unique_person()
    before = await topic_ends(kafka_bootstrap)
    start = (datetime.now(UTC).date() + timedelta(days=100)).isoformat()
    future_hire = {**hr_record(f"{employee}f", f"f.{email}"), "start_date": start}
    async with enrich_api(
        enrich_not_found_retry_s=30.0, enrich_retry_delays_s="10,60"
    ) as client:  # no API_KEY: open in tests
        answer = await client.post(PREVIEW_PATH, json=hr_record(employee, email))
        scheduled = await client.post(PREVIEW_PATH, json=future_hire)
    assert await topic_ends(kafka_bootstrap) == before

    assert answer.status_code == 200
    assert answer.json() == {
        "user": None,
        "status": "pending",
        "reason": "okta_user_not_found",
        "message": "no Okta user with this email yet: enrichment would look again after "
        "10 s, 60 s (then every 60 s) for 30 s, then dead-letter the event",
    }
    assert scheduled.json()["status"] == "scheduled"
    assert scheduled.json()["message"] == (
        "no Okta user with this email yet: enrichment would look again after 10 s, 60 s "
        f"(then every 60 s) until {start} (the start date) plus 604800 s, then dead-letter "
        "the event"
    )
    assert [call["status"] for call in await sim.requests("listUsers")] == [200, 200]


async def test_an_invalid_record_is_refused_with_every_reason_and_okta_is_not_asked(
    sim: Simulator, enrich_api: ApiFactory
) -> None:
    record = {"employee_id": "12 345", "first_name": "Jane", "email": "jane.doe@"}
    async with enrich_api(api_key=KEYS) as client:
        answer = await client.post(PREVIEW_PATH, json=record, headers=WITH_KEY)
        not_json = await client.post(
            PREVIEW_PATH, content=b"{", headers={**WITH_KEY, "content-type": "application/json"}
        )

    assert answer.status_code == 422
    reasons = answer.json()["detail"]
    # The webhook's shape: `loc` from `body`, a message and a type; the input never echoed.
    assert {tuple(reason["loc"]) for reason in reasons} == {
        ("body", "employee_id"),
        ("body", "email"),
        ("body", "last_name"),
    }
    assert all(set(reason) == {"loc", "msg", "type"} for reason in reasons)
    assert "jane.doe@" not in answer.text
    assert not_json.status_code == 422
    assert [reason["type"] for reason in not_json.json()["detail"]] == ["json_invalid"]
    assert await sim.requests() == []


async def test_without_a_key_or_with_a_wrong_one_the_preview_is_refused(
    sim: Simulator, enrich_api: ApiFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email)
    record = hr_record(employee, email)
    async with enrich_api(api_key=KEYS) as client:
        answers = [
            await client.post(PREVIEW_PATH, json=record, headers=headers)
            for headers in ({}, {"X-API-Key": "NEW-KEY"}, {"X-API-Key": KEYS})
        ]

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert {answer.json()["detail"] for answer in answers} == {"missing or wrong X-API-Key"}
    assert await sim.requests() == []


async def test_a_preview_yields_when_oktas_budget_is_short(
    sim: Simulator, enrich_api: ApiFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email)
    await sim.rate_limit("listUsers", 1)  # one search left in this minute's window
    async with enrich_api() as client:
        first = await client.post(PREVIEW_PATH, json=hr_record(employee, email))
        second = await client.post(PREVIEW_PATH, json=hr_record(employee, email))

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json() == {"detail": OKTA_BUSY}
    assert 1 <= int(second.headers["Retry-After"]) <= 61  # until the window resets
    assert len(await sim.requests("listUsers")) == 1  # the second never reached Okta


async def test_one_preview_more_than_allowed_at_once_is_refused_not_queued(
    sim: Simulator, enrich_api: ApiFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email)
    await sim.latency(2000, "listUsers")
    record = hr_record(employee, email)
    async with enrich_api(enrich_preview_concurrency=1, okta_timeout_s=10.0) as client:
        first = asyncio.create_task(client.post(PREVIEW_PATH, json=record, timeout=30))
        await eventually_async(lambda: _asked(sim, email), within=20, every=0.05)
        second = await client.post(PREVIEW_PATH, json=record)
        first_answer = await first

    assert second.status_code == 429
    assert second.json() == {"detail": BUSY}
    assert second.headers["Retry-After"] == "1"
    assert first_answer.status_code == 200
    assert len(await sim.requests("listUsers")) == 1


async def test_while_enrichment_is_paused_for_okta_the_preview_does_not_ask_it(
    kafka_bootstrap: str, sim: Simulator, enrich_api: ApiFactory
) -> None:
    waiting, waiting_email = unique_person()  # the consumer's record, held while Okta is down
    employee, email = unique_person()
    for address in (waiting_email, email):
        await sim.put_user(address)
    await sim.fault("503", count=100_000)
    record = hr_record(employee, email)
    async with enrich_api() as client:
        await publish_hr(kafka_bootstrap, [hr_event(waiting, waiting_email)])
        await eventually_async(lambda: _paused(client), within=60)
        refused = await client.post(PREVIEW_PATH, json=record)
        asked_meanwhile = await _asked(sim, email)
        await sim.clear_faults()
        answered = await eventually_async(lambda: _previewed(client, record), within=60)

    assert refused.status_code == 503
    assert refused.json() == {"detail": OKTA_DOWN}
    assert int(refused.headers["Retry-After"]) >= 1
    assert not asked_meanwhile
    assert answered["status"] == "completed"


async def _asked(sim: Simulator, email: str) -> bool:
    """Okta has received a search for `email` (answered or not)."""
    return any(_tag(email) in call["query_string"] for call in await sim.requests("listUsers"))


async def _paused(client: httpx.AsyncClient) -> bool:
    """The consumer's circuit breaker is open, as `/metrics` shows it."""
    metrics = (await client.get("/metrics")).text
    return 'onboarding_consumer_paused{consumer="enrich"} 1.0' in metrics


async def _previewed(client: httpx.AsyncClient, record: dict[str, Any]) -> dict[str, Any] | None:
    answer = await client.post(PREVIEW_PATH, json=record)
    if answer.status_code != 200:
        return None
    body: dict[str, Any] = answer.json()
    return body
