"""Okta's error responses: status code, `errorCode` and the exact `errorSummary` text.

OktaError                        raised by routes, rendered by `error_response`
  401 E0000011 invalid_token     wrong or missing `Authorization`
  404 E0000007 user_not_found    unknown user id or login
  404 E0000007 page_not_found    unknown path under /api/
  405 E0000022 method_not_allowed
  400 E0000031 invalid_search    unparsable `search` / `filter`
  400 E0000001 invalid_parameter e.g. a `limit` that is not a positive integer
  429 E0000047 rate_limited      retryable after `X-Rate-Limit-Reset`
  500 E0000009 server_error      retryable
  503 E0000010 unavailable       retryable
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.responses import JSONResponse

from okta_simulator.ids import error_id
from okta_simulator.models import ErrorBody, ErrorCause


@dataclass
class OktaError(Exception):
    status: int
    code: str
    summary: str
    causes: list[str] = field(default_factory=list)

    def body(self) -> ErrorBody:
        return ErrorBody(
            errorCode=self.code,
            errorSummary=self.summary,
            errorLink=self.code,
            errorId=error_id(),
            errorCauses=[ErrorCause(errorSummary=cause) for cause in self.causes],
        )


def error_response(error: OktaError) -> JSONResponse:
    return JSONResponse(error.body().model_dump(mode="json"), status_code=error.status)


def invalid_token() -> OktaError:
    return OktaError(401, "E0000011", "Invalid token provided")


def user_not_found(user_id: str) -> OktaError:
    return OktaError(404, "E0000007", f"Not found: Resource not found: {user_id} (User)")


def page_not_found(path: str) -> OktaError:
    return OktaError(404, "E0000007", f"Not found: Resource not found: {path} (Page)")


def method_not_allowed() -> OktaError:
    return OktaError(405, "E0000022", "The endpoint does not support the provided HTTP method")


def invalid_search(reason: str) -> OktaError:
    return OktaError(400, "E0000031", "Invalid search criteria.", [reason])


def invalid_parameter(name: str, reason: str) -> OktaError:
    return OktaError(400, "E0000001", f"Api validation failed: {name}", [f"{name}: {reason}"])


def rate_limited() -> OktaError:
    return OktaError(429, "E0000047", "API call exceeded rate limit due to too many requests.")


def server_error() -> OktaError:
    return OktaError(500, "E0000009", "Internal Server Error")


def unavailable() -> OktaError:
    return OktaError(503, "E0000010", "Service is in read only mode")
