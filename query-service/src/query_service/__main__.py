from __future__ import annotations

from onboarding_runtime.logging import configure_logging
from onboarding_runtime.serve import serve
from onboarding_runtime.settings import load_settings

from query_service.app import create_app
from query_service.settings import Settings


def main() -> None:
    settings = load_settings(Settings, "query-service")
    configure_logging("query-service", log_format=settings.log_format, level=settings.log_level)
    serve(create_app(settings), host=settings.host, port=settings.query_port)


if __name__ == "__main__":
    main()
