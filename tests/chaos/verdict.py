"""What a check finds: violations (the run fails) and notices (reported, not failed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ViolationKind = Literal[
    "lost",
    "regressed",
    "duplicated",
    "resurrected",
    "outcome",
    "off_contract",
    "pii",
    "unverified",
]
VIOLATION_KINDS: tuple[ViolationKind, ...] = (
    "lost",
    "regressed",
    "duplicated",
    "resurrected",
    "outcome",
    "off_contract",
    "pii",
    "unverified",
)

# `waiting`: an employee whose newest event still waits at the end (on a retry tier, or
# written back to `hr.users.v1` from one) and is not overdue, so is neither enriched nor
# dead-lettered yet, and not lost: a violation too (`outcome`) when the person is in Okta by
# then, and the report's verdict names the count either way. Overdue, it is `lost`.
NoticeKind = Literal[
    "hr_rewrite",
    "re_enrichment",
    "accepted_without_202",
    "gave_up",
    "refused",
    "unreadable",
    "waiting",
]
NOTICE_KINDS: tuple[NoticeKind, ...] = (
    "hr_rewrite",
    "re_enrichment",
    "accepted_without_202",
    "gave_up",
    "refused",
    "unreadable",
    "waiting",
)


@dataclass(frozen=True)
class Violation:
    kind: ViolationKind
    rule: str  # which check, e.g. `event_not_on_topic`
    employee_id: str | None
    detail: str


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    employee_id: str | None
    detail: str
