from __future__ import annotations

from fastapi import FastAPI
from onboarding_runtime.logging import configure_logging
from onboarding_runtime.serve import serve_workers, tune_gc
from onboarding_runtime.settings import load_settings

from ingest_service.app import create_app
from ingest_service.settings import Settings


def app() -> FastAPI:
    """The app of one serving process, with its own logging and clients."""
    settings = load_settings(Settings, "ingest-service")
    configure_logging("ingest-service", log_format=settings.log_format, level=settings.log_level)
    built = create_app(settings)
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


if __name__ == "__main__":
    main()
