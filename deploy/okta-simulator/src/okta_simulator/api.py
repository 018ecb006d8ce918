"""The four Okta operations: listUsers, getUser, listUserGroups, listAppLinks.

Lists are paginated the way Okta paginates: `limit` and an opaque `after` cursor (here the
id of the last object on the page), and one `Link` header per relation, `rel="self"` and,
when there is more, `rel="next"`, with absolute URLs on the request's base URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Annotated, TypeVar
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import JsonValue

from okta_simulator.errors import invalid_parameter, invalid_search, user_not_found
from okta_simulator.models import User
from okta_simulator.org import Org, UserRecord
from okta_simulator.search import SearchError, equality_value, parse
from okta_simulator.simulator import Simulator, SimulatorDep
from okta_simulator.views import app_link_view, group_json, user_view

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
    request: Request,
    items: list[tuple[str, bytes]],
    params: dict[str, str],
    after: str | None,
    limit: int,
) -> Response:
    """A page of `(id, JSON)` items (one more than `limit` when there is a next page)."""
    more = len(items) > limit
    items = items[:limit]
    url = f"{_base(request)}{request.url.path}"

    def link(cursor: str | None, rel: str) -> str:
        query = {**params, **({"after": cursor} if cursor else {}), "limit": str(limit)}
        return f'<{url}?{urlencode(query, quote_via=quote)}>; rel="{rel}"'

    response = _json_array(item for _, item in items)
    response.headers.append("Link", link(after, "self"))
    if more and items:
        response.headers.append("Link", link(items[-1][0], "next"))
    return response


def _json_array(items: Iterable[bytes]) -> Response:
    # Items rendered by pydantic straight to JSON bytes: no dicts, no `json.dumps`.
    return Response(b"[" + b",".join(items) + b"]", media_type="application/json")


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


def _views(org: Org, base: str) -> Callable[[UserRecord], User]:
    """Users' collection views, each rendered at most once (to match it, then to list it)."""
    rendered: dict[str, User] = {}

    def view(user: UserRecord) -> User:
        if user.id not in rendered:
            rendered[user.id] = user_view(user, org, base)
        return rendered[user.id]

    return view


def _search(
    sim: Simulator, view: Callable[[UserRecord], User], now: float, expression: str, search: bool
) -> list[UserRecord]:
    try:
        predicate = parse(expression, case_insensitive=search)
    except SearchError as error:
        raise invalid_search(str(error)) from error

    def matches(user: UserRecord) -> bool:
        return predicate(_attributes(view(user)))

    email = equality_value(expression, "profile.email") if search else None
    # Okta's search index, in effect: only users with that email are looked at.
    among = sim.org.with_email(email) if email is not None else None
    return sim.org.searchable(now, matches, among)


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
    view, now = _views(sim.org, _base(request)), sim.clock()
    size = _limit(limit, USERS_PAGE_SIZE, USERS_PAGE_SIZE)
    if search is not None or filter_ is not None:
        name, expression = ("search", search) if search is not None else ("filter", filter_)
        users = _search(sim, view, now, expression or "", name == "search")
        params = {name: expression or ""}
    elif q is not None:
        size = _limit(limit, Q_PAGE_SIZE, USERS_PAGE_SIZE)
        users, params, after = sim.org.searchable(now, _starts_with(q))[:size], {"q": q}, None
    else:
        users = [u for u in sim.org.visible(now) if u.status != "DEPROVISIONED"]
        params = {}
    page = _page(users, after, size, key=lambda user: user.id)
    items = [(u.id, view(u).model_dump_json().encode()) for u in page]
    return _paged(request, items, params, after, size)


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
    base = _base(request)
    return _paged(request, [(g.id, group_json(g, base)) for g in page], {}, after, size)


@router.get("/users/{user_id}/appLinks")
async def list_app_links(user_id: str, request: Request, sim: SimulatorDep) -> Response:
    user = _require(sim, user_id)
    base = _base(request)
    return _json_array(
        app_link_view(user, link, order, base).model_dump_json().encode()
        for order, link in enumerate(user.app_links)
    )
