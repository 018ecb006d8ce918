"""deploy/kubernetes cannot run here; each overlay must at least render to objects the
Kubernetes API accepts, and agree with the code it deploys: ports, probe paths, variable
names, secret files, shutdown and start-up times (the same approach as test_compose.py)."""

from __future__ import annotations

import copy
import inspect
import re
import tempfile
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from enrich_service import app as enrich_app
from enrich_service.settings import Settings as EnrichSettings
from ingest_service import app as ingest_app
from ingest_service.settings import Settings as IngestSettings
from okta_simulator.settings import Settings as SimulatorSettings
from onboarding_events import HR_USERS_TOPIC
from onboarding_ops.errors import BAD_ARGUMENT, NEEDS_OPERATOR
from onboarding_ops.settings import Settings as OpsSettings
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import TOPICS, ConsumerRunner
from onboarding_runtime.metrics import MULTIPROC_DIR_VARIABLE
from onboarding_runtime.mongo import OPERATION_TIMEOUT_MS
from onboarding_runtime.serve import metrics_directory
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from query_service import app as query_app
from query_service.settings import Settings as QuerySettings

from tests.deploy.compose_support import DOCKERFILE, FILE_SECRETS
from tests.deploy.kubernetes_support import (
    KUBERNETES,
    OVERLAYS,
    ROOT,
    Object,
    build,
    container,
    environment,
    mounted_files,
    objects,
    pod,
    secret_value,
    workloads,
)
from tests.repo.workspace import workspace_packages

# The oldest Kubernetes the manifests support (the Job's `podFailurePolicy` and the
# budgets' `unhealthyPodEvictionPolicy` are GA there); strict: a field it does not know fails.
KUBERNETES_VERSION = "1.31.0"

SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest-service": IngestSettings,
    "enrich-service": EnrichSettings,
    "query-service": QuerySettings,
    "onboarding-topics": OpsSettings,
    "okta-simulator": SimulatorSettings,  # overlays/local only
}
SERVICES = ("ingest-service", "enrich-service", "query-service")
OURS = (*SERVICES, "onboarding-topics")
PORT_FIELDS = {
    "ingest-service": "ingest_port",
    "enrich-service": "enrich_port",
    "query-service": "query_port",
    "okta-simulator": "port",
}
# Given as `<NAME>_FILE` (a path) and never as `<NAME>`, when a workload reads them.
SECRET_SETTINGS = FILE_SECRETS
# Read by the process, not the settings: `tempfile`, where `serve_workers` makes the
# Prometheus multiprocess directory (test_tmpdir_is_where_serve_makes_the_metrics_directory).
PROCESS_VARIABLES = {"ingest-service": {"TMPDIR"}}
# Stand-ins for the Secrets production creates beside the overlay (never committed).
PRODUCTION_SECRETS = {
    "API_KEY": "placeholder-api-key",
    "WEBHOOK_SECRET": "whsec_cGxhY2Vob2xkZXItc2lnbmluZy1zZWNyZXQ=",
    "READ_API_KEY": "placeholder-read-key",
    "PII_HASH_KEY": "placeholder-pii-hash-key",
    "OKTA_API_TOKEN": "00placeholder-okta-token",
    "KAFKA_SASL_PASSWORD": "placeholder-kafka-password",
    "MONGODB_URL": "mongodb://onboarding:pw@mongodb.example:27017/onboarding?tls=true",
}


def _variables(cls: type[BaseSettings]) -> dict[str, str]:
    """Each environment variable pydantic-settings reads, and the field it sets."""
    found = {}
    for field, info in cls.model_fields.items():
        if isinstance(info.validation_alias, AliasChoices):
            names = [str(choice) for choice in info.validation_alias.choices]
        else:
            names = [(str(cls.model_config.get("env_prefix", "")) + field).upper()]
        found.update(dict.fromkeys(names, field))
    return found


def _allowed(name: str) -> set[str]:
    cls = SETTINGS[name]
    known = set(_variables(cls))
    files = {f"{secret}_FILE" for secret in SECRET_SETTINGS & known}
    return known | files | PROCESS_VARIABLES.get(name, set())


def _settings(overlay: str, name: str) -> Any:
    """The workload's Settings as its manifests configure it: secret files read from the
    Secret the overlay renders, or production's stand-ins."""
    workload = workloads(overlay)[name]
    cls = SETTINGS[name]
    fields = _variables(cls)
    rendered = objects(overlay, "Secret")
    files = mounted_files(overlay, workload)
    values = {}
    for variable, value in environment(overlay, workload).items():
        secret = variable.removesuffix("_FILE")
        if variable.endswith("_FILE") and secret in SECRET_SETTINGS:
            source, key = files[value]
            value = (
                secret_value(overlay, source, key)
                if source in rendered
                else PRODUCTION_SECRETS[secret]
            )
            variable = secret
        elif variable.startswith("KAFKA_SSL_"):
            # A mounted PEM file the settings check exists: any file stands in for it here.
            assert value in files, f"{name}: {variable}={value} is not a mounted file"
            value = __file__
        if variable in fields:
            values[fields[variable]] = value
    return cls(**values)


def _seconds(probe: Object) -> int:
    """How long a probe keeps failing before it counts as failed."""
    return int(probe.get("periodSeconds", 10)) * int(probe.get("failureThreshold", 3))


def _pre_stop_s(workload: Object) -> int:
    """The preStop sleep before SIGTERM, if any."""
    pre_stop = container(workload).get("lifecycle", {}).get("preStop", {})
    return int(pre_stop.get("sleep", {}).get("seconds", 0))


def _drain_s(name: str, settings: Any) -> float:
    """The longest shutdown after SIGTERM, in the order each service's code runs it (the
    comments on `terminationGracePeriodSeconds` say the same)."""
    if name == "ingest-service":
        # Requests in flight, `Acceptor.drain`, the producer's stop.
        return (
            settings.kafka_publish_timeout_s
            + ingest_app.DRAIN_TIMEOUT_S
            + settings.kafka_delivery_timeout_s
        )
    if name == "enrich-service":
        # The consumer's drain (attempts' grace: enrich_service/app.py keeps the runner's
        # default; the producer's flush), then the producer's stop.
        grace = inspect.signature(ConsumerRunner).parameters["shutdown_grace_s"].default
        flush_s = settings.kafka_publish_timeout_s + 1
        return float(grace) + flush_s + settings.kafka_publish_timeout_s
    # query: reads in flight (MongoDB's client-side timeout), the projector, the client's close.
    return OPERATION_TIMEOUT_MS / 1000 + 2 * query_app.SHUTDOWN_GRACE_S


PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
STARTUP_WAITS_S = {
    "ingest-service": ingest_app.INDEX_LOAD_WAIT_S,
    "enrich-service": 2 * enrich_app.STARTUP_WAIT_S,  # the erasure log, then the versions
    "query-service": query_app.ERASURES_WAIT_S,
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_for_the_kubernetes_api(overlay: str) -> None:
    failures = []
    for obj in build(overlay):
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(part) for part in exc.path)
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {where}: {exc.message}")

    assert failures == []


def test_strict_validation_refuses_a_field_kubernetes_does_not_know() -> None:
    deployment = copy.deepcopy(objects("production", "Deployment")["ingest-service"])
    container(deployment)["readinessProbes"] = container(deployment).pop("readinessProbe")

    with pytest.raises(kubernetes_validate.ValidationError, match="readinessProbes"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_is_a_setting_of_that_workload(overlay: str) -> None:
    for name, workload in workloads(overlay).items():
        env = environment(overlay, workload)

        unknown = {v for v in env if v not in _allowed(name) and not v.startswith("OTEL_")}

        assert unknown == set(), name
        assert SECRET_SETTINGS.isdisjoint(env), f"{name}: a secret as a variable, not a file"
        assert MULTIPROC_DIR_VARIABLE not in env, f"{name}: serve_workers sets it per start"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_settings_accept_what_the_manifests_configure(overlay: str) -> None:
    for name in workloads(overlay):
        _settings(overlay, name)  # raises on a value the code refuses


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_file_variable_names_a_mounted_secret_file(overlay: str) -> None:
    rendered = objects(overlay, "Secret")
    for name, workload in workloads(overlay).items():
        files = mounted_files(overlay, workload)
        for variable, path in environment(overlay, workload).items():
            if not variable.endswith("_FILE"):
                continue
            assert path in files, f"{name}: {variable}={path} is not a mounted file"
            secret, key = files[path]
            if secret in rendered:
                assert secret_value(overlay, secret, key), f"{name}: {secret}/{key} is empty"


def test_production_names_every_secret_it_reads_in_the_readme() -> None:
    """Created beside the overlay, never rendered by it: the README says how."""
    readme = (KUBERNETES / "README.md").read_text()
    assert objects("production", "Secret") == {}
    for workload in workloads("production").values():
        for secret, key in mounted_files("production", workload).values():
            assert f"`{secret}`" in readme, secret
            assert f"`{key}`" in readme, f"{secret}: {key}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_are_the_services_ports(overlay: str) -> None:
    services = objects(overlay, "Service")
    for name, field in PORT_FIELDS.items():
        if name not in workloads(overlay):
            continue
        workload = workloads(overlay)[name]
        default = SETTINGS[name].model_fields[field].default
        (port,) = container(workload)["ports"]

        assert port == {"name": "http", "containerPort": default}, name
        assert getattr(_settings(overlay, name), field) == default, name
        (service_port,) = services[name]["spec"]["ports"]
        assert service_port == {"name": "http", "port": default, "targetPort": "http"}, name
        assert services[name]["spec"]["selector"].items() <= _pod_labels(workload).items()
        scrape = workload["spec"]["template"]["metadata"].get("annotations", {})
        assert scrape.get("prometheus.io/port", str(default)) == str(default), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_health_routes(overlay: str) -> None:
    routes = {getattr(route, "path", None) for route in health_router(dict).routes}
    for name in SERVICES:
        c = container(workloads(overlay)[name])
        probes = {kind: c[kind]["httpGet"] for kind in PROBES}

        assert probes["readinessProbe"]["path"] == "/v1/readyz"
        assert probes["livenessProbe"]["path"] == probes["startupProbe"]["path"] == "/v1/healthz"
        assert {probe["path"] for probe in probes.values()} <= routes
        assert {probe["port"] for probe in probes.values()} == {"http"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_startup_probe_outlasts_the_waits_at_start(overlay: str) -> None:
    for name, waits_s in STARTUP_WAITS_S.items():
        startup = container(workloads(overlay)[name])["startupProbe"]

        assert _seconds(startup) > waits_s, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_grace_is_longer_than_the_drain(overlay: str) -> None:
    for name in SERVICES:
        workload = workloads(overlay)[name]
        drain_s = _pre_stop_s(workload) + _drain_s(name, _settings(overlay, name))

        assert pod(workload)["terminationGracePeriodSeconds"] > drain_s, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_locked_down(overlay: str) -> None:
    for name, workload in workloads(overlay).items():
        spec, c = pod(workload), container(workload)
        security = spec["securityContext"]
        image = c["image"].partition(":")[0].removeprefix("onboarding/")

        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] == _image_uid(image), name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert c["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }, name
        for kind in ("requests", "limits"):
            assert set(c["resources"][kind]) == {"cpu", "memory"}, name
        assert _writable(workload).get("/tmp"), name
        for volume in spec.get("volumes", []):
            assert volume.keys() & {"emptyDir", "projected"}, f"{name}: {volume['name']}"


def test_ingest_makes_its_metrics_directory_in_a_writable_tmpdir() -> None:
    for overlay in OVERLAYS:
        workload = workloads(overlay)["ingest-service"]

        assert _writable(workload).get(environment(overlay, workload)["TMPDIR"])


def test_tmpdir_is_where_serve_makes_the_metrics_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # `gettempdir` reads TMPDIR again

    with metrics_directory() as directory:
        assert Path(directory).parent == tmp_path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_image_is_its_service_tagged(overlay: str) -> None:
    for name, workload in workloads(overlay).items():
        repository, _, tag = container(workload)["image"].partition(":")
        expected = "onboarding-ops" if name == "onboarding-topics" else name

        assert repository == f"onboarding/{expected}"
        assert tag, name
        assert tag != "latest", name
        # The one Dockerfile builds it: a workspace package with a console script so named.
        assert any(expected in package.scripts for package in workspace_packages()), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget(overlay: str) -> None:
    budgets = objects(overlay, "PodDisruptionBudget")
    for name in SERVICES:
        selector = budgets[name]["spec"]["selector"]["matchLabels"]

        assert selector.items() <= _pod_labels(workloads(overlay)[name]).items()


def test_production_autoscales_ingest_and_query_but_not_enrich() -> None:
    autoscalers = objects("production", "HorizontalPodAutoscaler")
    deployments = objects("production", "Deployment")
    hr_partitions = next(spec.partitions for spec in TOPICS if spec.name == HR_USERS_TOPIC)

    assert set(autoscalers) == {"ingest-service", "query-service"}
    for name, autoscaler in autoscalers.items():
        assert autoscaler["apiVersion"] == "autoscaling/v2"
        assert autoscaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert "replicas" not in deployments[name]["spec"], f"{name}: the autoscaler counts"
        assert autoscaler["spec"]["minReplicas"] >= 2
    # More enrich replicas than partitions would idle.
    assert 2 <= deployments["enrich-service"]["spec"]["replicas"] <= hr_partitions


def test_local_runs_one_replica_of_each_and_no_autoscaler() -> None:
    assert objects("local", "HorizontalPodAutoscaler") == {}
    for name, deployment in objects("local", "Deployment").items():
        assert deployment["spec"]["replicas"] == 1, name


def test_production_runs_in_production_against_a_secured_kafka() -> None:
    for name in OURS:
        settings = _settings("production", name)
        env = environment("production", workloads("production")[name])

        assert settings.environment == "production", name
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert {"KAFKA_SASL_PASSWORD_FILE", "KAFKA_SSL_CA_FILE"} <= set(env), name
    topics = _settings("production", "onboarding-topics")
    assert (topics.kafka_replication_factor, topics.kafka_min_insync_replicas) == (3, 2)
    query = environment("production", workloads("production")["query-service"])
    assert "MONGODB_URL_FILE" in query


def test_local_runs_in_development_against_a_plain_kafka() -> None:
    for name in OURS:
        settings = _settings("local", name)
        env = environment("local", workloads("local")[name])

        assert settings.environment == "development", name
        assert env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT") == "PLAINTEXT", name
    topics = _settings("local", "onboarding-topics")
    assert (topics.kafka_replication_factor, topics.kafka_min_insync_replicas) == (1, 1)
    assert _settings("local", "enrich-service").okta_org_url == "http://okta-simulator:8010"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_topics_job_runs_what_compose_runs_and_stops_on_what_retrying_cannot_fix(
    overlay: str,
) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    job = workloads(overlay)["onboarding-topics"]
    c = container(job)
    (rule,) = job["spec"]["podFailurePolicy"]["rules"]

    assert c["command"] == compose["services"]["topics"]["command"]
    assert pod(job)["restartPolicy"] == "Never"
    assert rule["action"] == "FailJob"
    assert rule["onExitCodes"]["containerName"] == c["name"]
    assert set(rule["onExitCodes"]["values"]) == {BAD_ARGUMENT, NEEDS_OPERATOR}


def _pod_labels(workload: Object) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def _writable(workload: Object) -> dict[str, bool]:
    """Each mount path of the container, and whether an emptyDir (writable) is there."""
    volumes = {volume["name"]: volume for volume in pod(workload).get("volumes", [])}
    return {
        mount["mountPath"]: "emptyDir" in volumes[mount["name"]] and not mount.get("readOnly")
        for mount in container(workload).get("volumeMounts", [])
    }


def _image_uid(image: str) -> int:
    """The uid of the user the image runs as (`useradd --uid` in the one Dockerfile)."""
    match = re.search(r"useradd .*--uid (\d+)", DOCKERFILE.read_text())
    assert match is not None, image
    return int(match.group(1))
