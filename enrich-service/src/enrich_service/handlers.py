"""`hr.user.upserted` in, `user.enriched` out: Okta lookup and the contract's mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from onboarding_events import (
    USER_ENRICHED,
    EnrichedUser,
    HrUser,
    HrUserUpserted,
    UserEnriched,
    is_onboarded,
    unique_in_order,
)

from enrich_service.okta import Okta
from enrich_service.okta_models import OktaAppLink, OktaGroup, OktaUser

SOURCE = "urn:onboarding:enrich-service"

Publish = Callable[[UserEnriched], Awaitable[None]]


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


async def on_hr_user_upserted(
    event: HrUserUpserted, *, okta: Okta, publish: Publish, hr_offset: int
) -> None:
    account = await okta.find_user_by_email(event.data.email)
    # Both must succeed: a gather that raises publishes nothing, so no partial result.
    groups, apps = await asyncio.gather(okta.groups(account.id), okta.app_links(account.id))
    enriched = UserEnriched(
        source=SOURCE,
        type=USER_ENRICHED,
        subject=event.subject,
        # The HR event's time orders the enriched events: newer HR data wins downstream.
        time=event.time,
        data=to_enriched(event.data, account, groups, apps),
        # CloudEvents extension attributes: which HR event this is, and its place on the
        # HR topic, so the read model can order two events with the same time.
        hreventid=event.id,
        hroffset=str(hr_offset),
    )
    await publish(enriched)
