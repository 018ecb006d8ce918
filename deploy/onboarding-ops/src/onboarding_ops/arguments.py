"""Checking what the operator typed, before anything is read or written."""

from __future__ import annotations

from datetime import UTC, datetime

from onboarding_events import is_valid_employee_id

from onboarding_ops.errors import BadArgument


def parse_since(text: str, now: datetime | None = None) -> datetime | None:
    """'earliest' (None) or an ISO 8601 time; a time without a zone is taken as UTC."""
    if text.strip().lower() == "earliest":
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadArgument(
            f"--since {text!r} is neither 'earliest' nor an ISO 8601 time "
            "(for example 2024-01-15T09:30:00Z)"
        ) from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when > (now or datetime.now(UTC)):
        raise BadArgument(f"--since {text!r} is in the future")
    return when


def check_employee_id(employee_id: str) -> None:
    if not is_valid_employee_id(employee_id):
        raise BadArgument(
            f"{employee_id!r} is not an employee id (1-64 letters, digits, '.', '_' or '-')"
        )
