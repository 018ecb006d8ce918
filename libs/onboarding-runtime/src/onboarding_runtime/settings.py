"""Settings pieces every service composes into its one `Settings` class.

Each service reads its settings once, in `__main__` (through `load_settings`), and passes
them down; nothing here reads the environment at import time.

Secrets fail closed: a secret setting is a comma-separated list (so it can be rotated), and
one that is set but holds nothing once blanks and separators are dropped (`API_KEY=", "`)
counts as unset; in production that refuses to start, naming the setting.
"""

from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Only good for development: production must set PII_HASH_KEY (see `_require_pii_key`).
DEVELOPMENT_PII_KEY = "development-only-pii-key"

S = TypeVar("S", bound=BaseSettings)


def secret_items(value: SecretStr | None) -> list[str]:
    """The values a secret setting holds: comma-separated, stripped, blanks dropped."""
    if value is None:
        return []
    return [item.strip() for item in value.get_secret_value().split(",") if item.strip()]


def blank(value: SecretStr | None) -> bool:
    """Unset, or set to nothing but blanks and separators."""
    return not secret_items(value)


class ServiceSettings(BaseSettings):
    """What every service has: environment, logging, PII hashing, the HTTP bind address."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None, frozen=True)

    environment: Environment = "development"
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    pii_hash_key: SecretStr = SecretStr(DEVELOPMENT_PII_KEY)
    host: str = "127.0.0.1"

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @model_validator(mode="after")
    def _require_pii_key(self) -> ServiceSettings:
        key = self.pii_hash_key.get_secret_value()
        if self.production and (not key.strip() or key == DEVELOPMENT_PII_KEY):
            raise ValueError("PII_HASH_KEY must be set in production (a non-blank key)")
        return self


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = "localhost:9092"
    # How long a publish may wait for the broker before the caller gives up.
    kafka_publish_timeout_s: float = Field(default=5.0, gt=0)


class MongoSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    mongodb_url: str = "mongodb://localhost:27017/onboarding"


def settings_errors(exc: ValidationError) -> list[str]:
    """One line per problem, naming the setting and never echoing its value (pydantic's own
    text quotes the input, which may hold a secret)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        name = "_".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if name else message)
    return lines


def load_settings(cls: type[S], service: str) -> S:
    """Read the settings once at start; on bad settings, say which and exit with status 2."""
    try:
        return cls()
    except ValidationError as exc:
        for line in settings_errors(exc):
            print(f"{service}: refusing to start: {line}", file=sys.stderr)
        raise SystemExit(2) from None
