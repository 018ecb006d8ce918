"""Prometheus metrics shared by the runtime pieces; each service adds its own beside them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RECORDS_PROCESSED = Counter(
    "onboarding_records_processed_total", "Records handled successfully", ["consumer", "topic"]
)
RECORDS_RETRIED = Counter(
    "onboarding_records_retried_total",
    "Handler attempts that failed and were retried",
    ["consumer", "topic", "code"],
)
RECORDS_DEAD_LETTERED = Counter(
    "onboarding_records_dead_lettered_total",
    "Records sent to a dead-letter topic",
    ["consumer", "topic", "code"],
)
HANDLER_SECONDS = Histogram(
    "onboarding_handler_seconds", "Time spent handling one record", ["consumer", "topic"]
)
RECORDS_SKIPPED = Counter(
    "onboarding_records_skipped_total",
    "Records a consumer without a dead-letter topic could not read and went past "
    "(the read model's decoders: consumer `view`; topic followers: `follower`)",
    ["consumer", "topic", "reason"],
)
