"""`hr.user.upserted` in, `user.enriched` out: Okta lookup and the contract's mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol, TypeVar

from onboarding_events import (
    EnrichedUser,
    HrUser,
    HrUserUpserted,
    UserEnriched,
    is_onboarded,
    unique_in_order,
)
from onboarding_runtime.kafka import (
    BrokerUnavailable,
    PermanentError,
    RetryableError,
    UnavailableError,
)
from onboarding_runtime.published import STALE_SKIPPED
from onboarding_runtime.view.versions import version_of
from prometheus_client import Counter

from enrich_service.okta import Okta
from enrich_service.okta_models import OktaAppLink, OktaGroup, OktaUser
from enrich_service.recent_events import RecentEvents

SOURCE = "urn:onboarding:enrich-service"
DEFAULT_NOT_FOUND_RETRY_S = 3600.0

Publish = Callable[[UserEnriched], Awaitable[None]]
# Whether an operator erased this employee after (or at) the event's time.
Erased = Callable[[str, datetime], bool]
# Wait until every erasure written so far is known to `Erased` (False: the log is unreachable).
SyncErasures = Callable[[], Awaitable[bool]]
# Told the user Okta gave, before it is published.
Found = Callable[[EnrichedUser], Awaitable[None]]


class Published(Protocol):
    """The newest version per employee on the enriched topic (`onboarding_runtime.published`)."""

    def is_newer(self, employee_id: str, version: str) -> bool: ...
    def is_current(self, employee_id: str, version: str) -> bool: ...
    def has_event(self, employee_id: str, event_id: str) -> bool: ...
    def record(self, employee_id: str, version: str, event_id: str | None = None) -> None: ...
    async def sync(self) -> bool: ...


class _NothingPublished:
    def is_newer(self, employee_id: str, version: str) -> bool:
        return True

    def is_current(self, employee_id: str, version: str) -> bool:
        return True

    def has_event(self, employee_id: str, event_id: str) -> bool:
        return False

    def record(self, employee_id: str, version: str, event_id: str | None = None) -> None:
        return None

    async def sync(self) -> bool:
        return True


async def _in_sync() -> bool:
    return True


COPIES_SKIPPED = Counter(
    "onboarding_enrich_published_copies_skipped_total",
    "HR records not enriched: a plain second record of an event already on the enriched topic",
)
ERASED_SKIPPED = Counter(
    "onboarding_enrich_erased_skipped_total",
    "HR events not enriched because the employee was erased after them",
)
A = TypeVar("A")
B = TypeVar("B")


class UserNotFound(RetryableError):
    """Okta's search is eventually consistent and accounts may be created later."""

    def __init__(self, retry_for: float) -> None:
        super().__init__(
            "no Okta user with this email yet", code="okta_user_not_found", retry_for=retry_for
        )


def to_enriched(
    hr: HrUser, account: OktaUser, groups: list[OktaGroup], apps: list[OktaAppLink]
) -> EnrichedUser:
    return EnrichedUser(
        id=hr.employee_id,
        name=f"{hr.first_name} {hr.last_name}",
        email=hr.email,
        title=hr.title,
        department=hr.department,
        startDate=hr.start_date.isoformat() if hr.start_date else None,
        groups=unique_in_order([g.profile.name for g in groups]),
        applications=unique_in_order([a.label for a in apps]),
        onboarded=is_onboarded(account.status),
    )


async def enriched_user(hr: HrUser, *, okta: Okta, not_found_retry_s: float) -> EnrichedUser:
    """The person of `hr` as Okta knows them now: what `user.enriched` carries and
    `GET /v1/users/{id}` serves (the consumer's handler and the preview both ask this)."""
    account = await okta.find_user_by_email(hr.email)
    if account is None:
        raise UserNotFound(not_found_retry_s)
    # Both must succeed: a failure raises here, so no partial result is ever made.
    groups, apps = await both(okta.groups(account.id), okta.app_links(account.id))
    return to_enriched(hr, account, groups, apps)


async def both(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Run both; if one fails the other is cancelled and the most telling error is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            a, b = group.create_task(first), group.create_task(second)
    except ExceptionGroup as failed:
        rank = (UnavailableError, PermanentError, RetryableError, Exception)
        errors = sorted(
            failed.exceptions, key=lambda e: next(i for i, t in enumerate(rank) if isinstance(e, t))
        )
        raise errors[0] from failed
    return a.result(), b.result()


async def on_hr_user_upserted(
    event: HrUserUpserted,
    *,
    okta: Okta,
    publish: Publish,
    hr_offset: int,
    not_found_retry_s: float = DEFAULT_NOT_FOUND_RETRY_S,
    erased: Erased = lambda _employee_id, _time: False,
    sync_erasures: SyncErasures = _in_sync,
    published: Published | None = None,
    recent: RecentEvents | None = None,
    sent_again: bool = False,
    waited: bool = False,
    found: Found | None = None,
) -> EnrichedUser | None:
    """Enrich `event` unless erased, or (with `recent`) already handled and not `sent_again`
    on purpose by an operator (replay, redrive); publish it only if it is newer than what
    the enriched topic already has for the employee (`published`). Returns the user
    published, None if nothing was.

    `waited`: the record is an HR record written back after waiting on a retry tier
    (`waiting.py`): never skipped as handled by `recent` (it learns the HR records before
    where a member starts as handled, and the waiting one among them was not), only if the
    topic shows its event published. `found`: told the user Okta gave, before the publish
    (the activation watch: written first, so a crash after the publish cannot lose it)."""
    if recent is not None:
        first = recent.first_time(event)
        if first != event.time:  # a second record of the event, stamped later: not newer
            event = event.model_copy(update={"time": first})
        if recent.skip(event, sent_again=sent_again or waited, hr_offset=hr_offset):
            return None
    if not sent_again and published is not None:
        # An earlier attempt's publish failed here, perhaps only by timing out: it may have
        # landed all the same. Read the topic up to now before deciding on this copy.
        if recent is not None and recent.unsure(event) and not await published.sync():
            raise BrokerUnavailable()
        if published.has_event(event.subject, event.id):
            COPIES_SKIPPED.inc()  # a plain second record of an event published already
            if recent is not None:
                recent.handled(event)
            return None

    async def publishing(enriched: UserEnriched) -> None:
        try:
            await publish(enriched)
        except BaseException:
            if recent is not None:
                recent.publish_failed(event)
            raise

    done = await _enrich(
        event,
        okta=okta,
        publish=publishing,
        hr_offset=hr_offset,
        not_found_retry_s=not_found_retry_s,
        erased=erased,
        sync_erasures=sync_erasures,
        published=published or _NothingPublished(),
        found=found,
    )
    # Final only now: a failure raises above, and the runner retries or dead-letters it.
    if recent is not None:
        recent.handled(event)
    return done


async def _enrich(
    event: HrUserUpserted,
    *,
    okta: Okta,
    publish: Publish,
    hr_offset: int,
    not_found_retry_s: float,
    erased: Erased,
    sync_erasures: SyncErasures,
    published: Published,
    found: Found | None = None,
) -> EnrichedUser | None:
    if erased(event.subject, event.time):
        ERASED_SKIPPED.inc()
        return None
    version = version_of(event.time, hr_offset)
    if not published.is_newer(event.subject, version):
        STALE_SKIPPED.inc()  # a newer state is out already: no Okta calls for this one
        return None
    # A failure raises before `publish`, so no partial result goes out.
    data = await enriched_user(event.data, okta=okta, not_found_retry_s=not_found_retry_s)
    enriched = UserEnriched.of(
        source=SOURCE,
        subject=event.subject,
        # The HR event's time orders the enriched events: newer HR data wins downstream.
        time=event.time,
        data=data,
        # CloudEvents extension attributes: which HR event this is, and its place on the
        # HR topic, so the read model can order two events with the same time.
        hreventid=event.id,
        hroffset=str(hr_offset),
    )
    if found is not None:
        await found(data)
    # Asked again, with every erasure written so far read first: it may have come while
    # Okta was asked, and publishing now would bring the person back after their
    # tombstone. `onboarding-ops erase` writes the tombstone only once a publish that passed
    # this check has landed.
    if not await sync_erasures():
        raise BrokerUnavailable()
    if erased(event.subject, event.time):
        ERASED_SKIPPED.inc()
        return None
    if not published.is_newer(event.subject, version):
        STALE_SKIPPED.inc()  # a newer state went out while Okta was asked
        return None
    await publish(enriched)  # nothing awaited between the checks and handing it over
    published.record(event.subject, version, event.id)
    return data
