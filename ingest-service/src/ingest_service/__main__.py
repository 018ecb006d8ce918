from __future__ import annotations

from fastapi import FastAPI
from onboarding_runtime.logging import configure_logging
from onboarding_runtime.serve import exit_on_failure, serve_workers, tune_gc
from onboarding_runtime.settings import load_settings
from onboarding_runtime.supervision import Supervisor
from onboarding_runtime.tracing import configure_tracing

from ingest_service.app import create_app
from ingest_service.settings import Settings

# The supervisors of the apps built in this process (one: the only process, or a worker).
_supervisors: list[Supervisor] = []


def app() -> FastAPI:
    """The app of one serving process, with its own logging and clients. A background task
    that fails stops this process (SIGTERM to itself); uvicorn starts a new worker, and a
    single process exits 1 (`main`)."""
    settings = load_settings(Settings, "ingest-service")
    configure_logging("ingest-service", log_format=settings.log_format, level=settings.log_level)
    configure_tracing("ingest-service")  # per process: the exporter's thread is not forked
    built = create_app(settings)
    supervisor: Supervisor = built.state.supervisor
    exit_on_failure(supervisor)
    _supervisors.append(supervisor)
    tune_gc()
    return built


def main() -> None:
    settings = load_settings(Settings, "ingest-service")
    configure_logging("ingest-service", log_format=settings.log_format, level=settings.log_level)
    serve_workers(
        "ingest_service.__main__:app",
        host=settings.host,
        port=settings.ingest_port,
        workers=settings.ingest_workers,
    )
    if any(supervisor.failure for supervisor in _supervisors):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
