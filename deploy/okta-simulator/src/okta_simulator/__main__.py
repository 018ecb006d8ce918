"""`okta-simulator`: read the settings once and serve the app with uvicorn."""

from __future__ import annotations

import uvicorn

from okta_simulator.app import create_app
from okta_simulator.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # The app writes `Date` itself (from its clock); Okta sends no `Server` header.
        date_header=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
