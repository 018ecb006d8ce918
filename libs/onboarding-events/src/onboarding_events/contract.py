"""The base of every model in the contract: tolerant when it reads.

Reading (`model_validate`, `model_validate_json`, `from_json`) ignores fields the model
does not know, so a subscriber keeps working when the contract gains a field (an additive
change within `v1`). Our writers stay strict another way: mypy (the pydantic plugin types
each model's keywords) refuses a field the model does not declare, and the contract tests
validate what every writer produces against the strict JSON Schemas
(`onboarding_events.schemas`, `additionalProperties: false`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContractModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
