"""`erase <employee_id>`: the person leaves the view, the status view and the enriched topic.

Order matters for a run cut short: the erasure is written to the erasure log first (so from
then on no replay, redrive or rebuild brings the person back), then the tombstone goes to
`users.enriched.v1` (subscribers drop them; compaction removes the older records), then the
view documents are deleted. Every step is idempotent: running `erase` again finishes it.

Between the erasure record and the tombstone, `erase` waits out the publish fence: enrich
reads the erasure log to its end right before each publish, so a publish that did not see
this erasure was handed to the producer before the record was written, and lands (or
fails) within enrich's `KAFKA_PUBLISH_TIMEOUT_S`. Waiting that long (plus a second) puts
the tombstone after every enriched record of an event accepted before the erasure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from onboarding_ops.arguments import check_employee_id
from onboarding_ops.bootstrap import Kafka, Ops
from onboarding_ops.erasure_log import ErasureLog, record_erasure
from onboarding_ops.errors import BadArgument
from onboarding_ops.view import View

# On the tombstone: when the erasure happened, so a projector can refuse older events.
ERASED_AT_HEADER = "onboarding-erased-at"
PUBLISH_FENCE_MARGIN_S = 1.0


@dataclass(frozen=True)
class EraseSummary:
    pseudonym: str
    erased_at: datetime
    already_erased_at: datetime | None


async def erase(
    ops: Ops, kafka: Kafka, view: View, erasures: ErasureLog, employee_id: str, *, force: bool
) -> EraseSummary:
    check_employee_id(employee_id)
    earlier = erasures.erased_at(employee_id)
    if not force and earlier is None and not await view.knows(employee_id):
        raise BadArgument(
            f"unknown employee {employee_id}: not in the view or the status view "
            "(use --force to erase whatever Kafka may still hold)"
        )
    now = datetime.now(UTC)
    await record_erasure(kafka.producer, ops.topics.erasures, ops.pseudonym, employee_id, now)
    await ops.sleep(ops.settings.kafka_publish_timeout_s + PUBLISH_FENCE_MARGIN_S)
    await kafka.producer.publish(
        ops.topics.enriched,
        key=employee_id,
        value=None,
        headers=[(ERASED_AT_HEADER, now.isoformat().encode())],
    )
    await view.erase(employee_id)
    return EraseSummary(ops.pseudonym(employee_id), now, earlier)
