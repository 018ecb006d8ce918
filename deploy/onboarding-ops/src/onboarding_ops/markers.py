"""Headers operations add to the HR events they send again.

A replayed copy carries `onboarding-replay: <replay id>` and a redriven one
`onboarding-redrive: <n>` (its n-th redrive). The value itself is never changed: the same
CloudEvent id and time, so the view orders the copy exactly like the original. The names
belong to the event contract (`onboarding_events.markers`): enrich-service reads them to
enrich such a copy again rather than skip it as a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable

from onboarding_events import REDRIVE_HEADER, REPLAY_HEADER

__all__ = ["MARKERS", "REDRIVE_HEADER", "REPLAY_HEADER", "with_marker"]

MARKERS = frozenset({REPLAY_HEADER, REDRIVE_HEADER})


def with_marker(
    headers: Iterable[tuple[str, bytes]], name: str, value: str, *, drop: frozenset[str] = MARKERS
) -> list[tuple[str, bytes]]:
    """The headers without any older marker or `drop`ped name, plus this marker."""
    kept = [(k, bytes(v)) for k, v in headers if k not in drop and k not in MARKERS]
    return [*kept, (name, value.encode())]
