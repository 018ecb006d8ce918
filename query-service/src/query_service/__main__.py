from __future__ import annotations

import gc

from onboarding_runtime.logging import configure_logging
from onboarding_runtime.serve import serve

from query_service.app import create_app
from query_service.settings import Settings

# Young objects collected every 10,000 net allocations instead of 700: under load the default
# ran a collection every request or two, promoting in-flight request objects until full
# collections walked the whole heap; ~15% of the CPU of a read went to the collector.
GC_THRESHOLDS = (10_000, 10, 10)


def main() -> None:
    settings = Settings()
    configure_logging("query-service", log_format=settings.log_format, level=settings.log_level)
    app = create_app(settings)
    # What exists now (modules, the app, its schemas) lives as long as the process: keep it
    # out of every later collection's walk.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    serve(app, host=settings.host, port=settings.query_port)


if __name__ == "__main__":
    main()
