"""Summaries and tables for people, and JSON lines for scripts."""

from __future__ import annotations

import json

from onboarding_events import Waiting
from rich.console import Console
from rich.table import Table

from onboarding_ops.bulk_import import ImportSummary
from onboarding_ops.dead_letters import DeadLetter
from onboarding_ops.erase import EraseSummary
from onboarding_ops.rebuild import RebuildSummary
from onboarding_ops.reconcile import Kind, TopicReport
from onboarding_ops.redrive import RedriveSummary
from onboarding_ops.replay import ReplaySummary

# What the operator does about drift `topics` leaves alone (the README says more).
OPERATOR_STEPS: dict[Kind, str] = {
    "replication": (
        "replication factor: topics never moves replicas; reassign them with "
        "kafka-reassign-partitions (a plan, --execute with --throttle, --verify: see the "
        "onboarding-ops README), then run topics again"
    ),
    "partitions": (
        "partition count: left as is (more partitions move employees to other partitions and "
        "break their order; fewer is impossible); change the spec or recreate the topic"
    ),
}


def topic_reports(console: Console, reports: list[TopicReport]) -> None:
    table = Table("topic", "state", "details", title="Topics")
    for report in reports:
        table.add_row(report.name, report.state, "\n".join(report.details))
    console.print(table)
    counts = {s: sum(r.state == s for r in reports) for s in ("created", "fixed", "ok", "drift")}
    missing = sum(r.state == "missing" for r in reports)
    line = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    console.print(f"{len(reports)} topics: {line}" + (f", {missing} missing" if missing else ""))
    stuck = sum(r.needs_operator for r in reports)
    if stuck:
        console.print(f"needs an operator: {stuck} of {len(reports)} topics (exit 3)")
        kinds = {d.kind for r in reports for d in r.drifts if d.needs_operator}
        for kind, step in OPERATOR_STEPS.items():
            if kind in kinds:
                console.print(f"  {step}")


def replay_summary(console: Console, s: ReplaySummary) -> None:
    console.print(
        f"replay {s.replay_id}: {s.republished} HR events republished of {s.scanned} read; "
        f"skipped {s.skipped_copies} earlier replay copies, {s.skipped_duplicates} duplicates, "
        f"{s.skipped_erased} of erased employees, {s.unreadable} unreadable"
    )


def rebuild_summary(console: Console, s: RebuildSummary) -> None:
    console.print(
        f"view rebuilt into {s.collection} ({s.users} users from {s.records} records, "
        f"{s.erased_skipped} erased skipped); switched from {s.previous}, which was dropped"
    )


def erase_summary(console: Console, employee_id: str, s: EraseSummary) -> None:
    again = (
        f" (again; first erased {s.already_erased_at.isoformat()})" if s.already_erased_at else ""
    )
    console.print(
        f"erased employee {employee_id}{again} at {s.erased_at.isoformat()}: removed from the "
        f"view and the status view, tombstone sent, erasure recorded as {s.pseudonym}"
    )


def dead_letters_table(console: Console, letters: list[DeadLetter], hidden_erased: int) -> None:
    table = Table(
        "employee",
        "error code",
        "message",
        "attempts",
        "when",
        "waited",
        "redrives",
        title="Dead letters",
    )
    for d in letters:
        table.add_row(
            d.employee_id,
            d.code,
            d.message,
            "" if d.attempts is None else str(d.attempts),
            d.failed_at,
            _waited(d.waited),
            f"{d.redrives}" + (" (redriven)" if d.redriven else ""),
        )
    console.print(table)
    note = f"; {hidden_erased} of erased employees not shown" if hidden_erased else ""
    console.print(f"{len(letters)} dead letters{note}")


def dead_letters_json(console: Console, letters: list[DeadLetter]) -> None:
    for d in letters:
        row = {
            "employee_id": d.employee_id,
            "error_code": d.code,
            "message": d.message,
            "attempts": d.attempts,
            "failed_at": d.failed_at,
            "event_id": d.event_id,
            "redrives": d.redrives,
            "redriven": d.redriven,
            "dlq": d.mark,
            "waited": _waited_json(d.waited),
        }
        console.out(json.dumps(row), highlight=False)


def _waited(waited: Waiting | None) -> str:
    """Why and since when a dead letter from a retry tier waited (empty: it did not)."""
    if waited is None:
        return ""
    return f"{waited.reason} since {waited.first_attempt_at.isoformat(timespec='seconds')}"


def _waited_json(waited: Waiting | None) -> dict[str, object] | None:
    if waited is None:
        return None
    return {
        "reason": waited.reason,
        "tier": waited.tier,
        "first_attempt_at": waited.first_attempt_at.isoformat(),
        "wait_until": waited.wait_until.isoformat(),
    }


def redrive_summary(console: Console, s: RedriveSummary) -> None:
    if not s.waiting:
        console.print("nothing to redrive: no dead letter is waiting")
        return
    console.print(
        f"redrive {s.run_id}: {s.redriven} HR events sent back for {s.employees} employees "
        f"({s.waiting} dead letters marked redriven)"
    )


def import_summary(console: Console, s: ImportSummary) -> None:
    where = f" (rows and reasons in {s.rejected_path})" if s.rejected else ""
    earlier = f"; {s.already:,} of them sent by an earlier run" if s.already else ""
    console.print(
        f"import {s.file}: {s.read:,} records read, {s.accepted:,} accepted, "
        f"{s.rejected:,} rejected{where}{earlier}",
        markup=False,
        soft_wrap=True,
    )
