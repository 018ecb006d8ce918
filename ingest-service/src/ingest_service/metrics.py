"""The ingest service's own Prometheus metrics, beside the runtime's."""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter, Histogram

WEBHOOKS = Counter("ingest_webhooks_total", "Webhook requests by answer", ["status"])
BATCH_RECORDS = Counter(
    "ingest_batch_records_total", "Records of batch webhooks by their own answer", ["status"]
)
DUPLICATES = Counter(
    "ingest_duplicate_deliveries_total", "Re-deliveries answered from an earlier one"
)
DEDUPE_EVICTED = Counter(
    "ingest_dedupe_evicted_total",
    "Delivery ids forgotten before their retention ended, to keep the index bounded",
)
ACCEPT_SECONDS = Histogram(
    "ingest_accept_seconds",
    "From a valid request to the broker's acknowledgement",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@cache
def webhooks_answered(status: int) -> Counter:
    """The child counter of one status, looked up once (`labels` is costly per request)."""
    return WEBHOOKS.labels(str(status))


@cache
def batch_records_answered(status: int) -> Counter:
    return BATCH_RECORDS.labels(str(status))
