"""The redrive log: which dead letters `onboarding-ops dlq redrive` sent back already.

`hr.users.v1.dlq.redrives` holds one record per dead letter sent back to `hr.users.v1`:
its key is the dead letter's place on `hr.users.v1.dlq` (`<partition>/<offset>`, so
nothing personal), its value a `DeadLetterRedriven` (`content-type: application/json`).
A later `redrive` skips the dead letters whose key is there. Kept as long as the dead
letters themselves.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from onboarding_events.contract import ContractModel

REDRIVES_TOPIC = "hr.users.v1.dlq.redrives"


def redrive_key(partition: int, offset: int) -> str:
    """The redrive log's key for the dead letter at `offset` in `partition`."""
    return f"{partition}/{offset}"


class DeadLetterRedriven(ContractModel):
    """A dead letter was sent back to `hr.users.v1` by `onboarding-ops dlq redrive`."""

    redriven_at: AwareDatetime = Field(description="When the dead letter was sent back")
    run: str = Field(min_length=1, description="The id of the `dlq redrive` run that sent it")

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> DeadLetterRedriven:
        return cls.model_validate_json(raw)
