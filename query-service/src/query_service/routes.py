"""`GET /v1/users/{id}` and `GET /v1/users/{id}/status`: the read model, as the contract says."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from onboarding_events import EnrichedUser
from onboarding_runtime.view import StatusView, UsersView

from query_service.models import UserStatus, detail_example

router = APIRouter(tags=["users"])

COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Missing or wrong read API key",
        "content": detail_example("Missing or invalid read API key"),
    },
    503: {
        "description": "The database is unavailable; retry after `Retry-After` seconds",
        "content": detail_example("Database unavailable"),
    },
}


def get_users(request: Request) -> UsersView:
    users: UsersView = request.app.state.users
    return users


def get_status(request: Request) -> StatusView:
    status: StatusView = request.app.state.status
    return status


Users = Annotated[UsersView, Depends(get_users)]
Statuses = Annotated[StatusView, Depends(get_status)]
IfNoneMatch = Annotated[str | None, Header(description="An `ETag` seen before")]


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as `If-None-Match` asks for."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag.removeprefix("W/") in tags


@router.get(
    "/v1/users/{employee_id}",
    response_model=EnrichedUser,
    summary="The enriched user",
    description="Exactly the contract's keys. Send the `ETag` back in `If-None-Match` to get "
    "`304` while the user is unchanged.",
    responses={
        200: {
            "headers": {
                "ETag": {"description": "Changes when the user does", "schema": {"type": "string"}}
            }
        },
        304: {"description": "Unchanged since the `ETag` given in `If-None-Match`"},
        404: {"description": "Not enriched (yet)", "content": detail_example("User not found")},
        **COMMON_RESPONSES,
    },
)
async def get_user(employee_id: str, users: Users, if_none_match: IfNoneMatch = None) -> Response:
    user = await users.get(employee_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    headers = {"ETag": user.etag, "Cache-Control": "no-cache"}
    if etag_matches(if_none_match, user.etag):
        return Response(status_code=304, headers=headers)
    # The stored body is the validated response already: no re-serialisation per request.
    return Response(content=user.body, media_type="application/json", headers=headers)


@router.get(
    "/v1/users/{employee_id}/status",
    response_model=UserStatus,
    summary="Where the employee's newest HR event is",
    description="`pending` once accepted, `completed` once enriched, `failed` with the "
    "dead-letter reason in `error`. A newer HR event (or a replay) makes it `pending` again.",
    responses={
        404: {"description": "Never seen", "content": detail_example("User not found")},
        **COMMON_RESPONSES,
    },
)
async def get_user_status(employee_id: str, status: Statuses) -> JSONResponse:
    found = await status.get(employee_id)
    if found is None:
        raise HTTPException(status_code=404, detail="User not found")
    return JSONResponse(found)
