"""What an Okta answer means for the record being enriched, told apart by Okta's errorCode.

RetryableError                      (onboarding_runtime.kafka)
 ├── UserVanished                   404 E0000007 on groups/appLinks: deleted meanwhile
 ├── OktaBadAnswer                  a body that does not match Okta's schema
 └── UnavailableError               never the record's fault: consumption pauses
      ├── OktaDown                  5xx / timeouts / connection errors, after backoff
      ├── OktaThrottled             429 E0000047 again and again
      └── OktaRefuses               401 E0000011 / 403 E0000006: our token or its scopes
PermanentError                      400 E0000031 bad search (the email), other 4xx
OktaBusy                            a low-priority call (the preview) not made: Okta's
                                    budget is short, and what is left is the consumer's
"""

from __future__ import annotations

import re

import httpx
from onboarding_runtime.kafka import PermanentError, RetryableError, UnavailableError
from pydantic import ValidationError

from enrich_service.okta_models import OktaError

NOT_FOUND = "E0000007"
RATE_LIMITED = "E0000047"


class UserVanished(RetryableError):
    pass


class OktaBadAnswer(RetryableError):
    pass


class OktaDown(UnavailableError):
    pass


class OktaThrottled(UnavailableError):
    pass


class OktaRefuses(UnavailableError):
    pass


class OktaBusy(Exception):
    """Raised only to low-priority callers (`OktaClient.low_priority`), never to the consumer:
    the call was not made; Okta's budget should allow one in `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("Okta's rate-limit budget is kept for enrichment")
        self.retry_after = retry_after


class TransientStatus(Exception):
    """A 5xx answer, retried with backoff inside the client before it becomes `OktaDown`."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"Okta {status} {code}")
        self.code = code


# Okta's error codes look like E0000031. Anything else in that field is not repeated: our
# messages and codes travel into dead-letter headers, the status view and logs, and Okta's
# own text (`errorSummary`, `errorCauses`) may quote the search, i.e. the email.
_CODE = re.compile(r"E\d{7}")


def error_of(response: httpx.Response) -> OktaError:
    try:
        return OktaError.model_validate(response.json())
    except (ValueError, ValidationError):
        return OktaError()


def code_of(response: httpx.Response) -> str:
    """Okta's errorCode when it is one, else `http_<status>`."""
    code = error_of(response).errorCode or ""
    return code if _CODE.fullmatch(code) else f"http_{response.status_code}"


def failure_for(response: httpx.Response) -> Exception:
    """The exception for a 4xx answer other than 429 (those are handled by the client)."""
    code = code_of(response)
    message = f"Okta {response.status_code} {code}"
    if response.status_code in (401, 403):
        # Our configuration, not the event's fault: pause rather than dead-letter everyone.
        return OktaRefuses(message, code=code)
    if code == NOT_FOUND:
        return UserVanished(message, code="okta_user_vanished")
    return PermanentError(message, code=code)
