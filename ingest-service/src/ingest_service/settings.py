"""The ingest service's one `Settings`, read once in `__main__` and validated at start."""

from __future__ import annotations

from onboarding_events import HR_USERS_TOPIC
from onboarding_runtime.settings import KafkaSettings, ServiceSettings, blank, secret_items
from onboarding_runtime.webhook_signatures import SigningSecret, parse_secrets
from pydantic import Field, SecretStr, field_validator, model_validator

from ingest_service.intake import MAX_BATCH_RECORDS


class Settings(ServiceSettings, KafkaSettings):
    ingest_port: int = Field(default=8000, ge=1, le=65535)
    # Processes serving the port (one per core is the usual choice in production): each
    # has its own producer, delivery index and rate-limit buckets.
    ingest_workers: int = Field(default=1, ge=1, le=64)
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None  # Standard Webhooks `whsec_...`, comma-separated
    # `kafka_publish_timeout_s` (KafkaSettings) is how long a request waits for the broker's
    # acknowledgement before it answers 503; the publish itself goes on in the background
    # for up to this long, so a retry of the same delivery can pick up its outcome instead
    # of writing the event twice.
    kafka_delivery_timeout_s: float = Field(default=30.0, gt=0)
    # How long an accepted record waits for others to share a produce request: fewer,
    # larger requests under load (each costs system calls on both sides) for a few ms.
    kafka_linger_ms: int = Field(default=5, ge=0, le=100)
    retry_after_s: int = Field(default=5, ge=1)
    # Per sender (API key, or client address without one), in-memory in each process, in
    # records: a batch takes one token per record, so the burst must hold a whole batch.
    rate_limit_per_s: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = MAX_BATCH_RECORDS
    # How long a delivery id (`webhook-id` / `Idempotency-Key`) is remembered: longer than
    # the sender's retry schedule (Standard Webhooks senders retry for about a day). The
    # HR topic keeps 30 days, so the whole window is always there to rebuild from.
    idempotency_retention_s: int = Field(default=72 * 3600, ge=60, le=30 * 24 * 3600)
    # At most this many delivery ids in memory (about 200 bytes each); beyond it the
    # oldest are forgotten before their time.
    idempotency_max_entries: int = Field(default=1_000_000, ge=1000)
    # Where accepted events go (and where the delivery index is rebuilt from); only tests
    # and side-by-side stacks change it.
    hr_topic: str = Field(default=HR_USERS_TOPIC, min_length=1)

    @model_validator(mode="after")
    def _secrets_are_well_formed(self) -> Settings:
        self.signing_secrets()  # raises ValueError on a secret that is not base64
        return self

    @field_validator("rate_limit_burst")
    @classmethod
    def _burst_holds_a_batch(cls, burst: int) -> int:
        if burst < MAX_BATCH_RECORDS:
            raise ValueError(
                f"must be at least {MAX_BATCH_RECORDS}: a batch takes one token per record, "
                "and a smaller burst would refuse every full batch forever"
            )
        return burst

    @model_validator(mode="after")
    def _require_auth_in_production(self) -> Settings:
        """Fail closed: what the authenticator would use, not the raw setting, decides."""
        if not self.production:
            return self
        for name, value in (("API_KEY", self.api_key), ("WEBHOOK_SECRET", self.webhook_secret)):
            if value is not None and blank(value):
                raise ValueError(f"{name} is set but holds no key (only blanks or commas)")
        if not (self.api_keys() or self.signing_secrets()):
            raise ValueError("in production set API_KEY or WEBHOOK_SECRET")
        return self

    def api_keys(self) -> list[str]:
        """`API_KEY`, comma-separated so a key can be rotated without downtime."""
        return secret_items(self.api_key)

    def signing_secrets(self) -> list[SigningSecret]:
        if self.webhook_secret is None:
            return []
        return parse_secrets(self.webhook_secret.get_secret_value())
