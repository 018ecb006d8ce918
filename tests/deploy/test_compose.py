"""docker-compose.yml cannot run here (no Docker engine); resolved by Compose's own loader,
with and without the `simulator` profile, it must agree with the code it deploys, and the one
Dockerfile it builds every image from with the workspace."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from enrich_service.settings import Settings as EnrichSettings
from ingest_service.settings import Settings as IngestSettings
from okta_simulator.settings import Settings as SimulatorSettings
from onboarding_ops.settings import Settings as OpsSettings
from pydantic_settings import BaseSettings
from query_service.settings import Settings as QuerySettings

from tests.deploy.compose_support import (
    DOCKERFILE,
    FILE_SECRETS,
    ROOT,
    dockerignore_lines,
    environment_variables,
    ignored,
    load,
    pinned,
    read_dockerfile,
    run_tool,
    settings_in,
    settings_variables,
)
from tests.repo.workspace import workspace_packages

# Each service we build: its settings, the field of the port it serves (None: a one-shot
# job), and the workspace package its image runs.
SERVICES: dict[str, tuple[type[BaseSettings], str | None, str]] = {
    "ingest-service": (IngestSettings, "ingest_port", "ingest-service"),
    "enrich-service": (EnrichSettings, "enrich_port", "enrich-service"),
    "query-service": (QuerySettings, "query_port", "query-service"),
    "okta-simulator": (SimulatorSettings, "port", "okta-simulator"),
    "topics": (OpsSettings, None, "onboarding-ops"),
}
# What an operator sets for production against a real Okta org (the file's header).
PRODUCTION = {
    "PII_HASH_KEY": "an-operator-key",
    "READ_API_KEY": "a-read-key",
    "API_KEY": "an-ingest-key",
    "OKTA_ORG_URL": "https://example.okta.com",
    "OKTA_API_TOKEN": "00a-real-token",
}
PROJECTS = {
    "production": lambda: load(**PRODUCTION),
    "simulator": lambda: load("simulator", ENVIRONMENT="development"),
}


@pytest.fixture(params=sorted(PROJECTS))
def project(request: pytest.FixtureRequest) -> dict[str, Any]:
    loaded: dict[str, Any] = PROJECTS[request.param]()
    return loaded


def ours(services: dict[str, Any]) -> list[str]:
    """The services we build, of those a project runs."""
    return sorted(set(SERVICES) & set(services))


def test_the_simulator_runs_only_in_its_profile() -> None:
    production, simulator = load(**PRODUCTION)["services"], load("simulator")["services"]

    assert set(simulator) - set(production) == {"okta-simulator"}
    assert simulator["okta-simulator"]["profiles"] == ["simulator"]
    assert [name for name, s in simulator.items() if s.get("profiles")] == ["okta-simulator"]


def test_nothing_depends_on_the_simulator() -> None:
    for name, service in load("simulator")["services"].items():
        assert "okta-simulator" not in service.get("depends_on", {}), name


def test_every_variable_is_a_setting_of_that_service(project: dict[str, Any]) -> None:
    for name in ours(project["services"]):
        known = settings_variables(SERVICES[name][0])
        from_files = {f"{variable}_FILE" for variable in known & FILE_SECRETS}

        unknown = {
            variable
            for variable in project["services"][name].get("environment", {})
            if variable not in known | from_files and not variable.startswith("OTEL_")
        }

        assert unknown == set(), name


def test_published_port_is_the_service_default_and_its_healthcheck_asks_it(
    project: dict[str, Any],
) -> None:
    for name in ours(project["services"]):
        settings_cls, port_field, _ = SERVICES[name]
        service = project["services"][name]
        if port_field is None:
            assert "ports" not in service, name
            assert "healthcheck" not in service, name
            continue
        default = settings_cls.model_fields[port_field].default
        variable = environment_variables(settings_cls, port_field)[0]

        assert [(p["target"], p["published"]) for p in service["ports"]] == [
            (default, str(default))
        ]
        assert service["environment"][variable] == str(default)
        probe = " ".join(service["healthcheck"]["test"])
        assert re.search(rf"http://127\.0\.0\.1:{default}/v1/(healthz|readyz)\b", probe), name


def test_long_running_services_restart_and_the_one_shot_job_does_not() -> None:
    services = load("simulator")["services"]
    one_shot = {
        dependency
        for service in services.values()
        for dependency, wait in service.get("depends_on", {}).items()
        if wait["condition"] == "service_completed_successfully"
    }

    assert one_shot == {"topics"}
    for name, service in services.items():
        expected = {"no"} if name in one_shot else {"always", "unless-stopped", "on-failure"}
        assert service.get("restart") in expected, name


KAFKA_NODES = ("kafka-1", "kafka-2", "kafka-3")
BROKERS = ",".join(f"{node}:9092" for node in KAFKA_NODES)


def test_services_wait_for_healthy_dependencies(project: dict[str, Any]) -> None:
    services = project["services"]
    for name in ("ingest-service", "enrich-service", "query-service"):
        assert services[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == BROKERS
        for dependency, wait in services[name]["depends_on"].items():
            expected = (
                "service_completed_successfully" if dependency == "topics" else "service_healthy"
            )
            assert (wait["condition"], wait["required"]) == (expected, True), name
            assert dependency == "topics" or "healthcheck" in services[dependency]
    assert services["query-service"]["environment"]["MONGODB_URL"].startswith("mongodb://mongo:")


def test_production_needs_only_the_okta_variables_beside_the_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = load(**PRODUCTION)["services"]

    for name in ours(services):
        settings = settings_in(SERVICES[name][0], services[name]["environment"], monkeypatch)
        assert getattr(settings, "environment", "production") == "production", name
    for missing in ("OKTA_ORG_URL", "OKTA_API_TOKEN"):
        without = {k: v for k, v in PRODUCTION.items() if k != missing}
        env = load(**without)["services"]["enrich-service"]["environment"]
        with pytest.raises(ValueError, match=missing):
            settings_in(EnrichSettings, env, monkeypatch)


def test_the_simulator_profile_runs_the_stack_in_development_on_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = load("simulator", ENVIRONMENT="development")["services"]
    simulator = settings_in(
        SimulatorSettings, services["okta-simulator"]["environment"], monkeypatch
    )

    for name in ours(services):
        settings = settings_in(SERVICES[name][0], services[name]["environment"], monkeypatch)
        assert getattr(settings, "environment", "development") == "development", name
    enrich = services["enrich-service"]["environment"]
    assert enrich["OKTA_ORG_URL"] == f"http://okta-simulator:{simulator.port}"
    assert enrich["OKTA_API_TOKEN"] == simulator.api_token.get_secret_value()


def test_the_simulator_without_development_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    env = load("simulator", PII_HASH_KEY="k")["services"]["enrich-service"]["environment"]

    assert env["ENVIRONMENT"] == "production"
    with pytest.raises(ValueError, match="OKTA_ORG_URL"):
        settings_in(EnrichSettings, env, monkeypatch)


def test_every_build_is_the_one_dockerfile_with_its_package(project: dict[str, Any]) -> None:
    for name, service in project["services"].items():
        if "build" not in service:
            assert "image" in service, name
            continue
        assert service["build"] == {
            "context": str(ROOT),
            "dockerfile": "Dockerfile",
            "args": {"PACKAGE": SERVICES[name][2]},
        }, name
    folders = [ROOT, *(package.folder for package in workspace_packages())]
    assert [path for folder in folders for path in folder.glob("Dockerfile*")] == [DOCKERFILE]


def test_the_packages_built_are_workspace_packages_with_a_console_script_of_their_name() -> None:
    packages = {package.name: package for package in workspace_packages()}
    built = {
        args["PACKAGE"]
        for s in load("simulator")["services"].values()
        if (args := s.get("build", {}).get("args"))
    }

    assert built == {package for _, _, package in SERVICES.values()}
    for name in built:
        assert name in packages, name
        assert name in packages[name].scripts, f"{name} has no console script of its name"


def test_the_dockerfile_copies_every_workspace_pyproject_and_ignores_none_of_the_sources() -> None:
    dockerfile, ignore = read_dockerfile(), dockerignore_lines()
    members = [p.folder.relative_to(ROOT).as_posix() for p in workspace_packages()]

    assert {f"{member}/pyproject.toml" for member in members} <= set(dockerfile.copied)
    for member in members:
        for needed in ("pyproject.toml", "src/x/__init__.py", "README.md"):
            assert not ignored(f"{member}/{needed}", ignore), f"{member}/{needed}"
    assert not ignored("uv.lock", ignore)
    for heavy in (
        ".data/tools/kafka/x.jar",
        ".venv/bin/python",
        ".git/HEAD",
        "ingest-service/tests/test_x.py",
        "enrich-service/src/enrich_service/__pycache__/x.pyc",
    ):
        assert ignored(heavy, ignore), heavy


def test_every_image_is_pinned_to_an_exact_version() -> None:
    compose_images = [s["image"] for s in load("simulator")["services"].values() if "image" in s]
    images = compose_images + read_dockerfile().images()

    assert len(images) >= 4
    for image in images:
        pinned(image)


def test_the_dockerfile_python_is_the_workspace_python_and_uv_the_makefile_uv() -> None:
    images = dict(pinned(image) for image in read_dockerfile().images())
    requires = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text())
    uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert requires is not None
    assert uv is not None

    assert images["python"].rsplit(".", 1)[0] == requires.group(1)
    assert images["ghcr.io/astral-sh/uv"] == uv.group(1)


def test_kafka_image_is_the_version_pinned_for_local_runs() -> None:
    pom = (ROOT / "deploy/kafka/pom.xml").read_text()
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert match is not None

    for node in KAFKA_NODES:
        assert load()["services"][node]["image"] == f"apache/kafka:{match.group(1)}"


def test_kafka_is_three_nodes_and_the_topics_are_replicated_on_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = load(PII_HASH_KEY="k")["services"]
    voters = {
        node["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        for node in (services[name] for name in KAFKA_NODES)
    }
    assert voters == {"1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"}
    for number, name in enumerate(KAFKA_NODES, start=1):
        env = services[name]["environment"]
        assert env["KAFKA_NODE_ID"] == str(number)
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    topics = services["topics"]
    assert set(topics["depends_on"]) == set(KAFKA_NODES)
    ops = settings_in(OpsSettings, topics["environment"], monkeypatch)
    assert (ops.kafka_replication_factor, ops.kafka_min_insync_replicas) == (3, 2)


def test_the_loader_refuses_what_compose_refuses(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yml"
    broken.write_text(
        "services:\n"
        "  a:\n    image: busybox:1.37.0\n    environment: { KEY: '${KEY:?set KEY}' }\n"
        "    depends_on: [b]\n"
    )

    done = run_tool(broken, (), {})

    assert done.returncode == 1
    assert "set KEY" in done.stderr
