"""Fixtures: the app on a hand-driven clock, a client holding the token, and Okta's schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI
from okta_simulator.app import create_app
from okta_simulator.clock import ManualClock
from okta_simulator.settings import DEFAULT_RATE_LIMITS, Settings
from oktasim_spec import OktaSchemas

TOKEN = "test-token"
BASE_URL = "https://acme.okta.example"
# Okta's own OpenAPI description, kept in the repository beside the simulator (see its NOTICE).
SPEC_PATH = Path(__file__).resolve().parents[1] / "okta-api" / "okta-users-subset.openapi.yaml"
START = 1_767_225_610.0  # 2026-01-01T00:00:10Z, ten seconds into a rate-limit window


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings() -> Settings:
    # Every field explicit, so variables in the environment cannot change the tests.
    return Settings(
        api_token=TOKEN,
        groups_page_size=2,
        rate_limits=dict(DEFAULT_RATE_LIMITS),
        rate_limit_window_seconds=60,
        latency_ms=0,
    )


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> FastAPI:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"SSWS {TOKEN}", "Accept": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as c:
        yield c


@pytest.fixture(scope="session")
def okta() -> OktaSchemas:
    return OktaSchemas(yaml.safe_load(SPEC_PATH.read_text()))


@pytest.fixture
def token() -> str:
    return TOKEN
