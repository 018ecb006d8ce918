"""Standard Webhooks signatures: the cases a sender and an attacker produce."""

from __future__ import annotations

import base64
import json
import time

import pytest
from ingest_service.settings import Settings
from ingest_support import OLD_SECRET, SECRET, SEED, running, signed, variant
from onboarding_runtime.webhook_signatures import SignatureError, parse_secrets, verify
from pydantic import ValidationError

BODY = b'{"employee_id": "12345"}'
NOW = 1_767_225_600.0


def test_a_signature_made_by_the_standardwebhooks_package_verifies() -> None:
    headers = signed(BODY, "msg_1", at=NOW)

    assert verify(parse_secrets(SECRET), headers, BODY, now=NOW) == "msg_1"


def test_any_configured_secret_verifies_so_secrets_can_rotate() -> None:
    headers = signed(BODY, "msg_1", secret=OLD_SECRET, at=NOW)

    assert verify(parse_secrets(f"{SECRET},{OLD_SECRET}"), headers, BODY, now=NOW) == "msg_1"
    with pytest.raises(SignatureError, match="no matching signature"):
        verify(parse_secrets(SECRET), headers, BODY, now=NOW)


def test_one_good_signature_among_several_is_enough() -> None:
    headers = signed(BODY, "msg_1", at=NOW)
    headers["webhook-signature"] = f"v1,AAAA v2,zzz v1,!!notbase64 {headers['webhook-signature']}"

    assert verify(parse_secrets(SECRET), headers, BODY, now=NOW) == "msg_1"


@pytest.mark.parametrize(("at", "reason"), [(NOW - 301, "too old"), (NOW + 301, "in the future")])
def test_timestamps_outside_five_minutes_are_refused(at: float, reason: str) -> None:
    headers = signed(BODY, "msg_1", at=at)

    with pytest.raises(SignatureError, match=reason):
        verify(parse_secrets(SECRET), headers, BODY, now=NOW)


def test_timestamps_within_five_minutes_are_accepted() -> None:
    for at in (NOW - 299, NOW + 299):
        assert verify(parse_secrets(SECRET), signed(BODY, "m", at=at), BODY, now=NOW) == "m"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b.replace(b"12345", b"12346")),
        lambda h, b: ({**h, "webhook-id": "msg_2"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(NOW) + 1)}, b),
    ],
    ids=["body", "id", "timestamp"],
)
def test_tampering_with_anything_signed_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    headers, body = tamper(signed(BODY, "msg_1", at=NOW), BODY)

    with pytest.raises(SignatureError):
        verify(parse_secrets(SECRET), headers, body, now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"webhook-id": "m", "webhook-timestamp": str(int(NOW))},
        {"webhook-id": "m", "webhook-timestamp": "soon", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "m", "webhook-timestamp": "1e9", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "m", "webhook-timestamp": "١٢٣", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "m", "webhook-timestamp": str(int(NOW)), "webhook-signature": "v1"},
        {"webhook-id": "m", "webhook-timestamp": str(int(NOW)), "webhook-signature": "v1,%%%"},
        {"webhook-id": "m", "webhook-timestamp": str(int(NOW)), "webhook-signature": "garbage"},
        {"webhook-id": "m" * 300, "webhook-timestamp": str(int(NOW)), "webhook-signature": "v1,"},
    ],
)
def test_malformed_headers_are_a_signature_error_never_a_crash(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify(parse_secrets(SECRET), headers, BODY, now=NOW)


def test_secrets_must_be_base64() -> None:
    assert parse_secrets("whsec_" + base64.b64encode(b"x").decode().rstrip("="))
    with pytest.raises(ValueError, match="base64"):
        parse_secrets("whsec_not*base64")
    with pytest.raises(ValidationError):
        Settings(webhook_secret="whsec_***")


def test_production_refuses_to_start_without_authentication() -> None:
    with pytest.raises(ValidationError, match="API_KEY or WEBHOOK_SECRET"):
        Settings(environment="production", pii_hash_key="k", api_key=None, webhook_secret=None)
    assert Settings(environment="production", pii_hash_key="k", webhook_secret=SECRET, api_key=None)


@pytest.mark.integration
async def test_the_service_answers_401_for_bad_signatures_and_202_for_good_ones(
    settings: Settings, hr_topic: str
) -> None:
    body = json.dumps(SEED).encode()
    app_settings = variant(settings, webhook_secret=f"{SECRET},{OLD_SECRET}")
    async with running(app_settings, hr_topic) as client:
        good = await client.post("/v1/hr/webhook", content=body, headers=signed(body, "msg_a"))
        rotated = await client.post(
            "/v1/hr/webhook", content=body, headers=signed(body, "msg_b", secret=OLD_SECRET)
        )
        stale = await client.post(
            "/v1/hr/webhook", content=body, headers=signed(body, "msg_c", at=time.time() - 600)
        )
        broken = await client.post(
            "/v1/hr/webhook",
            content=b"\xff\xfe" + body,
            headers={**signed(body, "msg_d"), "webhook-signature": b"v1,\xff=="},
        )
        unsigned = await client.post("/v1/hr/webhook", content=body)

    assert (good.status_code, rotated.status_code) == (202, 202)
    assert (stale.status_code, broken.status_code, unsigned.status_code) == (401, 401, 401)
    assert "too old" in stale.json()["detail"]
