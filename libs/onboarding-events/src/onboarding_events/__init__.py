"""The public event contract: CloudEvent envelope, HR and enriched-user models, topic names."""

from onboarding_events.cloudevent import (
    CONTENT_TYPE,
    CONTENT_TYPE_HEADER,
    CloudEvent,
    header_map,
    kafka_headers,
    new_event_id,
)
from onboarding_events.enriched import (
    USER_ENRICHED,
    USERS_ENRICHED_TOPIC,
    EnrichedUser,
    UserEnriched,
    is_onboarded,
    unique_in_order,
)
from onboarding_events.erasure import ERASURES_TOPIC, EmployeeErased
from onboarding_events.hr import (
    HR_RECORD_EXAMPLE,
    HR_USER_UPSERTED,
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    HrUser,
    HrUserUpserted,
    hr_user_upserted_json,
    is_valid_employee_id,
)
from onboarding_events.markers import REDRIVE_HEADER, REPLAY_HEADER

__all__ = [
    "CONTENT_TYPE",
    "CONTENT_TYPE_HEADER",
    "ERASURES_TOPIC",
    "HR_RECORD_EXAMPLE",
    "HR_USERS_DLQ_TOPIC",
    "HR_USERS_TOPIC",
    "HR_USER_UPSERTED",
    "REDRIVE_HEADER",
    "REPLAY_HEADER",
    "USERS_ENRICHED_TOPIC",
    "USER_ENRICHED",
    "CloudEvent",
    "EmployeeErased",
    "EnrichedUser",
    "HrUser",
    "HrUserUpserted",
    "UserEnriched",
    "header_map",
    "hr_user_upserted_json",
    "is_onboarded",
    "is_valid_employee_id",
    "kafka_headers",
    "new_event_id",
    "unique_in_order",
]
