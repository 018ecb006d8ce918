"""The same variables the services read (`KAFKA_BOOTSTRAP_SERVERS`, `MONGODB_URL`,
`PII_HASH_KEY`, `LOG_FORMAT`, ...), so the tool works against any deployment."""

from __future__ import annotations

from onboarding_runtime.settings import (
    KafkaSettings,
    MongoSettings,
    ServiceSettings,
    secret_items,
)
from onboarding_runtime.webhook_signatures import SigningSecret, parse_secrets
from pydantic import Field, HttpUrl, SecretStr, model_validator

from onboarding_ops.topics import Durability


class Settings(ServiceSettings, KafkaSettings, MongoSettings):
    # How long to wait for the broker, the database or ingest-service (`import`) before
    # giving up with a clear message.
    ops_connect_timeout_s: float = Field(default=10.0, gt=0)
    # Topics have this many replicas (1 for the local single-broker stack, 3 in production).
    kafka_replication_factor: int = Field(default=1, ge=1)
    # A write counts once this many replicas hold it (topic config min.insync.replicas;
    # 1 locally, 2 in production: one broker may be down and nothing acknowledged is lost).
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    # The services follow a flipped view pointer within this many seconds (query-service's
    # VIEW_POINTER_TTL_S); a rebuild waits that long before dropping the old collection.
    view_pointer_ttl_s: float = Field(default=2.0, gt=0)
    # The query projector's consumer group (query-service's QUERY_GROUP_ID): before dropping
    # the old collection a rebuild waits until it has committed past the enriched topic's end.
    query_group_id: str = "query-service"
    # How long a rebuild waits for that at most; longer, and it keeps the old collection and
    # fails (run it again once the projector is moving).
    rebuild_projector_wait_s: float = Field(default=120.0, gt=0)
    # Where `import` posts its batches: ingest-service's address (its INGEST_PORT locally).
    ingest_url: HttpUrl = HttpUrl("http://localhost:8000")
    # ingest-service's own credentials, as it reads them: `import` sends the first key as
    # X-API-Key and signs each batch with every secret (Standard Webhooks `whsec_...`).
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None

    @property
    def durability(self) -> Durability:
        return Durability(self.kafka_replication_factor, self.kafka_min_insync_replicas)

    @property
    def import_api_key(self) -> str | None:
        """The key `import` sends: the first of API_KEY's (comma-separated to rotate)."""
        keys = secret_items(self.api_key)
        return keys[0] if keys else None

    def import_signing_keys(self) -> list[SigningSecret]:
        if self.webhook_secret is None:
            return []
        return parse_secrets(self.webhook_secret.get_secret_value())

    @model_validator(mode="after")
    def _secrets_are_well_formed(self) -> Settings:
        self.import_signing_keys()  # raises ValueError naming WEBHOOK_SECRET, never its value
        return self

    @model_validator(mode="after")
    def _replicated_in_production(self) -> Settings:
        """One copy of a topic is one disk from losing what the services acknowledged: in
        production `topics` (and every command that creates a topic) refuses it."""
        if self.production and self.kafka_replication_factor < 2:
            raise ValueError(
                f"KAFKA_REPLICATION_FACTOR is {self.kafka_replication_factor} in production: "
                "a broker lost would lose acknowledged events; set 3 (with "
                "KAFKA_MIN_INSYNC_REPLICAS=2)"
            )
        return self

    @model_validator(mode="after")
    def _min_insync_within_replicas(self) -> Settings:
        """More in-sync replicas than replicas can never be reached: the topics would refuse
        every write of the services' producers (`acks=all`)."""
        isr, replicas = self.kafka_min_insync_replicas, self.kafka_replication_factor
        if isr > replicas:
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS ({isr}) is greater than KAFKA_REPLICATION_FACTOR "
                f"({replicas}): no write could ever be acknowledged"
            )
        return self
