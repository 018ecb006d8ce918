"""Production enrich talks to a real Okta: never the simulator's address or token."""

from __future__ import annotations

from typing import Any

import pytest
from enrich_service.settings import SIMULATOR_TOKEN, SIMULATOR_URL, Settings
from pydantic import ValidationError

REAL = {"okta_org_url": "https://acme.okta.com", "okta_api_token": "00a-real-token"}


def production(**changes: Any) -> Settings:
    return Settings(**{"environment": "production", "pii_hash_key": "k" * 32, **REAL, **changes})


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"okta_org_url": SIMULATOR_URL}, "OKTA_ORG_URL"),
        ({"okta_org_url": "http://acme.okta.com"}, "OKTA_ORG_URL"),
        ({"okta_org_url": "not a url"}, "OKTA_ORG_URL"),
        ({"okta_api_token": SIMULATOR_TOKEN}, "OKTA_API_TOKEN"),
        ({"okta_api_token": " "}, "OKTA_API_TOKEN"),
        ({"pii_hash_key": " "}, "PII_HASH_KEY"),
    ],
)
def test_production_refuses_the_simulator_and_blank_secrets(
    changes: dict[str, str], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        production(**changes)


def test_production_with_a_real_org_starts_and_development_keeps_the_simulator() -> None:
    assert production().okta_org_url == "https://acme.okta.com"
    development = Settings(environment="development")
    assert (development.okta_org_url, development.okta_api_token.get_secret_value()) == (
        SIMULATOR_URL,
        SIMULATOR_TOKEN,
    )


def test_production_without_api_key_starts_with_the_preview_off() -> None:
    # The preview is optional: enrichment must not stop for want of its key.
    assert not production().preview_enabled
    assert not production(api_key=" , ").preview_enabled  # blank counts as unset
    rotating = production(api_key="old-key, new-key")
    assert (rotating.preview_enabled, rotating.api_keys()) == (True, ["old-key", "new-key"])
    assert Settings(environment="development").preview_enabled  # open, as the webhook is
