"""The HR events this process lately handled for good: the backstop that keeps one event
written twice to `hr.users.v1` from being enriched twice.

Ingest gives a re-delivered webhook the same CloudEvent id and almost always writes it
once, but two narrow races (two replicas taking the same delivery at once; a publish that
timed out yet was written, then retried) can leave two records of one event, on the same
key and so in the same lane here, perhaps with different `time`s. The contract says a
repeated delivery causes no second enrichment: the later record is skipped, committed and
counted. A copy an operator sends again on purpose (replay, redrive) carries a marker
header and is enriched again: that is what those commands are for.

An event counts as handled only once its outcome is final: enriched (or skipped as erased),
or dead-lettered. One that failed and waits for a retry is not, so its duplicate behind it
still gets its turn if the first gives way to it (the runner's supersede rule).

Memory, not storage: the last `capacity` events (an LRU), forgotten on restart. The
records a restart reads again were not committed and are enriched again, as before this
backstop; that is harmless (same content, and the read model's `(time, hroffset)` guard).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from onboarding_events import REDRIVE_HEADER, REPLAY_HEADER, HrUserUpserted
from onboarding_runtime.kafka import DeadLetter, Failure, PermanentError, Record
from onboarding_runtime.pii import Pseudonymizer
from prometheus_client import Counter

from enrich_service.records import decode

log = logging.getLogger(__name__)

DUPLICATES_SKIPPED = Counter(
    "onboarding_enrich_duplicates_skipped_total",
    "HR events not enriched because this process already handled the same event (same id)",
)
SENT_AGAIN = frozenset({REPLAY_HEADER, REDRIVE_HEADER})
V = TypeVar("V")


def sent_again(headers: Iterable[tuple[str, bytes]]) -> bool:
    """Whether an operator sent this record again on purpose (replay or redrive)."""
    return any(name in SENT_AGAIN for name, _ in headers)


def _key(event: HrUserUpserted) -> bytes:
    return _identity(event.source, event.id, event.subject)


def _identity(source: str, event_id: str, subject: str) -> bytes:
    # CloudEvents identify an event by (source, id); the subject too, so an id reused by
    # mistake for another employee can never suppress that employee's enrichment. A 16-byte
    # digest rather than the strings: 100,000 entries take ~15 MB instead of ~30 MB.
    identity = "\x00".join((source, event_id, subject)).encode()
    return hashlib.blake2b(identity, digest_size=16).digest()


def _stamp(record: Record) -> tuple[bytes, datetime] | None:
    """A record's event identity and `time`, read without the whole model (None: unreadable,
    which supersedes nothing and is superseded by nothing)."""
    try:
        envelope = json.loads(record.value or b"")
        time = datetime.fromisoformat(envelope["time"])
        identity = _identity(envelope["source"], envelope["id"], envelope["subject"])
    except Exception:  # not JSON, too deep, no object, a field missing or of the wrong type
        return None
    return (identity, time) if time.tzinfo is not None else None


class RecentEvents:
    """Which HR events were handled for good, the least recently seen forgotten first."""

    def __init__(self, capacity: int, pseudonymize: Pseudonymizer) -> None:
        self._capacity = capacity  # 0 turns the backstop off
        self._pseudonymize = pseudonymize
        self._handled: OrderedDict[bytes, None] = OrderedDict()
        # Events whose publish failed (timed out, cancelled) before any outcome was final:
        # that publish may still land, so a copy must look at the topic first.
        self._unsure: OrderedDict[bytes, None] = OrderedDict()
        # The time of the first record of each event seen here: a second
        # record of a delivery that another ingest replica wrote again carries a later
        # `time`, and ordered by that it would pass for newer than the employee's next
        # version (superseding it, or published over it).
        self._first: OrderedDict[bytes, datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._handled)

    def handled(self, event: HrUserUpserted) -> None:
        """Remember `event`: only once its outcome is final, never before a retry."""
        if self._capacity == 0:
            return
        key = _key(event)
        _remember(self._handled, key, None, self._capacity)
        self._unsure.pop(key, None)

    def publish_failed(self, event: HrUserUpserted) -> None:
        """Publishing `event`'s enriched state failed; it may have been written regardless."""
        if self._capacity == 0:
            return
        _remember(self._unsure, _key(event), None, self._capacity)

    def unsure(self, event: HrUserUpserted) -> bool:
        """A publish of `event` failed here and nothing final came of it since."""
        return bool(self._unsure) and _key(event) in self._unsure

    def first_time(self, event: HrUserUpserted) -> datetime:
        """The `time` of the first record of `event` seen here, in offset order (this one's,
        if it is the first): the event's time from then on, whatever later records of it
        carry, so its published version does not move."""
        return self._first_time(_key(event), event.time)

    def _first_time(self, key: bytes, time: datetime) -> datetime:
        if self._capacity == 0:
            return time
        known = self._first.get(key, time)
        _remember(self._first, key, known, self._capacity)
        return known

    def supersedes(self, newer: Record, older: Record) -> bool:
        """An HR event carries the employee's whole record: a later one at least as recent
        (by the first `time` a record of each event carried) makes enriching an earlier one
        pointless, and a second record of an older event stamped later does not make the
        employee's newer event obsolete. A replayed older event (earlier `time`, later
        offset) does not either: it waits its turn, and the read model's (time, hroffset)
        guard keeps the newer state. A second record of the *same* event supersedes nothing:
        it waits for the first, whose outcome then covers it (it is skipped), so the first is
        never counted finished, and committed past, before its event is handled. Total: an
        unreadable record's time is unknown, and an unknown time supersedes nothing and is
        superseded by nothing."""
        new, old = _stamp(newer), _stamp(older)
        if new is None or old is None:
            return False
        old_time = self._first_time(*old)  # the older first: it may be the first of `newer`
        new_time = self._first_time(*new)
        return new[0] != old[0] and new_time >= old_time

    def learn(self, values: Iterable[bytes | None]) -> int:
        """HR records just before where this member starts in a partition it was given:
        the previous owner's outcomes for them are final (enriched, skipped, superseded or
        dead-lettered), so a plain copy of one of them further on is skipped here too, as it
        would have been there. How many events that was (unreadable records count none)."""
        learned = 0
        for value in values:
            try:
                event = HrUserUpserted.from_json(value or b"")
            except Exception:  # unreadable: it has no id to remember (and was dead-lettered)
                continue
            self.handled(event)
            self.first_time(event)
            learned += 1
        return learned

    def superseded(self, obsolete: Record, newer: Record) -> None:
        """A newer event of the employee made `obsolete` pointless: its outcome is final (a
        copy of it written later, e.g. a late re-delivery another ingest replica wrote again
        with a later time, must not bring the older state back). (A copy of the same event
        never supersedes it: `supersedes`.)"""
        with contextlib.suppress(PermanentError):
            old = decode(obsolete)
            if decode(newer).id != old.id:
                self.handled(old)

    def skip(self, event: HrUserUpserted, *, sent_again: bool, hr_offset: int) -> bool:
        """True (counted, logged) when `event` was handled already and is not sent again."""
        key = _key(event)
        if sent_again or key not in self._handled:
            return False
        self._handled.move_to_end(key)
        DUPLICATES_SKIPPED.inc()
        log.info(
            "duplicate HR event skipped",
            extra={
                "event_id": event.id,
                "employee": self._pseudonymize(event.subject),
                "hr_offset": hr_offset,
            },
        )
        return True


def _remember(memory: OrderedDict[bytes, V], key: bytes, value: V, capacity: int) -> None:
    """`memory[key] = value` as the most recent entry; the least recent go past `capacity`."""
    memory[key] = value
    memory.move_to_end(key)
    if len(memory) > capacity:
        memory.popitem(last=False)


def remembering(dead_letter: DeadLetter, recent: RecentEvents) -> DeadLetter:
    """`dead_letter`, and the event counts as handled once its dead letter is written: a
    duplicate behind it would only fail the same way."""

    async def send(record: Record, failure: Failure) -> None:
        await dead_letter(record, failure)
        # An invalid event has no id to remember; its copy is dead-lettered again.
        with contextlib.suppress(PermanentError):
            recent.handled(decode(record))

    return send
