"""The ledger: every answer the webhook gave during the run, and what each delivery ended as.

An `Attempt` is one HTTP request (its status, or the kind of error when there was no
answer); a `Delivery` is one send of a `webhook-id` with all its retries (`copy` 0 is the
first send, 1 the planned redelivery). Written as JSON lines so a run can be checked again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

# Why an attempt had no HTTP answer.
ErrorKind = Literal["timeout", "connect", "dropped", "other"]
# How a delivery ended: a 202, a permanent refusal (4xx other than 429), or out of time.
DeliveryEnd = Literal["accepted", "refused", "gave_up"]

# What the webhook may answer under faults (the contract: never a 500).
CONTRACT_STATUSES = frozenset({202, 429, 503})


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    employee_id: str
    version: int
    copy: int
    attempt: int  # 1 for the first request of this send
    replica: str  # the ingest base URL
    status: int | None  # the HTTP status; None when there was no answer
    error: ErrorKind | None
    event_id: str | None  # from a 202
    retry_after_s: float | None
    started_at: datetime
    ended_at: datetime

    @property
    def outcome(self) -> str:
        """`202`, `503`, ... or the error kind."""
        return str(self.status) if self.status is not None else str(self.error)


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    employee_id: str
    version: int
    copy: int
    end: DeliveryEnd
    event_id: str | None
    attempts: int
    started_at: datetime
    ended_at: datetime


@dataclass
class Ledger:
    attempts: list[Attempt] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def record_attempt(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)

    def record_delivery(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)

    def outcome_counts(self) -> dict[str, int]:
        """Attempts per answer: `{"202": 15, "503": 2, "timeout": 1}`."""
        return dict(sorted(Counter(a.outcome for a in self.attempts).items()))

    def off_contract(self) -> list[Attempt]:
        """Answers the webhook must never give under faults (a 500, a 4xx other than 429)."""
        return [
            a for a in self.attempts if a.status is not None and a.status not in CONTRACT_STATUSES
        ]

    def event_ids(self) -> dict[str, list[str]]:
        """delivery id -> every `event_id` its 202s carried, in order (one, if all is well)."""
        found: dict[str, list[str]] = {}
        for a in self.attempts:
            if a.status == 202 and a.event_id is not None:
                found.setdefault(a.delivery_id, []).append(a.event_id)
        return found

    def accepted(self) -> dict[str, str]:
        """delivery id -> the event id of its first 202."""
        return {delivery_id: ids[0] for delivery_id, ids in self.event_ids().items()}

    def first_tried(self) -> dict[str, datetime]:
        """delivery id -> when its first request started."""
        found: dict[str, datetime] = {}
        for a in self.attempts:
            if a.delivery_id not in found or a.started_at < found[a.delivery_id]:
                found[a.delivery_id] = a.started_at
        return found

    def write_jsonl(self, path: Path) -> None:
        lines = [_line("attempt", a) for a in self.attempts]
        lines += [_line("delivery", d) for d in self.deliveries]
        path.write_text("".join(lines))

    @classmethod
    def read_jsonl(cls, path: Path) -> Ledger:
        return cls.from_lines(path.read_text().splitlines())

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Ledger:
        ledger = cls()
        for line in lines:
            if not line.strip():
                continue
            row: dict[str, Any] = json.loads(line)
            kind = row.pop("kind")
            row["started_at"] = datetime.fromisoformat(row["started_at"])
            row["ended_at"] = datetime.fromisoformat(row["ended_at"])
            if kind == "attempt":
                ledger.record_attempt(Attempt(**row))
            else:
                ledger.record_delivery(Delivery(**row))
        return ledger


def _line(kind: str, record: Attempt | Delivery) -> str:
    row = {"kind": kind, **asdict(record)}
    row["started_at"] = record.started_at.isoformat()
    row["ended_at"] = record.ended_at.isoformat()
    return json.dumps(row) + "\n"
