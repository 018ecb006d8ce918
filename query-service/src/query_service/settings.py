from __future__ import annotations

from onboarding_runtime.settings import (
    KafkaSettings,
    MongoSettings,
    ServiceSettings,
    blank,
    secret_items,
)
from pydantic import Field, SecretStr, model_validator


class Settings(ServiceSettings, KafkaSettings, MongoSettings):
    query_port: int = Field(default=8001, ge=1, le=65535)
    read_api_key: SecretStr | None = None
    query_group_id: str = "query-service"
    # Records per poll: bigger batches mean fewer, larger bulk writes while catching up.
    projector_max_batch: int = Field(default=2000, ge=1)
    # How stale the "which users collection is live" pointer may be (a rebuild flips it).
    view_pointer_ttl_s: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _require_read_key_in_production(self) -> Settings:
        if self.production and blank(self.read_api_key):
            raise ValueError("in production set READ_API_KEY (a non-blank key)")
        return self

    def read_keys(self) -> list[str]:
        """`READ_API_KEY`, comma-separated so a key can be rotated without downtime."""
        return secret_items(self.read_api_key)
