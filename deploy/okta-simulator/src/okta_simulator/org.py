"""The in-memory Okta org: users with their groups and app links.

Users are described by a `UserSpec` (the control API's body, also used by the seed) and
stored as `UserRecord`s in insertion order, which is the order the API lists them in.
Groups and apps are shared by name across users, so a group has one id in the whole org.
A user can be scheduled to appear later (`appears_after_seconds`: unknown everywhere until
then) or to reach the eventually consistent search index later (`searchable_after_seconds`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from okta_simulator.ids import new_id, stable_id
from okta_simulator.models import GroupType, ProviderType, UserStatus

NEVER_ACTIVATED: frozenset[UserStatus] = frozenset({"STAGED", "PROVISIONED"})
HAS_SIGNED_IN: frozenset[UserStatus] = frozenset(
    {"ACTIVE", "LOCKED_OUT", "PASSWORD_EXPIRED", "RECOVERY"}
)


class GroupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str | None = None
    type: GroupType = "OKTA_GROUP"


class AppLinkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    app_name: str | None = None  # Okta's `appName`; derived from the label when absent
    hidden: bool = False
    credentials_setup: bool = False


class UserSpec(BaseModel):
    """A user to add to the org, or to replace (same `id`, or same login)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=5, max_length=100, pattern=r"^[^@\s]+@[^@\s]+$")
    first_name: str = Field(min_length=1, max_length=50)
    last_name: str = Field(min_length=1, max_length=50)
    id: str | None = None
    login: str | None = None  # defaults to the email
    status: UserStatus = "ACTIVE"
    profile: dict[str, JsonValue] = Field(default_factory=dict)  # extra profile attributes
    groups: list[str | GroupSpec] = Field(default_factory=list)
    app_links: list[str | AppLinkSpec] = Field(default_factory=list)
    created: datetime | None = None  # defaults to now
    provider: ProviderType = "OKTA"
    appears_after_seconds: float = Field(default=0, ge=0)
    searchable_after_seconds: float = Field(default=0, ge=0)


@dataclass
class GroupRecord:
    id: str
    name: str
    description: str | None
    type: GroupType
    created: datetime
    last_membership_updated: datetime


@dataclass(frozen=True)
class AppRecord:
    instance_id: str
    app_name: str
    label: str
    link_number: int


@dataclass(frozen=True)
class AppLinkRecord:
    app: AppRecord
    assignment_id: str
    hidden: bool
    credentials_setup: bool


@dataclass
class UserRecord:
    id: str
    status: UserStatus
    profile: dict[str, JsonValue]
    provider: ProviderType
    created: datetime
    activated: datetime | None
    status_changed: datetime | None
    last_login: datetime | None
    password_changed: datetime | None
    last_updated: datetime
    groups: list[GroupRecord]
    app_links: list[AppLinkRecord]
    visible_at: float
    searchable_at: float

    @property
    def login(self) -> str:
        return str(self.profile["login"])


def _email_key(user: UserRecord) -> str:
    return str(user.profile.get("email") or "").casefold()


def _app_name(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "app"


@dataclass
class Org:
    user_type_id: str = stable_id("oty", "default")
    user_schema_id: str = stable_id("osc", "default")
    users: dict[str, UserRecord] = field(default_factory=dict)
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    apps: dict[str, AppRecord] = field(default_factory=dict)
    # Indexes over `users` (casefolded login -> id; casefolded email -> ids in list order),
    # kept by `put_user` and `remove_user`, so lookups do not scan a large org.
    _by_login: dict[str, str] = field(default_factory=dict, repr=False)
    _by_email: dict[str, dict[str, None]] = field(default_factory=dict, repr=False)

    def put_user(self, spec: UserSpec, now: float) -> tuple[UserRecord, bool]:
        """Add the user, or replace the one with the same id or login. True when added."""
        login = spec.login or spec.email
        same_login = self.find_by_login(login)
        replaced = {u.id for u in (self.users.get(spec.id or ""), same_login) if u is not None}
        for old_id in replaced:
            self.remove_user(old_id)
        user_id = spec.id or (same_login.id if same_login else new_id("00u"))
        record = self._record(user_id, login, spec, datetime.fromtimestamp(now, UTC))
        record.visible_at = now + spec.appears_after_seconds
        record.searchable_at = record.visible_at + spec.searchable_after_seconds
        self.users[user_id] = record
        self._by_login[login.casefold()] = user_id
        self._by_email.setdefault(_email_key(record), {})[user_id] = None
        return record, not replaced

    def remove_user(self, user_id: str) -> bool:
        record = self.users.pop(user_id, None)
        if record is None:
            return False
        if self._by_login.get(record.login.casefold()) == user_id:
            del self._by_login[record.login.casefold()]
        same_email = self._by_email.get(_email_key(record), {})
        same_email.pop(user_id, None)
        if not same_email:
            self._by_email.pop(_email_key(record), None)
        return True

    def find_by_login(self, login: str) -> UserRecord | None:
        user_id = self._by_login.get(login.casefold())
        return self.users.get(user_id) if user_id is not None else None

    def with_email(self, email: str) -> list[UserRecord]:
        """Every user whose profile email is `email` (case-insensitively), in list order."""
        return [self.users[user_id] for user_id in self._by_email.get(email.casefold(), {})]

    def visible(self, now: float) -> Iterator[UserRecord]:
        return (user for user in self.users.values() if user.visible_at <= now)

    def get(self, key: str, now: float) -> UserRecord | None:
        """Okta's lookup: by id, by login, or by unambiguous login short name."""
        by_id = self.users.get(key)
        if by_id is not None and by_id.visible_at <= now:
            return by_id  # ids are unique and win over logins: no need to look further
        users = list(self.visible(now))
        wanted = key.casefold()
        exact = [u for u in users if u.id == key] or [
            u for u in users if u.login.casefold() == wanted
        ]
        if exact:
            return exact[0]
        short = [u for u in users if u.login.split("@")[0].casefold() == wanted]
        return short[0] if len(short) == 1 else None

    def searchable(
        self,
        now: float,
        keep: Callable[[UserRecord], bool],
        among: Iterable[UserRecord] | None = None,
    ) -> list[UserRecord]:
        """Users in the search index matching `keep`; `among` narrows the candidates."""
        candidates = self.users.values() if among is None else among
        return [
            user
            for user in candidates
            if user.visible_at <= now and user.searchable_at <= now and keep(user)
        ]

    def _record(self, user_id: str, login: str, spec: UserSpec, now: datetime) -> UserRecord:
        created = spec.created.astimezone(UTC) if spec.created else now
        ever_active = spec.status not in NEVER_ACTIVATED
        activated = created + timedelta(seconds=1) if ever_active else None
        changed = {"ACTIVE": activated, "STAGED": None, "PROVISIONED": None}.get(
            spec.status, created + timedelta(days=1)
        )
        signed_in = created + timedelta(hours=1) if spec.status in HAS_SIGNED_IN else None
        profile: dict[str, JsonValue] = {
            "firstName": spec.first_name,
            "lastName": spec.last_name,
            "mobilePhone": None,
            "secondEmail": None,
            "login": login,
            "email": spec.email,
            **spec.profile,
        }
        stamps = [d for d in (created, activated, changed, signed_in) if d is not None]
        return UserRecord(
            id=user_id,
            status=spec.status,
            profile=profile,
            provider=spec.provider,
            created=created,
            activated=activated,
            status_changed=changed,
            last_login=signed_in,
            password_changed=activated,
            last_updated=max(stamps),
            groups=list({g.id: g for g in (self._group(s, created) for s in spec.groups)}.values()),
            app_links=[self._app_link(user_id, a) for a in spec.app_links],
            visible_at=0.0,
            searchable_at=0.0,
        )

    def _group(self, spec: str | GroupSpec, since: datetime) -> GroupRecord:
        spec = GroupSpec(name=spec) if isinstance(spec, str) else spec
        group = self.groups.get(spec.name)
        if group is None:
            group = GroupRecord(
                id=stable_id("00g", spec.name),
                name=spec.name,
                description=spec.description,
                type=spec.type,
                created=since,
                last_membership_updated=since,
            )
            self.groups[spec.name] = group
        group.last_membership_updated = max(group.last_membership_updated, since)
        return group

    def _app_link(self, user_id: str, spec: str | AppLinkSpec) -> AppLinkRecord:
        spec = AppLinkSpec(label=spec) if isinstance(spec, str) else spec
        app = self.apps.get(spec.label)
        if app is None:
            app = AppRecord(
                instance_id=stable_id("0oa", spec.label),
                app_name=spec.app_name or _app_name(spec.label),
                label=spec.label,
                link_number=46 + len(self.apps),
            )
            self.apps[spec.label] = app
        return AppLinkRecord(
            app=app,
            assignment_id=stable_id("0ua", f"{user_id}:{app.instance_id}"),
            hidden=spec.hidden,
            credentials_setup=spec.credentials_setup,
        )
