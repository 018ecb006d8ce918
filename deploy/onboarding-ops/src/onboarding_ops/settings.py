"""The same variables the services read (`KAFKA_BOOTSTRAP_SERVERS`, `MONGODB_URL`,
`PII_HASH_KEY`, `LOG_FORMAT`, ...), so the tool works against any deployment."""

from __future__ import annotations

from onboarding_runtime.settings import KafkaSettings, MongoSettings, ServiceSettings
from pydantic import Field


class Settings(ServiceSettings, KafkaSettings, MongoSettings):
    # How long to wait for the broker or the database before giving up with a clear message.
    ops_connect_timeout_s: float = Field(default=10.0, gt=0)
    # Topics are created with this many replicas (1 for the local single-broker stack).
    kafka_replication_factor: int = Field(default=1, ge=1)
    # The services follow a flipped view pointer within this many seconds (query-service's
    # VIEW_POINTER_TTL_S); a rebuild waits that long before dropping the old collection.
    view_pointer_ttl_s: float = Field(default=2.0, gt=0)
