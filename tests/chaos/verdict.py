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

NoticeKind = Literal[
    "hr_rewrite", "re_enrichment", "accepted_without_202", "gave_up", "refused", "unreadable"
]
NOTICE_KINDS: tuple[NoticeKind, ...] = (
    "hr_rewrite",
    "re_enrichment",
    "accepted_without_202",
    "gave_up",
    "refused",
    "unreadable",
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
