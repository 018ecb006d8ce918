from __future__ import annotations

from onboarding_runtime.settings import KafkaSettings, ServiceSettings
from pydantic import Field, SecretStr


class Settings(ServiceSettings, KafkaSettings):
    enrich_port: int = Field(default=8002, ge=1, le=65535)
    okta_org_url: str = "http://127.0.0.1:8010"
    okta_api_token: SecretStr = SecretStr("okta-simulator-token")
    okta_timeout_s: float = Field(default=10.0, gt=0)
    enrich_group_id: str = "enrich-service"
    # Employees enriched at the same time; each calls Okta up to three times at once.
    enrich_concurrency: int = Field(default=16, ge=1, le=256)
