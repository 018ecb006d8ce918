"""Headers operations add to the HR events they send again.

A replayed copy carries `onboarding-replay: <replay id>` and a redriven one
`onboarding-redrive: <n>` (its n-th redrive). The value itself is never changed: the same
CloudEvent id and time, so the view orders the copy exactly like the original.
"""

from __future__ import annotations

from collections.abc import Iterable

REPLAY_HEADER = "onboarding-replay"
REDRIVE_HEADER = "onboarding-redrive"
MARKERS = frozenset({REPLAY_HEADER, REDRIVE_HEADER})


def with_marker(
    headers: Iterable[tuple[str, bytes]], name: str, value: str, *, drop: frozenset[str] = MARKERS
) -> list[tuple[str, bytes]]:
    """The headers without any older marker or `drop`ped name, plus this marker."""
    kept = [(k, bytes(v)) for k, v in headers if k not in drop and k not in MARKERS]
    return [*kept, (name, value.encode())]
