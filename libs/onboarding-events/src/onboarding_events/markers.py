"""Headers operations put on the HR events they send to `hr.users.v1` again.

A replayed copy carries `onboarding-replay: <replay id>` and a redriven one
`onboarding-redrive: <n>` (its n-th redrive). The value is never changed (same CloudEvent id
and time), so the header is the only thing that tells a copy sent again on purpose, which
is to be enriched again, from a record written twice by accident, which is not.
"""

from __future__ import annotations

REPLAY_HEADER = "onboarding-replay"
REDRIVE_HEADER = "onboarding-redrive"
