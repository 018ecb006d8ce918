"""Render org records as Okta's JSON objects, with absolute links on the request's base URL."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from pydantic import JsonValue

from okta_simulator.models import (
    AppLink,
    AuthenticationProvider,
    CredentialEmail,
    Group,
    GroupProfile,
    GroupType,
    HrefObject,
    PasswordCredential,
    User,
    UserCredentials,
    UserStatus,
    UserType,
)
from okta_simulator.org import NEVER_ACTIVATED, AppLinkRecord, GroupRecord, Org, UserRecord

_LIFECYCLE: dict[str, str] = {
    "activate": "lifecycle/activate",
    "reactivate": "lifecycle/reactivate",
    "deactivate": "lifecycle/deactivate",
    "suspend": "lifecycle/suspend",
    "unsuspend": "lifecycle/unsuspend",
    "unlock": "lifecycle/unlock",
    "resetPassword": "lifecycle/reset_password",
    "expirePassword": "lifecycle/expire_password",
    "resetFactors": "lifecycle/reset_factors",
    "forgotPassword": "credentials/forgot_password",
    "changePassword": "credentials/change_password",
    "changeRecoveryQuestion": "credentials/change_recovery_question",
}
_PASSWORD_LINKS = ["resetPassword", "expirePassword", "forgotPassword", "changePassword"]
_LINKS_BY_STATUS: dict[UserStatus, list[str]] = {
    "ACTIVE": ["suspend", *_PASSWORD_LINKS, "changeRecoveryQuestion", "resetFactors", "deactivate"],
    "STAGED": ["activate", "deactivate"],
    "PROVISIONED": ["reactivate", "deactivate"],
    "SUSPENDED": ["unsuspend", "deactivate"],
    "DEPROVISIONED": ["activate"],
    "LOCKED_OUT": ["unlock", *_PASSWORD_LINKS, "deactivate"],
    "PASSWORD_EXPIRED": ["resetPassword", "deactivate"],
    "RECOVERY": ["resetPassword", "deactivate"],
}


@functools.lru_cache(maxsize=4096)  # the same few timestamps are rendered again and again
def okta_time(moment: datetime) -> str:
    """Okta's timestamp format: UTC with milliseconds, e.g. `2013-06-24T16:39:18.000Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _maybe_time(moment: datetime | None) -> str | None:
    return okta_time(moment) if moment is not None else None


def _user_links(user: UserRecord, org: Org, base: str, *, full: bool) -> dict[str, HrefObject]:
    href = f"{base}/api/v1/users/{user.id}"
    if not full:  # collections carry only `self`, as Okta documents
        return {"self": HrefObject(href=href)}
    links = {
        name: HrefObject(href=f"{href}/{_LIFECYCLE[name]}", method="POST")
        for name in _LINKS_BY_STATUS[user.status]
    }
    links["schema"] = HrefObject(href=f"{base}/api/v1/meta/schemas/user/{org.user_schema_id}")
    links["type"] = HrefObject(href=f"{base}/api/v1/meta/types/user/{org.user_type_id}")
    links["self"] = HrefObject(href=href)
    return links


def user_view(user: UserRecord, org: Org, base: str, *, full: bool = False) -> User:
    activated = user.status not in NEVER_ACTIVATED
    email: JsonValue = user.profile.get("email")
    credentials = UserCredentials(
        password=PasswordCredential() if activated else None,
        emails=[
            CredentialEmail(
                value=str(email), status="VERIFIED" if activated else "UNVERIFIED", type="PRIMARY"
            )
        ],
        provider=AuthenticationProvider(type=user.provider, name=user.provider),
    )
    return User(
        id=user.id,
        status=user.status,
        created=okta_time(user.created),
        activated=_maybe_time(user.activated),
        statusChanged=_maybe_time(user.status_changed),
        lastLogin=_maybe_time(user.last_login),
        lastUpdated=okta_time(user.last_updated),
        passwordChanged=_maybe_time(user.password_changed),
        type=UserType(id=org.user_type_id),
        profile=dict(user.profile),
        credentials=credentials,
        links=_user_links(user, org, base, full=full),
    )


def group_json(group: GroupRecord, base: str) -> bytes:
    """A group as Okta renders it, in JSON. The same few groups are listed for every user:
    cached, keyed by every value shown (a record changes, so never by the record itself)."""
    return _group_json(
        group.id,
        group.name,
        group.description,
        group.type,
        group.created,
        group.last_membership_updated,
        base,
    )


@functools.lru_cache(maxsize=4096)
def _group_json(
    group_id: str,
    name: str,
    description: str | None,
    kind: GroupType,
    created: datetime,
    last_membership_updated: datetime,
    base: str,
) -> bytes:
    view = _group(group_id, name, description, kind, created, last_membership_updated, base)
    return view.model_dump_json().encode()


def _group(
    group_id: str,
    name: str,
    description: str | None,
    kind: GroupType,
    created: datetime,
    last_membership_updated: datetime,
    base: str,
) -> Group:
    logo = f"{base}/assets/img/logos/groups/odyssey/okta"
    return Group(
        id=group_id,
        created=okta_time(created),
        lastUpdated=okta_time(created),
        lastMembershipUpdated=okta_time(last_membership_updated),
        objectClass=["okta:user_group"],
        type=kind,
        profile=GroupProfile(name=name, description=description),
        links={
            "logo": [
                HrefObject(name="medium", href=f"{logo}-medium.png", type="image/png"),
                HrefObject(name="large", href=f"{logo}-large.png", type="image/png"),
            ],
            "users": HrefObject(href=f"{base}/api/v1/groups/{group_id}/users"),
            "apps": HrefObject(href=f"{base}/api/v1/groups/{group_id}/apps"),
        },
    )


def app_link_view(user: UserRecord, link: AppLinkRecord, sort_order: int, base: str) -> AppLink:
    app = link.app
    return AppLink(
        id=user.id,  # Okta's appLinks carry the user's id here (see its ListAppLinks example)
        label=app.label,
        linkUrl=f"{base}/home/{app.app_name}/{app.instance_id}/{app.link_number}",
        logoUrl=f"{base}/img/logos/{app.app_name}.png",
        appName=app.app_name,
        appInstanceId=app.instance_id,
        appAssignmentId=link.assignment_id,
        credentialsSetup=link.credentials_setup,
        hidden=link.hidden,
        sortOrder=sort_order,
    )
