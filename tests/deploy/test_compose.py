"""docker-compose.yml cannot run here; it must at least agree with the code it deploys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from enrich_service.settings import Settings as EnrichSettings
from ingest_service.settings import Settings as IngestSettings
from okta_simulator.settings import Settings as SimulatorSettings
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from query_service.settings import Settings as QuerySettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES: dict[str, tuple[type[BaseSettings], str]] = {
    "ingest-service": (IngestSettings, "ingest_port"),
    "enrich-service": (EnrichSettings, "enrich_port"),
    "query-service": (QuerySettings, "query_port"),
    "okta-simulator": (SimulatorSettings, "port"),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _env_names(service: dict[str, Any]) -> set[str]:
    return set(service.get("environment", {}))


def _variable(settings_cls: type[BaseSettings], field: str) -> list[str]:
    """The environment variable names pydantic-settings reads for one field."""
    alias = settings_cls.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    return [(prefix + field).upper()]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_variable_is_a_setting_of_that_service(compose: dict[str, Any], name: str) -> None:
    settings_cls, _ = SERVICES[name]
    known = {name for field in settings_cls.model_fields for name in _variable(settings_cls, field)}

    unknown = _env_names(compose["services"][name]) - known

    assert unknown == set()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_published_port_is_the_service_default(compose: dict[str, Any], name: str) -> None:
    settings_cls, port_field = SERVICES[name]
    default = settings_cls.model_fields[port_field].default
    service = compose["services"][name]

    assert service["ports"] == [f"{default}:{default}"]
    assert str(service["environment"][_variable(settings_cls, port_field)[0]]) == str(default)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_build_from_a_dockerfile_in_the_service_folder(
    compose: dict[str, Any], name: str
) -> None:
    build = compose["services"][name]["build"]

    assert build["context"] == "."
    assert (ROOT / build["dockerfile"]).is_file()
    assert "healthcheck" in compose["services"][name]


def test_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("ingest-service", "enrich-service", "query-service"):
        env = services[name]["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        for dependency, condition in services[name]["depends_on"].items():
            expected = (
                "service_completed_successfully" if dependency == "topics" else "service_healthy"
            )
            assert condition["condition"] == expected
    assert services["query-service"]["environment"]["MONGODB_URL"].startswith("mongodb://mongo:")
    # The simulator runs only in the demo profile; enrich waits for it only when it runs.
    assert services["okta-simulator"]["profiles"] == ["demo"]
    assert services["enrich-service"]["depends_on"]["okta-simulator"]["required"] is False


def _default(value: str) -> str:
    """What compose puts in for `${NAME:-default}` when NAME is unset."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    return match.group(1) if match else value


def test_production_compose_never_enriches_from_the_simulator(compose: dict[str, Any]) -> None:
    env = compose["services"]["enrich-service"]["environment"]
    defaults = {
        "environment": _default(compose["x-service-env"]["ENVIRONMENT"]),
        "okta_org_url": _default(env["OKTA_ORG_URL"]),
        "okta_api_token": _default(env["OKTA_API_TOKEN"]),
        "pii_hash_key": "set-by-the-operator",
    }
    assert defaults["environment"] == "production"
    with pytest.raises(ValueError, match="OKTA_ORG_URL"):
        EnrichSettings(**defaults)


def test_kafka_image_is_the_version_pinned_for_local_runs(compose: dict[str, Any]) -> None:
    pom = (ROOT / "deploy/kafka/pom.xml").read_text()
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert match is not None

    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{match.group(1)}"
    assert compose["services"]["mongo"]["image"].startswith("mongo:")
