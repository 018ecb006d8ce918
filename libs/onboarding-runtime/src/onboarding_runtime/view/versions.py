"""The version of a view document: the place of its source HR event, as a sortable string.

Per employee the order is (HR event time, offset on `hr.users.v1`). A replay re-publishes
the same event (same time) at a new offset, so a replay of the newest event sorts after it
(and updates the view: Okta data may have changed) while a replay of an older one still
sorts before the newest (and changes nothing). Strings compare the same way on every
MongoDB-compatible server, unlike a compound of two numbers.

A record waiting on a retry tier adds when it comes due (`waiting_version`): the next
tier's record of the same HR record sorts after it, and both still sort before any newer
HR event, since they differ from its version before the `#`.
"""

from __future__ import annotations

from datetime import UTC, datetime

WAITING_MARK = "#"


def version_of(time: datetime, hr_offset: int) -> str:
    micros = int(time.astimezone(UTC).timestamp() * 1_000_000)
    return f"{max(micros, 0):020d}.{max(hr_offset, 0):020d}"


def waiting_version(time: datetime, hr_offset: int, due_at: datetime) -> str:
    """The HR record's version, then its due time: what each tier's record of it waits for
    comes later, so VersionedWriter takes it (it writes strictly newer versions only)."""
    due_ms = int(due_at.astimezone(UTC).timestamp() * 1000)
    return f"{version_of(time, hr_offset)}{WAITING_MARK}{max(due_ms, 0):020d}"


def hr_version(version: str) -> str:
    """The version of the HR record a version was made from (a waiting one's, less its due
    time): what the status view's documents of one HR event have in common."""
    return version.partition(WAITING_MARK)[0]


def time_of(version: str) -> datetime:
    """The HR event time a version was made from."""
    micros = int(version.partition(".")[0])
    return datetime.fromtimestamp(micros / 1_000_000, UTC)
