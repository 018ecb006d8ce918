"""The ledger run's report: one table as Markdown and the same as JSON.

What was sent and accepted, the four zeros (lost, regressed, duplicated, resurrected) and
the other violations, what is reported without failing (the verdict line names the
employees still waiting on a retry tier: not lost), the webhook's answers, and per
fault: its window, how long ingest's readiness answered 503 (or nothing) during it, how
many webhook requests were answered 503 during it, and how long after it every service was
ready again (within `RECOVERY_LIMIT_S`, or the run fails).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.chaos.checker import CheckResult
from tests.chaos.ledger import Ledger
from tests.chaos.plan import Plan
from tests.chaos.readiness import (
    EpochWindow,
    FaultWindow,
    ReadinessSample,
    as_window,
    said_unready,
    time_to_recover,
    unready_seconds,
)
from tests.chaos.verdict import NOTICE_KINDS, VIOLATION_KINDS

EXAMPLES = 20  # violations listed by name in the report
# Every service ready again this soon after each fault ended, or the run fails.
RECOVERY_LIMIT_S = 60.0

_LABELS = {
    "lost": "**lost**",
    "regressed": "**regressed**",
    "duplicated": "**duplicated**",
    "resurrected": "**resurrected**",
    "outcome": "wrong outcome",
    "off_contract": "webhook answers other than 202/429/503",
    "pii": "ids or emails in logs",
    "unverified": "unverified (query API answered other than 200/404)",
}


@dataclass(frozen=True)
class FaultRow:
    name: str
    start: str
    end: str
    ingest_503_s: float
    ingest_no_answer_s: float
    webhook_503s: int
    recovered_after_s: float | None  # None: not every service was seen ready again
    said_unready: tuple[str, ...] = ()  # replicas that answered 503 during it, and why


@dataclass(frozen=True)
class RunReport:
    run_tag: str
    passed: bool
    slow_recoveries: tuple[str, ...]  # faults after which a service was not ready in time
    employees: int
    events_planned: int
    events_sent: int  # employee versions with at least one request
    deliveries: int  # sends, redeliveries included
    requests: int  # HTTP requests, retries included
    events_accepted: int
    violations: dict[str, int]
    reported: dict[str, int]
    answers: dict[str, int]
    outcomes: dict[str, int]
    faults: tuple[FaultRow, ...]
    examples: tuple[str, ...]  # the first violations, `kind/rule employee: detail`


def build_report(
    plan: Plan,
    ledger: Ledger,
    result: CheckResult,
    *,
    samples: Sequence[ReadinessSample] = (),
    faults: Sequence[FaultWindow | EpochWindow] = (),
    ingest_readyz: Sequence[str] = (),
    all_readyz: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
) -> RunReport:
    """`ingest_readyz`: the ingest replicas' readiness URLs; `all_readyz`: every service's
    (recovery waits for all of them; by default every URL sampled); `names`: readiness URL
    -> replica name, for saying which answered 503 during each fault. A fault window is a
    `FaultWindow` or anything with `name`, `started`, `ended` (epoch seconds)."""
    every = list(all_readyz) if all_readyz is not None else sorted({s.url for s in samples})
    rows = []
    for fault in map(as_window, faults):
        unready = unready_seconds(samples, ingest_readyz, fault.start, fault.end)
        rows.append(
            FaultRow(
                fault.name,
                fault.start.isoformat(),
                fault.end.isoformat(),
                round(unready.answered_503_s, 2),
                round(unready.no_answer_s, 2),
                sum(
                    1
                    for a in ledger.attempts
                    if a.status == 503 and fault.start <= a.started_at <= fault.end
                ),
                _rounded(time_to_recover(samples, every, fault.end)),
                said_unready(samples, names or {}, fault.start, fault.end),
            )
        )
    slow = [
        r.name
        for r in rows
        if r.recovered_after_s is None or r.recovered_after_s > RECOVERY_LIMIT_S
    ]
    return RunReport(
        run_tag=plan.run_tag,
        passed=result.ok and not slow,
        slow_recoveries=tuple(slow),
        employees=len(plan),
        events_planned=plan.versions_total,
        events_sent=len({(a.employee_id, a.version) for a in ledger.attempts}),
        deliveries=len({(a.delivery_id, a.copy) for a in ledger.attempts}),
        requests=len(ledger.attempts),
        events_accepted=result.events_accepted,
        violations={kind: result.count(kind) for kind in VIOLATION_KINDS},
        reported={kind: result.noticed(kind) for kind in NOTICE_KINDS},
        answers=ledger.outcome_counts(),
        outcomes=dict(result.outcomes),
        faults=tuple(rows),
        examples=tuple(
            f"{v.kind}/{v.rule} {v.employee_id or '-'}: {v.detail}"
            for v in result.violations[:EXAMPLES]
        ),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def to_json(report: RunReport) -> str:
    body: dict[str, Any] = asdict(report)
    return json.dumps(body, indent=2) + "\n"


def to_markdown(report: RunReport) -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    if waiting := report.reported.get("waiting", 0):
        verdict += f", {waiting} still waiting on a retry tier (not lost)"
    lines = [
        f"# Ledger run `{report.run_tag}`: {verdict}",
        "",
        "| measure | count |",
        "|---|---:|",
        f"| employees | {report.employees} |",
        f"| events planned | {report.events_planned} |",
        f"| events sent | {report.events_sent} |",
        f"| deliveries (with redeliveries) | {report.deliveries} |",
        f"| requests (with retries) | {report.requests} |",
        f"| events accepted | {report.events_accepted} |",
        *(f"| {_LABELS[kind]} | {n} |" for kind, n in report.violations.items()),
        "",
        "Reported, not failed:",
        "",
        *_table(("notice", "count"), [(k, str(n)) for k, n in report.reported.items()]),
        "",
        "Webhook answers:",
        "",
        *_table(("answer", "requests"), [(k, str(n)) for k, n in report.answers.items()]),
        "",
        "Expected outcomes:",
        "",
        *_table(("outcome", "employees"), [(k, str(n)) for k, n in report.outcomes.items()]),
    ]
    if report.faults:
        header = (
            "fault",
            "start",
            "end",
            "ingest readiness 503 (s)",
            "ingest no answer (s)",
            "webhook 503s",
            "all ready after end (s)",
            "503 from (checks named)",
        )
        rows = [
            (
                f.name,
                f.start,
                f.end,
                f"{f.ingest_503_s:.2f}",
                f"{f.ingest_no_answer_s:.2f}",
                str(f.webhook_503s),
                "not recovered" if f.recovered_after_s is None else f"{f.recovered_after_s:.2f}",
                "; ".join(f.said_unready) or "-",
            )
            for f in report.faults
        ]
        lines += ["", "Faults:", "", *_table(header, rows)]
    if report.slow_recoveries:
        lines += [
            "",
            f"Not every service ready again within {RECOVERY_LIMIT_S:.0f} s after:",
            "",
            *(f"- {name}" for name in report.slow_recoveries),
        ]
    if report.examples:
        lines += ["", "Violations (first ones):", "", *(f"- {e}" for e in report.examples)]
    return "\n".join(lines) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def write_report(report: RunReport, path: Path) -> tuple[Path, Path]:
    """The Markdown to `path`, the JSON beside it (`.json`); returns both paths."""
    path.parent.mkdir(parents=True, exist_ok=True)
    markdown = path if path.suffix != ".json" else path.with_suffix(".md")
    json_path = markdown.with_suffix(".json")
    markdown.write_text(to_markdown(report))
    json_path.write_text(to_json(report))
    return markdown, json_path
