from __future__ import annotations

from onboarding_runtime.logging import configure_logging
from onboarding_runtime.serve import serve

from ingest_service.app import create_app
from ingest_service.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("ingest-service", log_format=settings.log_format, level=settings.log_level)
    serve(create_app(settings), host=settings.host, port=settings.ingest_port)


if __name__ == "__main__":
    main()
