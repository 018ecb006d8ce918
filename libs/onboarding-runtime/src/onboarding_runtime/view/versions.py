"""The version of a view document: the place of its source HR event, as a sortable string.

Per employee the order is (HR event time, offset on `hr.users.v1`). A replay re-publishes
the same event (same time) at a new offset, so a replay of the newest event sorts after it
(and updates the view: Okta data may have changed) while a replay of an older one still
sorts before the newest (and changes nothing). Strings compare the same way on every
MongoDB-compatible server, unlike a compound of two numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime


def version_of(time: datetime, hr_offset: int) -> str:
    micros = int(time.astimezone(UTC).timestamp() * 1_000_000)
    return f"{max(micros, 0):020d}.{max(hr_offset, 0):020d}"


def time_of(version: str) -> datetime:
    """The HR event time a version was made from."""
    micros = int(version.partition(".")[0])
    return datetime.fromtimestamp(micros / 1_000_000, UTC)
