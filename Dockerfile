# syntax=docker/dockerfile:1
# One image for each workspace package that runs, chosen by PACKAGE (ingest-service,
# enrich-service, query-service, okta-simulator, onboarding-ops); the package's console
# script of the same name is the command. Build from the repository root:
#   docker build --build-arg PACKAGE=ingest-service -t onboarding/ingest-service .
# docker-compose.yml builds each service this way; .dockerignore keeps the context to what
# the packages are built from (tests/deploy/test_compose.py checks both against the code).
ARG PYTHON_IMAGE=python:3.11.18-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ARG PACKAGE
RUN test -n "$PACKAGE" || { echo "build with --build-arg PACKAGE=<workspace package>" >&2; exit 1; }
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# Step 1: third-party dependencies only, cached until the lockfile changes. uv reads every
# workspace member's pyproject.toml to check the lock, so each is copied.
COPY pyproject.toml uv.lock ./
COPY libs/onboarding-events/pyproject.toml libs/onboarding-events/
COPY libs/onboarding-runtime/pyproject.toml libs/onboarding-runtime/
COPY ingest-service/pyproject.toml ingest-service/
COPY enrich-service/pyproject.toml enrich-service/
COPY query-service/pyproject.toml query-service/
COPY deploy/okta-simulator/pyproject.toml deploy/okta-simulator/
COPY deploy/onboarding-ops/pyproject.toml deploy/onboarding-ops/
COPY deploy/devstack/pyproject.toml deploy/devstack/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-workspace --package "$PACKAGE"
# Step 2: our code, installed non-editable so the runtime image needs no sources; only
# PACKAGE and the workspace packages it depends on are installed.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package "$PACKAGE"
RUN test -x "/app/.venv/bin/$PACKAGE" \
        || { echo "$PACKAGE has no console script named $PACKAGE" >&2; exit 1; } \
    && ln -s "$PACKAGE" /app/.venv/bin/run-package

FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 app
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH HOST=0.0.0.0 PYTHONUNBUFFERED=1
USER app
# The package's console script (`run-package` links to it); compose gives onboarding-ops
# its subcommand (`command: ["onboarding-ops", "topics"]`).
CMD ["run-package"]
