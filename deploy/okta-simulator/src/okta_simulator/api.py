"""The four Okta operations: listUsers, getUser, listUserGroups, listAppLinks.

Lists are paginated the way Okta paginates: `limit` and an opaque `after` cursor (here the
id of the last object on the page), and one `Link` header per relation, `rel="self"` and,
when there is more, `rel="next"`, with absolute URLs on the request's base URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import JsonValue

from okta_simulator.errors import invalid_parameter, invalid_search, user_not_found
from okta_simulator.models import User
from okta_simulator.org import UserRecord
from okta_simulator.search import SearchError, equality_value, parse
from okta_simulator.simulator import Simulator, SimulatorDep
from okta_simulator.views import app_link_view, group_view, user_view

USERS_PAGE_SIZE = 200  # Okta's default and maximum for listUsers
Q_PAGE_SIZE = 10  # Okta's default when `q` is used
GROUPS_MAX_PAGE_SIZE = 10_000
T = TypeVar("T")

router = APIRouter(prefix="/api/v1")
Text = Annotated[str | None, Query()]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) < 1:
        raise invalid_parameter("limit", "must be a positive integer")
    return min(int(raw), maximum)


def _page(items: list[T], after: str | None, limit: int, key: Callable[[T], str]) -> list[T]:
    keys = [key(item) for item in items]
    start = 0 if not after else (keys.index(after) + 1 if after in keys else len(items))
    return items[start : start + limit + 1]  # one extra tells whether a next page exists


def _paged(
    request: Request, body: list[JsonValue], params: dict[str, str], after: str | None, limit: int
) -> JSONResponse:
    more = len(body) > limit
    body = body[:limit]
    url = f"{_base(request)}{request.url.path}"

    def link(cursor: str | None, rel: str) -> str:
        query = {**params, **({"after": cursor} if cursor else {}), "limit": str(limit)}
        return f'<{url}?{urlencode(query, quote_via=quote)}>; rel="{rel}"'

    response = JSONResponse(body)
    response.headers.append("Link", link(after, "self"))
    last = body[-1] if body else None
    if more and isinstance(last, dict) and isinstance(last["id"], str):
        response.headers.append("Link", link(last["id"], "next"))
    return response


def _require(sim: Simulator, user_id: str) -> UserRecord:
    user = sim.org.get(user_id, sim.clock())
    if user is None:
        raise user_not_found(user_id)
    return user


def _attributes(user: User) -> dict[str, JsonValue]:
    """A user as `search` sees it: top-level properties, `type.id`, `profile.*`."""
    dumped = user.model_dump(mode="json")
    flat: dict[str, JsonValue] = {k: v for k, v in dumped.items() if not isinstance(v, dict)}
    flat["type.id"] = user.type.id
    flat.update({f"profile.{name}": value for name, value in user.profile.items()})
    return flat


def _matcher(
    sim: Simulator, base: str, expression: str, search: bool
) -> Callable[[UserRecord], bool]:
    try:
        predicate = parse(expression, case_insensitive=search)
    except SearchError as error:
        raise invalid_search(str(error)) from error
    email = equality_value(expression, "profile.email") if search else None
    if email is None:
        return lambda user: predicate(_attributes(user_view(user, sim.org, base)))
    # Okta's search index, in effect: only users with that email get their view rendered.
    wanted = email.casefold()
    return lambda user: (
        str(user.profile.get("email") or "").casefold() == wanted
        and predicate(_attributes(user_view(user, sim.org, base)))
    )


def _starts_with(q: str) -> Callable[[UserRecord], bool]:
    prefix = q.casefold()
    return lambda user: (
        user.status != "DEPROVISIONED"
        and any(
            str(user.profile.get(name) or "").casefold().startswith(prefix)
            for name in ("firstName", "lastName", "email")
        )
    )


@router.get("/users")
async def list_users(
    request: Request,
    sim: SimulatorDep,
    search: Text = None,
    filter_: Annotated[str | None, Query(alias="filter")] = None,
    q: Text = None,
    after: Text = None,
    limit: Text = None,
) -> Response:
    base, now = _base(request), sim.clock()
    size = _limit(limit, USERS_PAGE_SIZE, USERS_PAGE_SIZE)
    if search is not None or filter_ is not None:
        name, expression = ("search", search) if search is not None else ("filter", filter_)
        users = sim.org.searchable(now, _matcher(sim, base, expression or "", name == "search"))
        params = {name: expression or ""}
    elif q is not None:
        size = _limit(limit, Q_PAGE_SIZE, USERS_PAGE_SIZE)
        users, params, after = sim.org.searchable(now, _starts_with(q))[:size], {"q": q}, None
    else:
        users = [u for u in sim.org.visible(now) if u.status != "DEPROVISIONED"]
        params = {}
    page = _page(users, after, size, key=lambda user: user.id)
    body: list[JsonValue] = [user_view(u, sim.org, base).model_dump(mode="json") for u in page]
    return _paged(request, body, params, after, size)


@router.get("/users/{user_id}")
async def get_user(user_id: str, request: Request, sim: SimulatorDep) -> Response:
    user = _require(sim, user_id)
    body = user_view(user, sim.org, _base(request), full=True).model_dump(mode="json")
    response = JSONResponse(body)
    tag = hashlib.sha256(response.body).hexdigest()[:16]
    response.headers["ETag"] = f'W/"{tag}"'
    return response


@router.get("/users/{user_id}/groups")
async def list_user_groups(
    user_id: str, request: Request, sim: SimulatorDep, after: Text = None, limit: Text = None
) -> Response:
    user = _require(sim, user_id)
    size = _limit(limit, sim.groups_page_size, GROUPS_MAX_PAGE_SIZE)
    page = _page(user.groups, after, size, key=lambda group: group.id)
    body: list[JsonValue] = [group_view(g, _base(request)).model_dump(mode="json") for g in page]
    return _paged(request, body, {}, after, size)


@router.get("/users/{user_id}/appLinks")
async def list_app_links(user_id: str, request: Request, sim: SimulatorDep) -> Response:
    user = _require(sim, user_id)
    base = _base(request)
    return JSONResponse(
        [
            app_link_view(user, link, order, base).model_dump(mode="json")
            for order, link in enumerate(user.app_links)
        ]
    )
