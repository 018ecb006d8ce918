"""Typed views of the parts of Okta's responses we read (Okta's schemas allow much more)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OktaUserProfile(_Lenient):
    email: str | None = None
    login: str | None = None


class OktaUser(_Lenient):
    id: str
    status: str
    profile: OktaUserProfile


class OktaGroupProfile(_Lenient):
    name: str


class OktaGroup(_Lenient):
    id: str
    profile: OktaGroupProfile


class OktaAppLink(_Lenient):
    label: str


class OktaError(_Lenient):
    errorCode: str | None = None
    errorSummary: str | None = None
