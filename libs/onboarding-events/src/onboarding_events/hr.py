"""The HR record the webhook accepts and the `hr.user.upserted` event that carries it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from onboarding_events.cloudevent import CloudEvent
from onboarding_events.contract import ContractModel

HR_USERS_TOPIC = "hr.users.v1"
# Each dead letter is an `hr.users.v1` record as received (key, value, headers), so meant
# to be an `HrUserUpserted` but possibly invalid, plus the failure's `dlq-*` headers.
HR_USERS_DLQ_TOPIC = "hr.users.v1.dlq"
HR_USER_UPSERTED = "hr.user.upserted"

EMPLOYEE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_EMPLOYEE_ID = re.compile(EMPLOYEE_ID_PATTERN)


@lru_cache(maxsize=4096)
def _email_problem(value: str) -> str | None:
    """Why `value` is not an email address, or None. Cached: `validate_email` is ~9% of an
    accepted webhook's CPU, and HR systems re-send the same employees over and over. The
    result depends on the string alone (no deliverability check), so caching changes nothing
    about what is accepted."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def _check_email(value: str) -> str:
    problem = _email_problem(value)
    if problem is not None:
        raise ValueError(f"not a valid email address: {problem}")
    return value  # kept as given; compared case-insensitively downstream


def is_valid_employee_id(value: str) -> bool:
    return bool(_EMPLOYEE_ID.fullmatch(value))


def _blank_to_none(value: Any) -> Any:
    """HR systems send `""` for an unset optional field; it means the same as absent."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _iso_date(value: Any) -> Any:
    """Only `YYYY-MM-DD`: pydantic's lax mode would also take a Unix timestamp or a datetime."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be an ISO 8601 date, YYYY-MM-DD")
    return date.fromisoformat(value)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(value: str) -> str:
    """No control characters: they break logs, CSV exports and Okta profile fields."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


EmployeeId = Annotated[str, StringConstraints(pattern=EMPLOYEE_ID_PATTERN)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]
OptionalName = Annotated[Name | None, BeforeValidator(_blank_to_none)]
OptionalText = Annotated[
    Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_printable)
    ]
    | None,
    BeforeValidator(_blank_to_none),
]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_check_email)
]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# A start date further ahead than this is refused at intake (`HrUser` with `today`).
MAX_START_DAYS_AHEAD = 366


# The contract's sample record: OpenAPI example, README, tests and benchmarks all use it.
HR_RECORD_EXAMPLE: dict[str, JsonValue] = {
    "employee_id": "12345",
    "first_name": "Jane",
    "last_name": "Doe",
    "preferred_name": "Janey",
    "email": "jane.doe@example.com",
    "title": "Software Engineer",
    "department": "Engineering",
    "start_date": "2024-01-15",
}


class HrUser(ContractModel):
    """One employee as the HR system describes them. Unknown fields are ignored."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_extra={"examples": [HR_RECORD_EXAMPLE]},
    )

    employee_id: EmployeeId
    first_name: Name
    last_name: Name
    preferred_name: OptionalName = None
    email: Email
    title: OptionalText = None
    department: OptionalText = None
    start_date: IsoDate | None = Field(
        default=None,
        description="ISO 8601 date, YYYY-MM-DD; at intake at most "
        f"{MAX_START_DAYS_AHEAD} days ahead",
    )

    @field_validator("start_date")
    @classmethod
    def _not_too_far_ahead(cls, value: date | None, info: ValidationInfo) -> date | None:
        """At intake (`context={"today": date}`) a start more than a year ahead is refused:
        most likely a typo in the year, and the system would check on it for that long.
        Readers of what was accepted pass no context: no record already written fails."""
        today = (info.context or {}).get("today")
        if not isinstance(today, date) or value is None:
            return value
        if value > today + timedelta(days=MAX_START_DAYS_AHEAD):
            raise PydanticCustomError(
                "date_too_far_ahead",
                "start_date is more than {days} days ahead",
                {"days": MAX_START_DAYS_AHEAD},
            )
        return value


class HrUserUpserted(CloudEvent[HrUser]):
    """`hr.user.upserted` on `hr.users.v1`: ingest's record of one accepted HR record."""


def hr_user_upserted_json(user: HrUser, *, event_id: str, source: str, time: datetime) -> bytes:
    """`HrUserUpserted(...).to_json()`, with only the record going through the serializer:
    the ingest service writes one per webhook, and the envelope model cost as much as the
    record's validation. Everything put in the envelope by hand needs no JSON escaping:
    the event id is a UUID, the source a URN of ours, the subject an employee id (letters,
    digits, `._-`), the time ISO 8601. Tested equal to the model's JSON."""
    if not (_SAFE.fullmatch(event_id) and _needs_no_escaping(source)):
        raise ValueError("event id and source must need no JSON escaping")
    stamp = time.astimezone(UTC).isoformat().replace("+00:00", "Z")
    head = (
        f'{{"specversion":"1.0","id":"{event_id}","source":"{source}",'
        f'"type":"{HR_USER_UPSERTED}","time":"{stamp}","subject":"{user.employee_id}",'
        '"datacontenttype":"application/json","data":'
    )
    return head.encode() + user.__pydantic_serializer__.to_json(user) + b"}"


_SAFE = re.compile(r"[A-Za-z0-9._:/+-]+")


@lru_cache(maxsize=16)
def _needs_no_escaping(source: str) -> bool:
    """A service has one source: checked once, not per event."""
    return bool(_SAFE.fullmatch(source))
