"""HR events that wait: the retry tiers `hr.users.v1.retry.1` to `.5`.

A person not in Okta yet (a pre-hire, weeks before their start; an account created late) is
not a failure and must not block their partition of `hr.users.v1`: enrich-service writes the
HR record again, unchanged (key, value, headers), to the next retry tier with the headers
below, and commits past it. Tier `n` waits `ENRICH_RETRY_DELAYS_S[n-1]` seconds (by default
10 s, 1 min, 10 min, 1 h, 1 day); after the last tier, the last one again. The record comes
due at `onboarding-due-at`, is looked up again, and then is enriched, waits on the next
tier, or, past `onboarding-wait-until`, is dead-lettered.

The version of a waiting record is its HR record's (`onboarding-hr-source`), so a newer HR
event of the same employee supersedes it: the older one is dropped when it comes due.

A person enriched before their Okta account is active (`onboarded` false: `STAGED`,
`PROVISIONED`), with a start date, waits on the same tiers as `activation` until that date
plus a grace period: once the account is active, the HR record is written to `hr.users.v1`
again (marked `onboarding-replay: activation`) and enriched again, so `onboarded` turns
true. Past that time, nothing more is done (the user stays as published).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from onboarding_events.hr import HR_USERS_TOPIC

RETRY_TIERS = 5
RETRY_TOPICS: tuple[str, ...] = tuple(f"{HR_USERS_TOPIC}.retry.{n}" for n in range(1, 6))

# Header names on every record of a retry tier (times: Unix milliseconds, ASCII digits).
DUE_AT = "onboarding-due-at"  # when it is looked up again
TIER = "onboarding-retry-tier"  # 1..5
FIRST_ATTEMPT = "onboarding-first-attempt-at"  # when the HR record was first handled
WAIT_UNTIL = "onboarding-wait-until"  # after this, not found is a failure (dead letter)
HR_SOURCE = "onboarding-hr-source"  # topic/partition/offset of the HR record: its version
# Why: `pending` (not in Okta yet), `scheduled` (not in Okta yet, start date ahead), or
# `activation` (enriched, the account not active yet: looked up until it is, see below).
WAITING = "onboarding-waiting"
LOOKUPS = "onboarding-lookups"  # how many times the person was looked up so far
WAITING_HEADERS = frozenset({DUE_AT, TIER, FIRST_ATTEMPT, WAIT_UNTIL, HR_SOURCE, WAITING, LOOKUPS})

# The `onboarding-replay` value of an HR record written again once its account is active.
ACTIVATION_REPLAY = b"activation"

Reason = Literal["pending", "scheduled", "activation"]
REASONS: tuple[Reason, ...] = ("pending", "scheduled", "activation")


def _ms(moment: datetime) -> bytes:
    return str(int(moment.timestamp() * 1000)).encode()


def _moment(value: bytes) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


@dataclass(frozen=True)
class Waiting:
    """Where a waiting HR record stands: what its retry-tier headers say."""

    tier: int
    due_at: datetime
    first_attempt_at: datetime
    wait_until: datetime
    hr_topic: str
    hr_partition: int
    hr_offset: int
    reason: Reason
    lookups: int = 1

    @property
    def topic(self) -> str:
        return RETRY_TOPICS[self.tier - 1]

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            (DUE_AT, _ms(self.due_at)),
            (TIER, str(self.tier).encode()),
            (FIRST_ATTEMPT, _ms(self.first_attempt_at)),
            (WAIT_UNTIL, _ms(self.wait_until)),
            (HR_SOURCE, f"{self.hr_topic}/{self.hr_partition}/{self.hr_offset}".encode()),
            (WAITING, self.reason.encode()),
            (LOOKUPS, str(self.lookups).encode()),
        ]

    @classmethod
    def of(cls, headers: Iterable[tuple[str, bytes]]) -> Waiting | None:
        """The retry-tier headers of a record; None if it has none. Raises `ValueError` if
        they are there but unreadable (a record no one of ours wrote)."""
        found = {name: bytes(value or b"") for name, value in headers if name in WAITING_HEADERS}
        if not found:
            return None
        try:
            topic, partition, offset = found[HR_SOURCE].decode().rsplit("/", 2)
            reason = next(r for r in REASONS if r == found[WAITING].decode())
            tier = int(found[TIER])
            if not 1 <= tier <= RETRY_TIERS:
                raise ValueError("no such tier")
            return cls(
                tier=tier,
                due_at=_moment(found[DUE_AT]),
                first_attempt_at=_moment(found[FIRST_ATTEMPT]),
                wait_until=_moment(found[WAIT_UNTIL]),
                hr_topic=topic,
                hr_partition=int(partition),
                hr_offset=int(offset),
                reason=reason,
                lookups=int(found.get(LOOKUPS, b"1")),
            )
        except (KeyError, ValueError, OverflowError, OSError, StopIteration) as exc:
            raise ValueError(f"unreadable retry-tier headers: {type(exc).__name__}") from None


def without_waiting(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """`headers` less the retry-tier ones (a record written again on a tier gets new ones)."""
    return [(name, value) for name, value in headers if name not in WAITING_HEADERS]
