"""Every answer of the contract, against the real broker and database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from ingest_service.settings import Settings
from ingest_support import SEED, read_topic, running, variant
from onboarding_events import HrUserUpserted, header_map

pytestmark = pytest.mark.integration


async def test_seed_is_202_with_the_contract_body_and_written_as_a_cloudevent(
    settings: Settings, hr_topic: str
) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    async with running(settings, hr_topic) as client:
        response = await client.post(
            "/v1/hr/webhook",
            json={**SEED, "extra": "ignored"},
            headers={"traceparent": traceparent},
        )

    assert response.status_code == 202
    body = response.json()
    event_id = body.pop("event_id")
    assert body == {
        "status": "accepted",
        "message": "User enrichment queued for background processing",
        "employee_id": "12345",
        "email": "jane.doe@example.com",
    }
    assert response.headers["x-correlation-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    [record] = await read_topic(settings.kafka_bootstrap_servers, hr_topic, expect=1)
    assert record.key == b"12345"
    headers = header_map(record.headers)
    assert headers["content-type"] == "application/cloudevents+json"
    assert headers["correlation-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert headers["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    raw = json.loads(record.value)
    assert {"specversion", "id", "source", "type", "time", "subject", "datacontenttype"} <= set(raw)
    event = HrUserUpserted.from_json(record.value)
    assert (event.id, event.type, event.subject) == (event_id, "hr.user.upserted", "12345")
    assert event.data.model_dump(mode="json") == SEED


async def test_the_same_delivery_id_gives_the_same_event_once_even_after_a_restart(
    settings: Settings, hr_topic: str
) -> None:
    first_headers = {"webhook-id": "msg_restart_1"}
    async with running(settings, hr_topic) as client:
        first = await client.post("/v1/hr/webhook", json=SEED, headers=first_headers)
        again = await client.post("/v1/hr/webhook", json=SEED, headers=first_headers)
        keyed = await client.post("/v1/hr/webhook", json=SEED, headers={"Idempotency-Key": "k1"})
    async with running(settings, hr_topic) as client:  # a new process: memory is gone
        after_restart = await client.post("/v1/hr/webhook", json=SEED, headers=first_headers)
        keyed_again = await client.post(
            "/v1/hr/webhook", json=SEED, headers={"Idempotency-Key": "k1"}
        )

    assert [r.status_code for r in (first, again, after_restart, keyed, keyed_again)] == [202] * 5
    assert first.json()["event_id"] == again.json()["event_id"] == after_restart.json()["event_id"]
    assert keyed.json()["event_id"] == keyed_again.json()["event_id"] != first.json()["event_id"]
    records = await read_topic(settings.kafka_bootstrap_servers, hr_topic, expect=2, settle=1.5)
    ids = [HrUserUpserted.from_json(r.value).id for r in records]
    assert sorted(ids) == sorted([first.json()["event_id"], keyed.json()["event_id"]])


async def test_deliveries_without_an_id_are_separate_events(
    settings: Settings, hr_topic: str
) -> None:
    async with running(settings, hr_topic) as client:
        one = await client.post("/v1/hr/webhook", json=SEED)
        two = await client.post("/v1/hr/webhook", json=SEED)

    assert one.json()["event_id"] != two.json()["event_id"]


async def test_api_key_is_required_when_configured(settings: Settings, hr_topic: str) -> None:
    with_key = variant(settings, api_key="new-key,old-key")
    async with running(with_key, hr_topic) as client:
        missing = await client.post("/v1/hr/webhook", json=SEED)
        wrong = await client.post("/v1/hr/webhook", json=SEED, headers={"X-API-Key": "nope"})
        rotated = await client.post("/v1/hr/webhook", json=SEED, headers={"X-API-Key": "old-key"})
        right = await client.post("/v1/hr/webhook", json=SEED, headers={"X-API-Key": "new-key"})

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert "X-API-Key" in missing.json()["detail"]
    assert (rotated.status_code, right.status_code) == (202, 202)


async def test_refusals_413_415_422(settings: Settings, hr_topic: str) -> None:
    async with running(settings, hr_topic) as client:
        too_big = await client.post("/v1/hr/webhook", json={**SEED, "notes": "x" * (64 * 1024)})
        not_json = await client.post(
            "/v1/hr/webhook", content=b"employee_id=1", headers={"content-type": "text/plain"}
        )
        broken = await client.post(
            "/v1/hr/webhook", content=b"{not json", headers={"content-type": "application/json"}
        )
        not_utf8 = await client.post(
            "/v1/hr/webhook", content=b'{"a": "\xff"}', headers={"content-type": "application/json"}
        )
        bad = await client.post(
            "/v1/hr/webhook",
            json={"employee_id": "12 345", "email": "nope", "start_date": "15/01/2024"},
        )

    assert too_big.status_code == 413
    assert not_json.status_code == 415
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["type"] == "json_invalid"
    assert not_utf8.status_code == 422
    assert bad.status_code == 422
    fields = {tuple(reason["loc"]) for reason in bad.json()["detail"]}
    assert fields == {
        ("body", "employee_id"),
        ("body", "email"),
        ("body", "start_date"),
        ("body", "first_name"),
        ("body", "last_name"),
    }
    assert "nope" not in bad.text  # reasons, not the input echoed back


async def test_rate_limit_is_per_sender(settings: Settings, hr_topic: str) -> None:
    # A burst of 1,000 records that barely refills; a batch takes 997 of them first.
    limited = variant(settings, api_key="noisy,quiet", rate_limit_per_s=0.001)
    async with running(limited, hr_topic) as client:
        batch = await client.post(
            "/v1/hr/webhooks:batch", json=[SEED] * 997, headers={"X-API-Key": "noisy"}
        )
        noisy = [
            await client.post("/v1/hr/webhook", json=SEED, headers={"X-API-Key": "noisy"})
            for _ in range(5)
        ]
        quiet = await client.post("/v1/hr/webhook", json=SEED, headers={"X-API-Key": "quiet"})

    assert batch.status_code == 207
    assert [r.status_code for r in noisy] == [202, 202, 202, 429, 429]
    assert int(noisy[-1].headers["retry-after"]) >= 1
    assert quiet.status_code == 202


async def test_health_and_readiness(settings: Settings, hr_topic: str) -> None:
    async with running(settings, hr_topic) as client:
        healthz = await client.get("/v1/healthz")
        readyz = await client.get("/v1/readyz")
        metrics = await client.get("/metrics")

    assert healthz.json() == {"status": "ok"}
    assert readyz.status_code == 200
    assert "ingest_webhooks_total" in metrics.text


async def test_a_start_date_more_than_a_year_ahead_is_refused_with_422(
    settings: Settings, hr_topic: str
) -> None:
    today = datetime.now(UTC).date()  # the service's day; the margins below span midnight
    async with running(settings, hr_topic) as client:
        pre_hire = await client.post(
            "/v1/hr/webhook", json={**SEED, "start_date": str(today + timedelta(days=300))}
        )
        typo = await client.post(
            "/v1/hr/webhook", json={**SEED, "start_date": str(today + timedelta(days=400))}
        )

    assert pre_hire.status_code == 202
    assert typo.status_code == 422
    [reason] = typo.json()["detail"]
    assert (reason["loc"], reason["type"]) == (["body", "start_date"], "date_too_far_ahead")
