"""Settings pieces every service composes into its one `Settings` class.

Each service reads its settings once, in `__main__`, and passes them down; nothing here
reads the environment at import time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Only good for development: production must set PII_HASH_KEY (see `require_production_key`).
DEVELOPMENT_PII_KEY = "development-only-pii-key"


class ServiceSettings(BaseSettings):
    """What every service has: environment, logging, PII hashing, the HTTP bind address."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None, frozen=True)

    environment: Environment = "development"
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    pii_hash_key: SecretStr = SecretStr(DEVELOPMENT_PII_KEY)
    host: str = "127.0.0.1"

    @model_validator(mode="after")
    def _require_production_key(self) -> ServiceSettings:
        if (
            self.environment == "production"
            and self.pii_hash_key.get_secret_value() == DEVELOPMENT_PII_KEY
        ):
            raise ValueError("PII_HASH_KEY must be set in production")
        return self


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "localhost:9092"
    # How long a publish may wait for the broker before the caller gives up.
    kafka_publish_timeout_s: float = Field(default=5.0, gt=0)


class MongoSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    mongodb_url: str = "mongodb://localhost:27017/onboarding"
