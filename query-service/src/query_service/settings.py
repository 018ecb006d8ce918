from __future__ import annotations

from onboarding_runtime.settings import KafkaSettings, MongoSettings, ServiceSettings
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
        if self.environment == "production" and not self.read_api_key:
            raise ValueError("in production set READ_API_KEY")
        return self
