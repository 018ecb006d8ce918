"""The simulator's settings, read once from the environment by `__main__`."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from okta_simulator.models import Endpoint

DEFAULT_RATE_LIMITS: dict[Endpoint, int] = {
    "listUsers": 600,
    "getUser": 1200,
    "listUserGroups": 1200,
    "listAppLinks": 1200,
}


class Settings(BaseSettings):
    """`OKTA_SIM_*` variables, plus `OKTA_API_TOKEN` shared with the clients."""

    model_config = SettingsConfigDict(env_prefix="OKTA_SIM_", extra="ignore", populate_by_name=True)

    # `HOST` too, as the services and their Dockerfiles use it (`HOST=0.0.0.0` in a container).
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("OKTA_SIM_HOST", "HOST"))
    port: int = Field(default=8010, ge=1, le=65535)
    api_token: SecretStr = Field(
        default=SecretStr("okta-simulator-token"),
        validation_alias=AliasChoices("OKTA_API_TOKEN"),
    )
    # Okta's own default page size is 200; the demo org uses 2 so that Jane's three
    # groups arrive over two pages and clients are forced to follow `rel="next"`.
    groups_page_size: int = Field(default=2, ge=1, le=10_000)
    rate_limits: dict[Endpoint, int] = Field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    latency_ms: int = Field(default=0, ge=0)
    log_level: str = "info"

    @field_validator("rate_limits", mode="after")
    @classmethod
    def _complete_rate_limits(cls, limits: dict[Endpoint, int]) -> dict[Endpoint, int]:
        """`OKTA_SIM_RATE_LIMITS='{"listUsers": 5}'` changes one limit and keeps the others."""
        return {**DEFAULT_RATE_LIMITS, **limits}
