"""What `/openapi.json` says about the reads beyond their models: every answer, its headers.

Every status a read can give is here and nothing else: `401` (`read_auth`), `404`, `503`
(the app's handler of a database error), and `304` for the user. The parameters are
declared by hand, and the routes read them from the request: both are plain text (a path
segment, an optional header) that nothing refuses, so no `422` can happen, and FastAPI
documents one for any route with declared parameters.
"""

from __future__ import annotations

from typing import Any

from query_service.models import Problem, detail_example


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Missing or wrong read API key",
        "model": Problem,
        "content": detail_example("Missing or invalid read API key"),
        "headers": {"WWW-Authenticate": _header("`Bearer`")},
    },
    503: {
        "description": "The database is unavailable; retry after `Retry-After` seconds",
        "model": Problem,
        "content": detail_example("Database unavailable"),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    },
}
NOT_FOUND: dict[str, Any] = {"model": Problem, "content": detail_example("User not found")}
CACHING = {
    "ETag": _header("Changes when the user does"),
    "Cache-Control": _header("`no-cache`: ask again, with `If-None-Match`"),
}

EMPLOYEE_ID: dict[str, Any] = {
    "name": "employee_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "title": "Employee Id"},
}
IF_NONE_MATCH: dict[str, Any] = {
    "name": "if-none-match",
    "in": "header",
    "required": False,
    "description": "An `ETag` seen before",
    "schema": {"type": "string"},
}
