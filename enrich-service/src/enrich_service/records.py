"""HR records off `hr.users.v1`: decoding.

Total: whatever a record holds (not JSON, nested thousands deep, not UTF-8, a field of the
wrong type), `decode` raises `PermanentError` with code `invalid_event`, so the record is
dead-lettered with a reason. (Which of two records of one employee wins is
`RecentEvents.supersedes`: it needs the first time each event was seen.)
"""

from __future__ import annotations

from onboarding_events import HrUserUpserted
from onboarding_runtime.kafka import PermanentError, Record
from pydantic import ValidationError


def decode(record: Record) -> HrUserUpserted:
    try:
        return HrUserUpserted.from_json(record.value or b"")
    except ValidationError as exc:
        raise PermanentError(
            f"invalid HR event: {exc.error_count()} errors", code="invalid_event"
        ) from exc
    except Exception as exc:  # RecursionError, UnicodeDecodeError...: unreadable all the same
        raise PermanentError(
            f"invalid HR event: unreadable ({type(exc).__name__})", code="invalid_event"
        ) from exc
