"""`import FILE`: HR records from a file, through ingest-service's batch endpoint, resumable.

Batches go one at a time, in the file's order (an employee's later row is sent after their
earlier one). After each batch is answered for good, its rejected rows (the endpoint's
`422`s and the rows that could not be sent at all) are appended to the rejected file and
flushed, then the state file records the batch as done. A run cut short anywhere is resumed
by running it again: finished batches are skipped, the batch in flight is sent again under
the same `webhook-id`, and ingest-service writes none of its records twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onboarding_ops.errors import BadArgument, OpsError
from onboarding_ops.gateway import MAX_BATCH_RECORDS, IngestGateway, batches
from onboarding_ops.hr_file import HrFile, inspect, rows
from onboarding_ops.import_state import ImportState, load_state, save_state
from onboarding_ops.progress import Tracker

Rejection = tuple[int, Any, list[dict[str, Any]]]  # line, row as given, reasons


@dataclass(frozen=True)
class ImportPlan:
    """What the command line asked for, checked before anything is sent."""

    source: HrFile
    state_path: Path
    rejected_path: Path
    state: ImportState  # where this run starts: new, or as an earlier run left it


@dataclass(frozen=True)
class ImportSummary:
    file: Path
    read: int  # rows of the file (blank lines and the CSV header aside)
    accepted: int
    rejected: int
    already: int  # rows of batches an earlier run finished (in `accepted` and `rejected` too)
    rejected_path: Path


def plan_import(
    path: Path,
    format_name: str | None,
    state_path: Path | None,
    rejected_path: Path | None,
    batch_size: int | None,
) -> ImportPlan:
    if batch_size is not None and not 1 <= batch_size <= MAX_BATCH_RECORDS:
        raise BadArgument(f"--batch-size {batch_size}: a batch holds 1 to 1,000 records")
    source = inspect(path, format_name)
    state_path = state_path or Path(f"{path}.import-state")
    rejected_path = rejected_path or Path(f"{path}.rejected.jsonl")
    for name, output in (("--state", state_path), ("--rejected", rejected_path)):
        if output.resolve() == path.resolve():
            raise BadArgument(f"{name} {output} is the file to import")
        if not output.parent.is_dir():
            raise BadArgument(f"{name} {output}: the folder {output.parent} does not exist")
    if state_path.resolve() == rejected_path.resolve():
        raise BadArgument("--state and --rejected name the same file")
    state = load_state(state_path)
    if state is None:
        state = ImportState(source.sha256, batch_size or MAX_BATCH_RECORDS)
    elif state.sha256 != source.sha256:
        raise BadArgument(
            f"{path} changed since the import recorded in {state_path}: delete {state_path} "
            "to import the file as it is now (rows sent before are sent again)"
        )
    elif batch_size is not None and batch_size != state.batch_size:
        raise BadArgument(
            f"{state_path} records an import with --batch-size {state.batch_size}: resume it "
            "with that size (or without --batch-size)"
        )
    return ImportPlan(source, state_path, rejected_path, state)


async def run_import(plan: ImportPlan, gateway: IngestGateway, tracker: Tracker) -> ImportSummary:
    state, already = plan.state, 0
    tracker.begin(f"import {plan.source.path.name}", plan.source.rows_estimate)
    rejected = RejectedFile(plan.rejected_path, state.rejected_bytes)
    for batch in batches(rows(plan.source), state.batch_size):
        if batch.index < plan.state.batches_done:
            already += batch.rows
            tracker.advance(batch.rows)
            continue
        results = await gateway.send(batch, state.webhook_id(batch.index)) if batch.records else []
        refused: list[Rejection] = [(u.line, u.given, u.reasons) for u in batch.unreadable]
        refused += [
            (record.line, record.given, result.get("errors", []))
            for record, result in zip(batch.records, results, strict=True)
            if result["status"] == 422
        ]
        accepted = sum(result["status"] == 202 for result in results)
        size = rejected.append(sorted(refused, key=lambda r: r[0]))
        state = state.after(batch.rows, accepted, len(refused), size)
        try:
            save_state(plan.state_path, state)
        except OSError as exc:
            raise OpsError(f"cannot write {plan.state_path}: {exc.strerror or exc}") from None
        tracker.advance(batch.rows)
    return ImportSummary(
        plan.source.path, state.rows_done, state.accepted, state.rejected, already, rejected.path
    )


class RejectedFile:
    """JSON lines `{"line", "row", "reasons"}`, created (owner-only: rows hold personal
    data) with the first rejected row; cut back to what the state counts."""

    def __init__(self, path: Path, keep_bytes: int) -> None:
        self.path, self._size = path, keep_bytes
        try:
            if keep_bytes == 0:
                path.unlink(missing_ok=True)
            elif path.stat().st_size > keep_bytes:
                os.truncate(path, keep_bytes)
        except FileNotFoundError:
            pass  # moved away since: the earlier rows went with it
        except OSError as exc:
            raise OpsError(f"cannot write {path}: {exc.strerror or exc}") from None

    def append(self, rejections: Iterable[Rejection]) -> int:
        """Written and flushed to disk; the file's size after them."""
        lines = [
            json.dumps({"line": line, "row": given, "reasons": reasons}, ensure_ascii=False) + "\n"
            for line, given, reasons in rejections
        ]
        if not lines:
            return self._size
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as out:
                out.writelines(lines)
                out.flush()
                os.fsync(out.fileno())
                self._size = os.fstat(out.fileno()).st_size
        except OSError as exc:
            raise OpsError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return self._size
