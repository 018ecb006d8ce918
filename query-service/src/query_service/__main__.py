from __future__ import annotations

from onboarding_runtime.logging import configure_logging
from onboarding_runtime.serve import serve
from onboarding_runtime.settings import load_settings
from onboarding_runtime.tracing import configure_tracing

from query_service.app import create_app
from query_service.settings import Settings


def main() -> None:
    settings = load_settings(Settings, "query-service")
    configure_logging("query-service", log_format=settings.log_format, level=settings.log_level)
    configure_tracing("query-service")
    app = create_app(settings)
    # A background task that fails stops the server: exit 1, so the process is restarted.
    raise SystemExit(
        serve(app, host=settings.host, port=settings.query_port, supervisor=app.state.supervisor)
    )


if __name__ == "__main__":
    main()
