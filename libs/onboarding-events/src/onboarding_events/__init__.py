"""The public event contract: CloudEvent envelope, HR and enriched-user models, the erasure
and redrive log records, the retry tiers' headers (`waiting`), topic names. JSON Schemas:
`onboarding_events.schemas`."""

from onboarding_events.cloudevent import (
    CONTENT_TYPE,
    CONTENT_TYPE_HEADER,
    CloudEvent,
    header_map,
    kafka_headers,
    new_event_id,
)
from onboarding_events.contract import ContractModel
from onboarding_events.enriched import (
    USER_ENRICHED,
    USERS_ENRICHED_TOPIC,
    EnrichedUser,
    HrEventRef,
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
from onboarding_events.redrive import REDRIVES_TOPIC, DeadLetterRedriven, redrive_key
from onboarding_events.waiting import RETRY_TOPICS, Waiting

__all__ = [
    "CONTENT_TYPE",
    "CONTENT_TYPE_HEADER",
    "ERASURES_TOPIC",
    "HR_RECORD_EXAMPLE",
    "HR_USERS_DLQ_TOPIC",
    "HR_USERS_TOPIC",
    "HR_USER_UPSERTED",
    "REDRIVES_TOPIC",
    "REDRIVE_HEADER",
    "REPLAY_HEADER",
    "RETRY_TOPICS",
    "USERS_ENRICHED_TOPIC",
    "USER_ENRICHED",
    "CloudEvent",
    "ContractModel",
    "DeadLetterRedriven",
    "EmployeeErased",
    "EnrichedUser",
    "HrEventRef",
    "HrUser",
    "HrUserUpserted",
    "UserEnriched",
    "Waiting",
    "header_map",
    "hr_user_upserted_json",
    "is_onboarded",
    "is_valid_employee_id",
    "kafka_headers",
    "new_event_id",
    "redrive_key",
    "unique_in_order",
]
