"""The erasure log: which employees were erased, and when, with no PII in clear.

`erasures.v1` is compacted and never deletes: its key is a keyed HMAC pseudonym of the
employee id (`onboarding_runtime.pii.Pseudonymizer` with `PII_HASH_KEY`), its value an
`EmployeeErased`. Anything that re-publishes old events (replay, redrive, rebuild) reads it
first and skips an erased employee's events whose time is not after `erased_at`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

ERASURES_TOPIC = "erasures.v1"


class EmployeeErased(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    erased_at: AwareDatetime

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> EmployeeErased:
        return cls.model_validate_json(raw)

    def covers(self, event_time: datetime) -> bool:
        """An event from before (or at) the erasure belongs to the erased person."""
        return event_time <= self.erased_at
