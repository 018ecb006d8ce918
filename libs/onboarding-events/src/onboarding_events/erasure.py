"""The erasure log: which employees were erased, and when, with no PII in clear.

`erasures.v1` is compacted and never deletes: its key is a keyed HMAC pseudonym of the
employee id, `p_` and the first 16 hex digits of HMAC-SHA256(`PII_HASH_KEY`, the id in
UTF-8) (`onboarding_runtime.pii.Pseudonymizer`), its value an `EmployeeErased`. Anything
that re-publishes old events (replay, redrive, rebuild) reads it first and skips an erased
employee's events whose time is not after `erased_at`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from onboarding_events.contract import ContractModel

ERASURES_TOPIC = "erasures.v1"


class EmployeeErased(ContractModel):
    """An employee was erased by `onboarding-ops erase`."""

    erased_at: AwareDatetime = Field(
        description="When the employee was erased: their events up to this time stay gone"
    )

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> EmployeeErased:
        return cls.model_validate_json(raw)

    def covers(self, event_time: datetime) -> bool:
        """An event from before (or at) the erasure belongs to the erased person."""
        return event_time <= self.erased_at
