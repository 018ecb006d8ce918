"""HR records off `hr.users.v1`: decoding, and which of two records of one employee wins.

Both are total. Whatever a record holds (not JSON, nested thousands deep, not UTF-8, a
field of the wrong type), `decode` raises `PermanentError` with code `invalid_event`, so the
record is dead-lettered with a reason, and `supersedes` answers: an unreadable record's
time is unknown, and an unknown time supersedes nothing and is superseded by nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

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


def _time(record: Record) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(json.loads(record.value or b"")["time"])
    except Exception:  # not JSON, too deep (RecursionError), no object, no `time`, no text
        return None
    return parsed if parsed.tzinfo is not None else None


def supersedes(newer: Record, older: Record) -> bool:
    """An HR event carries the employee's whole record: a later one at least as recent (by
    the HR event's `time`) makes enriching an earlier one pointless. A replayed older event
    (earlier `time`, later offset) does not: it waits its turn, and the read model's
    (time, hroffset) guard keeps the newer state."""
    new_time, old_time = _time(newer), _time(older)
    return new_time is not None and old_time is not None and new_time >= old_time
