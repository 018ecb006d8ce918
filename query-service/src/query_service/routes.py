"""`GET /v1/users/{id}` and `GET /v1/users/{id}/status`: the read model, as the contract says.

`GET /v1/users/{id}` is the hot read. FastAPI's per-request work (solving the dependencies
and parameters of an `APIRoute`) cost ~130 us of CPU per read, more than a third of what the
service spent on one besides the database call (tests/bench/query_read_throughput.py). So
the read is *served* by `user_read_route`, a plain Starlette route registered before the
`APIRoute` that *documents* it; both call `read_user` and `require_read_key`, so they answer
alike. Everything else about the request (exception handlers: 404/401 details, 503 on a
database error; middleware) is still FastAPI's. The routes close over the views the
composition root hands in rather than looking them up per request.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from onboarding_events import EnrichedUser
from onboarding_runtime.view import StatusView, UsersView
from starlette.routing import Route

from query_service.auth import READ_SECURITY, ReadKeyCheck
from query_service.models import UserStatus
from query_service.openapi import (
    CACHING,
    COMMON_RESPONSES,
    EMPLOYEE_ID,
    IF_NONE_MATCH,
    NOT_FOUND,
)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as `If-None-Match` asks for."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag.removeprefix("W/") in tags


USER_PATH = "/v1/users/{employee_id}"


async def read_user(users: UsersView, employee_id: str, if_none_match: str | None) -> Response:
    user = await users.get(employee_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    headers = {"ETag": user.etag, "Cache-Control": "no-cache"}
    if etag_matches(if_none_match, user.etag):
        return Response(status_code=304, headers=headers)
    # The stored body is the validated response already: no re-serialisation per request.
    return Response(content=user.body, media_type="application/json", headers=headers)


def user_read_route(users: UsersView, require_read_key: ReadKeyCheck) -> Route:
    """What serves `GET /v1/users/{id}`: register it before `users_router`."""

    async def serve_user(request: Request) -> Response:
        await require_read_key(request)
        employee_id: str = request.path_params["employee_id"]
        return await read_user(users, employee_id, request.headers.get("if-none-match"))

    route = Route(USER_PATH, serve_user, methods=["GET"], include_in_schema=False)
    route.methods = {"GET"}  # Starlette adds HEAD to a GET route; the APIRoute has none
    return route


def users_router(
    users: UsersView, status: StatusView, *, require_read_key: ReadKeyCheck
) -> APIRouter:
    """Both reads, behind the read key, as OpenAPI documents them."""
    router = APIRouter(tags=["users"], dependencies=[Depends(require_read_key), *READ_SECURITY])

    @router.get(
        USER_PATH,
        response_model=EnrichedUser,
        summary="The enriched user",
        description="Exactly the contract's keys. Send the `ETag` back in `If-None-Match` to "
        "get `304` while the user is unchanged.",
        responses={
            200: {"headers": CACHING},
            304: {
                "description": "Unchanged since the `ETag` given in `If-None-Match`; no body",
                "headers": CACHING,
            },
            404: {"description": "Not enriched (yet), or erased", **NOT_FOUND},
            **COMMON_RESPONSES,
        },
        openapi_extra={"parameters": [EMPLOYEE_ID, IF_NONE_MATCH]},
    )
    async def get_user(request: Request) -> Response:
        # Reached only without `user_read_route` in front (which answers the same).
        employee_id: str = request.path_params["employee_id"]
        return await read_user(users, employee_id, request.headers.get("if-none-match"))

    @router.get(
        "/v1/users/{employee_id}/status",
        response_model=UserStatus,
        summary="Where the employee's newest HR event is",
        description="`pending` once accepted, `completed` once enriched, `failed` with the "
        "dead-letter reason in `error`. A newer HR event (or a replay) makes it `pending` again. "
        "While the event waits to be looked up in Okta again, `next_check_at` says when, and "
        "a future hire not in Okta yet is `scheduled` (treat it as `pending` if you know only "
        "pending/completed/failed).",
        responses={
            404: {"description": "Never seen, or erased", **NOT_FOUND},
            **COMMON_RESPONSES,
        },
        openapi_extra={"parameters": [EMPLOYEE_ID]},
    )
    async def get_user_status(request: Request) -> JSONResponse:
        found = await status.get(request.path_params["employee_id"])
        if found is None:
            raise HTTPException(status_code=404, detail="User not found")
        return JSONResponse(found)

    return router
