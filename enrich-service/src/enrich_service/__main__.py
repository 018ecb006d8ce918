from __future__ import annotations

from onboarding_runtime.logging import configure_logging
from onboarding_runtime.serve import serve
from onboarding_runtime.settings import load_settings
from onboarding_runtime.tracing import configure_tracing

from enrich_service.app import create_app
from enrich_service.settings import Settings


def main() -> None:
    settings = load_settings(Settings, "enrich-service")
    configure_logging("enrich-service", log_format=settings.log_format, level=settings.log_level)
    configure_tracing("enrich-service")
    app = create_app(settings)
    # A background task that fails stops the server: exit 1, so the process is restarted.
    raise SystemExit(
        serve(app, host=settings.host, port=settings.enrich_port, supervisor=app.state.supervisor)
    )


if __name__ == "__main__":
    main()
