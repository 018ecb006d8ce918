"""`onboarding-ops`: replay, rebuild, dead letters, erasure, topics and imports, for operators.

Each command reads the services' settings variables, does its work with a progress bar on
stderr, and ends with a summary on stdout. A failure is one message on stderr and exit
code 1 (the run failed) or 2 (the arguments or settings are wrong); `topics` exits 3 when
drift remains that only an operator can fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from aiokafka.errors import KafkaError
from onboarding_runtime.kafka import PublishError
from onboarding_runtime.logging import configure_logging
from onboarding_runtime.settings import SettingsFileError, settings_errors
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from onboarding_ops import commands, render
from onboarding_ops.arguments import check_employee_id, parse_since
from onboarding_ops.bootstrap import Ops
from onboarding_ops.bulk_import import plan_import
from onboarding_ops.console import err, out
from onboarding_ops.errors import BAD_ARGUMENT, NEEDS_OPERATOR, RUNTIME_FAILURE, OpsError
from onboarding_ops.settings import Settings

app = typer.Typer(
    name="onboarding-ops",
    help=(
        "Operate the onboarding platform: topics, replay, view rebuild, dead letters, erasure, "
        "bulk imports. Reads the services' settings variables (KAFKA_BOOTSTRAP_SERVERS, "
        "MONGODB_URL, PII_HASH_KEY, INGEST_URL, API_KEY, WEBHOOK_SECRET, LOG_FORMAT, ...)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
dlq_app = typer.Typer(help="Dead letters: HR events enrichment gave up on.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


@app.callback()
def main(ctx: typer.Context) -> None:
    if ctx.obj is not None:  # tests pass their own Ops
        return
    try:
        settings = Settings()
    except ValidationError as exc:
        reasons = "; ".join(settings_errors(exc))
        _fail(f"invalid settings: {reasons}", BAD_ARGUMENT)
    except SettingsFileError as exc:
        _fail(f"invalid settings: {exc}", BAD_ARGUMENT)
    configure_logging("onboarding-ops", log_format=settings.log_format, level=settings.log_level)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)  # stdout is for results
    ctx.obj = Ops(settings)


def _fail(message: str, code: int) -> NoReturn:
    err().print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Every failure of a command becomes one message and an exit code."""
    try:
        yield
    except OpsError as exc:
        _fail(str(exc), exc.exit_code)
    except (PublishError, KafkaError) as exc:
        _fail(f"Kafka failed: {exc or type(exc).__name__}", RUNTIME_FAILURE)
    except PyMongoError as exc:
        _fail(f"MongoDB failed: {type(exc).__name__}", RUNTIME_FAILURE)
    except KeyboardInterrupt:
        _fail("interrupted; running the command again is safe", RUNTIME_FAILURE)


@app.command()
def topics(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Only report drift; change nothing; exit 1 on drift, 3 if an operator must act.",
        ),
    ] = False,
) -> None:
    """Create the missing topics and fix configuration drift, idempotently. Never deletes.

    Replication factor (KAFKA_REPLICATION_FACTOR) and partition count drift are reported,
    never changed, and exit 3: an operator reassigns partitions (kafka-reassign-partitions).
    """
    with _errors():
        reports = asyncio.run(commands.topics(ctx.obj, fix=not check))
    render.topic_reports(out(), reports)
    if any(r.needs_operator for r in reports):
        raise typer.Exit(NEEDS_OPERATOR)
    if check and any(r.state != "ok" for r in reports):
        raise typer.Exit(RUNTIME_FAILURE)


@app.command()
def replay(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(
            "--since",
            help="'earliest', or an ISO 8601 time such as 2024-01-15T09:30:00Z (UTC if no zone).",
        ),
    ],
) -> None:
    """Enrich every HR event since a time again; the view follows. Safe while services run."""
    with _errors():
        summary = asyncio.run(commands.replay(ctx.obj, parse_since(since)))
    render.replay_summary(out(), summary)


@app.command("rebuild-view")
def rebuild_view(ctx: typer.Context) -> None:
    """Rebuild the users view from users.enriched.v1 into a new collection, then switch to it."""
    with _errors():
        summary = asyncio.run(commands.rebuild(ctx.obj))
    render.rebuild_summary(out(), summary)


@app.command()
def erase(
    ctx: typer.Context,
    employee_id: Annotated[str, typer.Argument(help="The employee to erase.")],
    force: Annotated[
        bool, typer.Option("--force", help="Erase even if the view does not know the id.")
    ] = False,
) -> None:
    """Erase a person: view, status view and enriched topic; no later replay brings them back."""
    with _errors():
        check_employee_id(employee_id)
        summary = asyncio.run(commands.erase(ctx.obj, employee_id, force=force))
    render.erase_summary(out(), employee_id, summary)


@dlq_app.command("list")
def dlq_list(
    ctx: typer.Context,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also show dead letters already redriven.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Dead letters waiting: employee, error code, message, attempts, when."""
    with _errors():
        found = asyncio.run(commands.dead_letters(ctx.obj))
    letters = [d for d in found.letters if show_all or not d.redriven]
    if as_json:
        render.dead_letters_json(out(), letters)
    else:
        render.dead_letters_table(out(), letters, found.hidden_erased)


@dlq_app.command("redrive")
def dlq_redrive(
    ctx: typer.Context,
    employee: Annotated[
        str | None, typer.Option("--employee", help="Only this employee's dead letters.")
    ] = None,
) -> None:
    """Send dead-lettered HR events back for enrichment (each once); failures return here."""
    with _errors():
        if employee is not None:
            check_employee_id(employee)
        summary = asyncio.run(commands.redrive(ctx.obj, employee))
    render.redrive_summary(out(), summary)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV whose header names HR fields (empty cell: field absent), or JSON lines.",
            show_default=False,
        ),
    ],
    format_name: Annotated[
        str | None,
        typer.Option("--format", help="csv or jsonl; default: from the extension."),
    ] = None,
    rejected: Annotated[
        Path | None,
        typer.Option(
            "--rejected",
            help="Where rejected rows go, with their reasons (JSON lines).",
            show_default="FILE.rejected.jsonl",
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Where progress is kept, to resume a run cut short.",
            show_default="FILE.import-state",
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            help="Records per request, 1 to 1,000 (a resumed import keeps its own).",
            show_default="1000",
        ),
    ] = None,
) -> None:
    """Send HR records from a file through ingest-service (INGEST_URL), in batches.

    Exit 0 once every record is answered, accepted or rejected (the summary counts both;
    rejected rows go to --rejected with their reasons); 1 if the run failed (run it again:
    it resumes, and writes nothing twice); 2 if the file or the options are wrong.
    """
    with _errors():
        plan = plan_import(file, format_name, state, rejected, batch_size)
        summary = asyncio.run(commands.import_file(ctx.obj, plan))
    render.import_summary(out(), summary)
