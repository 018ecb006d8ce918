"""Okta's response shapes, as `okta-users-subset.openapi.yaml` names them.

Field names are Okta's (camelCase, `_links`); a model dumps to exactly the JSON Okta sends.
Fields Okta always sends are required even when null (`activated: null`); fields Okta
leaves out when unset derive from `Sparse`, which drops `None` values on output.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    model_serializer,
)

Endpoint = Literal["listUsers", "getUser", "listUserGroups", "listAppLinks"]
"""Okta's operationIds for the four operations; also the rate-limit buckets."""

ENDPOINTS: tuple[Endpoint, ...] = ("listUsers", "getUser", "listUserGroups", "listAppLinks")

UserStatus = Literal[
    "ACTIVE",
    "DEPROVISIONED",
    "LOCKED_OUT",
    "PASSWORD_EXPIRED",
    "PROVISIONED",
    "RECOVERY",
    "STAGED",
    "SUSPENDED",
]
GroupType = Literal["APP_GROUP", "BUILT_IN", "OKTA_GROUP"]
ProviderType = Literal["ACTIVE_DIRECTORY", "FEDERATION", "IMPORT", "LDAP", "OKTA", "SOCIAL"]


class OktaModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)


class Sparse(OktaModel):
    """An object whose unset (None) properties Okta omits rather than sends as null."""

    @model_serializer(mode="wrap")
    def _omit_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class HrefObject(Sparse):
    href: str
    name: str | None = None
    type: str | None = None
    method: str | None = None


class UserType(OktaModel):
    id: str


class PasswordCredential(OktaModel):
    """Okta shows that a password exists as `"password": {}`, never its value."""


class CredentialEmail(OktaModel):
    value: str
    status: Literal["VERIFIED", "UNVERIFIED"]
    type: Literal["PRIMARY", "SECONDARY"]


class AuthenticationProvider(OktaModel):
    type: ProviderType
    name: str


class UserCredentials(Sparse):
    password: PasswordCredential | None = None
    emails: list[CredentialEmail] | None = None
    provider: AuthenticationProvider


class User(OktaModel):
    id: str
    status: UserStatus
    created: str
    activated: str | None
    statusChanged: str | None
    lastLogin: str | None
    lastUpdated: str
    passwordChanged: str | None
    type: UserType
    profile: dict[str, JsonValue]
    credentials: UserCredentials
    links: dict[str, HrefObject] = Field(alias="_links")


class GroupProfile(Sparse):
    name: str
    description: str | None = None


class Group(OktaModel):
    id: str
    created: str
    lastUpdated: str
    lastMembershipUpdated: str
    objectClass: list[str]
    type: GroupType
    profile: GroupProfile
    links: dict[str, HrefObject | list[HrefObject]] = Field(alias="_links")


class AppLink(OktaModel):
    id: str
    label: str
    linkUrl: str
    logoUrl: str
    appName: str
    appInstanceId: str
    appAssignmentId: str
    credentialsSetup: bool
    hidden: bool
    sortOrder: int


class ErrorCause(OktaModel):
    errorSummary: str


class ErrorBody(OktaModel):
    errorCode: str
    errorSummary: str
    errorLink: str
    errorId: str
    errorCauses: list[ErrorCause]
