"""Fail closed and bound every input: settings that parse to nothing, hostile headers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from ingest_service.intake import BodyTooLarge, read_body
from ingest_service.settings import Settings
from ingest_support import SECRET, SEED, make_settings, running, signed, variant
from onboarding_runtime.settings import load_settings
from pydantic import ValidationError

PRODUCTION = {"environment": "production", "pii_hash_key": "a-real-pii-key"}


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"api_key": ", ", "webhook_secret": None}, "API_KEY"),
        ({"api_key": " ", "webhook_secret": SECRET}, "API_KEY"),
        ({"api_key": None, "webhook_secret": " "}, "WEBHOOK_SECRET"),
        ({"api_key": None, "webhook_secret": " , "}, "WEBHOOK_SECRET"),
        ({"api_key": "k", "pii_hash_key": "   "}, "PII_HASH_KEY"),
        ({"api_key": "k", "pii_hash_key": ""}, "PII_HASH_KEY"),
    ],
)
def test_production_refuses_secrets_that_parse_to_nothing(
    overrides: dict[str, str | None], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        make_settings(**{**PRODUCTION, **overrides})


def test_production_starts_with_a_real_key_and_the_authenticator_uses_it() -> None:
    settings = make_settings(**PRODUCTION, api_key=" new , old ,")
    assert settings.api_keys() == ["new", "old"]


def test_a_rate_limit_burst_smaller_than_a_batch_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 1000: a batch takes one token per record"):
        make_settings(rate_limit_burst=999)
    assert make_settings(rate_limit_burst=1000).rate_limit_burst == 1000


def test_refusal_names_the_setting_and_never_echoes_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "ENVIRONMENT": "production",
        "PII_HASH_KEY": "pii-secret-value",
        "API_KEY": " , ",
        "WEBHOOK_SECRET": "",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        load_settings(Settings, "ingest-service")
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "ingest-service: refusing to start" in err
    assert "API_KEY" in err
    assert "pii-secret-value" not in err


@pytest.mark.integration
async def test_hostile_signature_headers_get_401_never_500(
    settings: Settings, hr_topic: str
) -> None:
    body = json.dumps(SEED).encode()
    good = signed(body, "msg_hostile")
    hostile = [
        {**good, "webhook-timestamp": "9" * 5000},
        {**good, "webhook-timestamp": "1" * 13},
        # Full-width digits (isdigit() but not ASCII), as UTF-8 bytes on the wire.
        {**good, "webhook-timestamp": "\uff11\uff12\uff13".encode()},
        {**good, "webhook-signature": "v1," + "A" * 10_000},
        {**good, "webhook-id": "m" * 5000},
    ]
    async with running(variant(settings, webhook_secret=SECRET), hr_topic) as client:
        answers = [
            await client.post("/v1/hr/webhook", content=body, headers=headers)
            for headers in hostile
        ]
        accepted = await client.post("/v1/hr/webhook", content=body, headers=good)

    assert [a.status_code for a in answers] == [401] * len(hostile)
    assert all("Traceback" not in a.text for a in answers)
    assert accepted.status_code == 202


async def _chunks() -> AsyncIterator[bytes]:
    yield b"{}"


@pytest.mark.parametrize("declared", ["9" * 5000, "65537", " 99999999999999999999 "])
async def test_a_huge_declared_length_is_413_before_it_is_converted(declared: str) -> None:
    with pytest.raises(BodyTooLarge):
        await read_body(_chunks(), declared)


async def test_a_declared_length_that_is_not_a_number_is_not_trusted() -> None:
    assert await read_body(_chunks(), "\uff11\uff12") == b"{}"
