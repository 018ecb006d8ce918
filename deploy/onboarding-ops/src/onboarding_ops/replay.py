"""`replay --since`: every HR event since then goes through enrichment again.

Kafka refuses to move an active group's offsets, so the events are re-published instead:
read `hr.users.v1` from the offsets for `since` up to the end offsets taken at the start,
and send each value unchanged (same CloudEvent id and time, same key) with a replay marker.
The enrich service treats the copy like any HR event; the view orders by (event time, HR
offset), so a copy of an old event never overwrites newer state and a copy of the newest
refreshes it. Copies from earlier replays are skipped, so replays never compound, and so
are erased employees' events and the copies enrich-service writes back when a waiting HR
record comes due (retry headers, `onboarding_events.waiting`): the same HR record, not an
event of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from aiokafka import ConsumerRecord
from onboarding_events.waiting import WAITING_HEADERS

from onboarding_ops.bootstrap import Kafka, Ops
from onboarding_ops.envelope import read_envelope
from onboarding_ops.erasure_log import ErasureLog
from onboarding_ops.markers import REPLAY_HEADER, with_marker
from onboarding_ops.progress import Tracker
from onboarding_ops.republish import Republisher


@dataclass
class ReplaySummary:
    replay_id: str
    scanned: int = 0
    republished: int = 0
    skipped_copies: int = 0  # already a replay copy
    skipped_duplicates: int = 0  # the same event seen earlier in this range (e.g. redriven)
    skipped_erased: int = 0
    unreadable: int = 0


async def replay(
    ops: Ops, kafka: Kafka, erasures: ErasureLog, since: datetime | None, tracker: Tracker
) -> ReplaySummary:
    summary = ReplaySummary(replay_id=uuid.uuid4().hex[:12])
    scan = await kafka.reader.plan(ops.topics.hr, since)
    tracker.begin(f"replaying {ops.topics.hr}", scan.total)
    seen: set[str] = set()
    async with Republisher(kafka.producer, ops.topics.hr) as out:
        async for record in kafka.reader.read(scan):
            tracker.advance()
            summary.scanned += 1
            verdict = _classify(record, erasures, seen)
            if verdict == "copy":
                summary.skipped_copies += 1
            elif verdict == "duplicate":
                summary.skipped_duplicates += 1
            elif verdict == "erased":
                summary.skipped_erased += 1
            elif verdict == "unreadable":
                summary.unreadable += 1
            else:
                headers = with_marker(record.headers, REPLAY_HEADER, summary.replay_id)
                await out.send(record.key, record.value, headers)
                summary.republished += 1
    return summary


def _classify(record: ConsumerRecord[bytes, bytes], erasures: ErasureLog, seen: set[str]) -> str:
    if any(name == REPLAY_HEADER or name in WAITING_HEADERS for name, _ in record.headers):
        return "copy"
    envelope = read_envelope(record.value)
    if envelope is None or record.key is None:
        return "unreadable"  # it failed enrichment the first time and would again
    if erasures.covers(record.key.decode(), envelope.time):
        return "erased"
    if envelope.id in seen:
        return "duplicate"
    seen.add(envelope.id)
    return "send"
