"""For the services' tests: what an OpenAPI document says each route answers, and whether an
answer is one it documents (status, headers, body).

A service's test lists what each route can answer, read from its code; the document must
say exactly that (`documented_answers`), and each refusal, provoked, must look as documented
(`assert_documented`), so the document cannot drift from the code unnoticed either way.
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis

Answers = dict[tuple[str, str], set[int]]


def documented_answers(spec: dict[str, Any]) -> Answers:
    """`{("POST", "/v1/hr/webhook"): {202, 401, ...}, ...}`: each operation's statuses."""
    return {
        (method.upper(), path): {int(status) for status in operation["responses"]}
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }


def assert_documented(
    spec: dict[str, Any], method: str, path: str, response: httpx.Response
) -> None:
    """`response` is an answer the operation documents: its status, with every header
    documented for that status, and a body of the documented schema (schemathesis)."""
    documented = spec["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in documented, f"{method} {path} does not document {status}"
    headers = documented[status].get("headers", {})
    missing = [name for name in headers if name not in response.headers]  # any case
    assert not missing, f"{method} {path} {status} lacks documented headers {missing}"
    schemathesis.openapi.from_dict(spec)[path][method.upper()].validate_response(response)
