from __future__ import annotations

from onboarding_runtime.settings import KafkaSettings, ServiceSettings
from pydantic import Field, SecretStr, model_validator


class Settings(ServiceSettings, KafkaSettings):
    ingest_port: int = Field(default=8000, ge=1, le=65535)
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None  # Standard Webhooks `whsec_...`, comma-separated

    @model_validator(mode="after")
    def _require_auth_in_production(self) -> Settings:
        if self.environment == "production" and not (self.api_key or self.webhook_secret):
            raise ValueError("in production set API_KEY or WEBHOOK_SECRET")
        return self
