"""The Okta client at its transport (httpx.MockTransport): escaping, paging, errors, limits."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import httpx
import pytest
from enrich_service.okta import OktaClient, search_expression
from enrich_service.okta_errors import OktaBadAnswer, OktaDown, OktaRefuses, UserVanished
from enrich_service.okta_ratelimit import RateLimiter
from onboarding_runtime.kafka import PermanentError
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

BASE = "https://acme.okta.example"
USER = {"id": "00u1", "status": "ACTIVE", "profile": {"email": "a@example.com"}}


def _client(handler: httpx.MockTransport, **options: object) -> OktaClient:
    http = httpx.AsyncClient(transport=handler, base_url=BASE)
    return OktaClient(http, backoff_max_s=0.01, **options)  # type: ignore[arg-type]


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"errorCode": code, "errorSummary": "x"})


def test_search_escapes_quotes_and_backslashes() -> None:
    assert search_expression('a"b\\c@example.com') == 'profile.email eq "a\\"b\\\\c@example.com"'


async def test_groups_follow_every_next_link_in_order() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        page = {None: (["A", "B"], "p2"), "p2": (["C"], None)}[after]
        headers = {}
        if page[1]:
            headers["Link"] = f'<{BASE}/api/v1/users/00u1/groups?after={page[1]}>; rel="next"'
        body = [{"id": f"g{n}", "profile": {"name": n}} for n in page[0]]
        return httpx.Response(200, json=body, headers=headers)

    groups = await _client(httpx.MockTransport(handle)).groups("00u1")
    assert [g.profile.name for g in groups] == ["A", "B", "C"]


async def test_no_span_of_an_okta_call_names_the_person(spans: InMemorySpanExporter) -> None:
    okta_id, email = "00uZ9xQ4pLr7Tb2", "jane.doe@example.com"

    def handle(request: httpx.Request) -> httpx.Response:
        path, after = request.url.path, request.url.params.get("after")
        if path == "/api/v1/users":
            user = {"id": okta_id, "status": "ACTIVE", "profile": {"email": email}}
            return httpx.Response(200, json=[user])
        if path.endswith("/groups") and after is None:
            link = f'<{BASE}/api/v1/users/{okta_id}/groups?after=g1&limit=1>; rel="next"'
            return httpx.Response(200, json=[{"id": "g1", "profile": {"name": "A"}}],
                                  headers={"Link": link})  # fmt: skip
        return httpx.Response(200, json=[])

    okta = _client(httpx.MockTransport(handle))
    found = await okta.find_user_by_email(email)
    assert found is not None
    await okta.groups(found.id)
    await okta.app_links(found.id)

    calls = spans.get_finished_spans()
    assert [span.name for span in calls] == [
        "GET listUsers",
        "GET listUserGroups",
        "GET listUserGroups",
        "GET listAppLinks",
    ]
    everything = str([(s.name, dict(s.attributes or {}), s.events, s.status) for s in calls])
    for personal in (okta_id, email, email.split("@")[0]):
        assert personal not in everything
    assert [(s.attributes or {})["url.template"] for s in calls] == [
        "/api/v1/users",
        "/api/v1/users/{id}/groups",
        "/api/v1/users/{id}/groups",
        "/api/v1/users/{id}/appLinks",
    ]
    assert (calls[1].attributes or {})["url.full"] == f"{BASE}/api/v1/users/{{id}}/groups"


async def test_a_next_link_to_another_host_is_refused() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        link = '<https://evil.example/api/v1/users/00u1/groups?after=x>; rel="next"'
        return httpx.Response(200, json=[], headers={"Link": link})

    with pytest.raises(OktaBadAnswer):
        await _client(httpx.MockTransport(handle)).groups("00u1")


async def test_search_matches_the_email_case_insensitively_or_finds_nobody() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[USER])

    okta = _client(httpx.MockTransport(handle))
    assert (await okta.find_user_by_email("A@Example.com")) is not None
    assert (await okta.find_user_by_email("other@example.com")) is None


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (_error(400, "E0000031"), PermanentError),
        (_error(401, "E0000011"), OktaRefuses),
        (_error(403, "E0000006"), OktaRefuses),
        (_error(404, "E0000007"), UserVanished),
        (_error(503, "E0000010"), OktaDown),
        (httpx.Response(200, json=[{"unexpected": True}]), OktaBadAnswer),
    ],
)
async def test_errors_are_told_apart_by_okta_error_code(
    response: httpx.Response, error: type[Exception]
) -> None:
    okta = _client(httpx.MockTransport(lambda request: response))
    with pytest.raises(error):
        await okta.groups("00u1")


async def test_5xx_and_timeouts_are_retried_before_okta_counts_as_down() -> None:
    answers: list[httpx.Response | Exception] = [
        _error(500, "E0000009"),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json=[USER]),
    ]

    def handle(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    okta = _client(httpx.MockTransport(handle), max_attempts=3)
    assert await okta.find_user_by_email("a@example.com") is not None


def _rate(remaining: int, reset_in: float, now: float, status: int = 200) -> httpx.Response:
    headers = {
        "X-Rate-Limit-Limit": "100",
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(int(now + reset_in)),
        "Date": formatdate(now, usegmt=True),
    }
    return httpx.Response(status, json=[USER] if status == 200 else {}, headers=headers)


async def test_a_429_makes_every_caller_wait_for_the_reset_on_oktas_clock() -> None:
    okta_clock = time.time() + 3600  # Okta's clock is an hour ahead of ours: only `Date` counts
    calls: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return _rate(0, 2, okta_clock, status=429)
        return _rate(50, 60, okta_clock + 2)

    okta = _client(httpx.MockTransport(handle), limiter=RateLimiter(jitter_s=0.05))
    started = time.monotonic()
    await asyncio.gather(*(okta.find_user_by_email("a@example.com") for _ in range(3)))
    assert calls[1] - started >= 1.0  # waited (up to Date's whole second) for the reset
    assert len(calls) == 4


async def test_the_limiter_paces_the_last_of_the_budget_over_the_window() -> None:
    limiter = RateLimiter(jitter_s=0)
    now = time.time()
    await limiter.acquire("listUsers")
    limiter.release("listUsers", _rate(3, 1.5, now).headers, throttled=False)
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire("listUsers")
    # Three calls left for ~1.5 s: spread out, not sent at once.
    assert time.monotonic() - started >= 0.6


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"errorCode": "E0000031", "errorSummary": 'Invalid search: "jane@example.com"'},
            "E0000031",
        ),
        ({"errorCode": "jane@example.com", "errorSummary": "x"}, "http_400"),
        ({"errorCauses": [{"errorSummary": "jane@example.com"}]}, "http_400"),
    ],
)
async def test_oktas_own_error_text_is_not_repeated(body: dict[str, object], code: str) -> None:
    okta = _client(httpx.MockTransport(lambda request: httpx.Response(400, json=body)))
    with pytest.raises(PermanentError) as raised:
        await okta.find_user_by_email("jane@example.com")
    assert raised.value.code == code
    assert "jane" not in str(raised.value)
