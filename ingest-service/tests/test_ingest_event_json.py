"""The record ingest writes is the `HrUserUpserted` model's JSON, built faster."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ingest_service.acceptor import SOURCE, event_id_for
from onboarding_events import HR_USER_UPSERTED, HrUser, HrUserUpserted, hr_user_upserted_json
from test_ingest_validation_property import valid_records

utc_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def _model_json(user: HrUser, event_id: str, time: datetime) -> bytes:
    event = HrUserUpserted(
        id=event_id, source=SOURCE, type=HR_USER_UPSERTED, time=time,
        subject=user.employee_id, data=user,
    )  # fmt: skip
    return event.to_json()


@given(record=valid_records, delivery=st.text(min_size=1, max_size=255), time=utc_times)
def test_it_is_byte_for_byte_the_models_json(
    record: dict[str, object], delivery: str, time: datetime
) -> None:
    user = HrUser.model_validate(record)
    event_id = event_id_for(delivery)

    built = hr_user_upserted_json(user, event_id=event_id, source=SOURCE, time=time)

    assert built == _model_json(user, event_id, time)
    assert HrUserUpserted.from_json(built).data == user


def test_a_time_in_another_zone_is_written_as_the_same_instant_in_utc() -> None:
    user = HrUser.model_validate({"employee_id": "1", "first_name": "A", "last_name": "B",
                                  "email": "a@example.com"})  # fmt: skip
    local = datetime(2024, 1, 1, 1, 2, 3, 500, tzinfo=timezone(timedelta(hours=2)))

    built = json.loads(hr_user_upserted_json(user, event_id="e-1", source=SOURCE, time=local))

    assert built["time"] == "2023-12-31T23:02:03.000500Z"


def test_an_envelope_value_that_would_need_escaping_is_refused() -> None:
    user = HrUser.model_validate({"employee_id": "1", "first_name": "A", "last_name": "B",
                                  "email": "a@example.com"})  # fmt: skip
    with pytest.raises(ValueError, match="escaping"):
        hr_user_upserted_json(user, event_id='x"y', source=SOURCE, time=datetime.now(UTC))
