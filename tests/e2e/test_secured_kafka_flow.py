"""The whole flow through a broker that only lets SASL_SSL clients in, as a secured
production cluster does: TLS with a certificate authority of the test's own, SCRAM users
made by Kafka's own storage tool (`onboarding_devstack.kafka_security`).

The stack here is a second one, beside the session's: the services, the simulator and
`onboarding-ops` are given only the secured listener's address and credentials.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from onboarding_devstack.polling import eventually
from onboarding_devstack.processes import Managed, free_port, start, stop
from onboarding_devstack.stack import (
    StackConfig,
    create_topics,
    start_apps,
    start_infra,
    stop_all,
    with_secured_kafka,
)

from tests.e2e.ops_support import found, new_employee, ops, post_hr, put_okta_user

ROOT = Path(__file__).resolve().parents[2]
REFUSED = "kafka: authentication failed"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    cfg = with_secured_kafka(
        StackConfig.on_free_ports(
            ROOT,
            tmp_path_factory.mktemp("secured-stack"),
            {"LOG_FORMAT": "json", "ENVIRONMENT": "test"},
        )
    )
    try:
        start_infra(cfg)
        create_topics(cfg)  # `onboarding-ops topics`, through the secured listener
        start_apps(cfg, timeout=90)
        yield cfg
    finally:
        stop_all(cfg)


def test_a_webhook_is_enriched_and_served_through_sasl_ssl(secured: StackConfig) -> None:
    assert secured.kafka_secured is not None
    assert secured.service_env()["KAFKA_BOOTSTRAP_SERVERS"] == (
        secured.kafka_secured.bootstrap_servers
    )
    employee_id, email = new_employee("secured")
    put_okta_user(secured, email, ["Everyone", "Engineering"])

    post_hr(secured, employee_id, email)

    user = eventually(lambda: found(secured, employee_id), within=60)
    assert user.json()["groups"] == ["Everyone", "Engineering"]
    listed = ops(secured, "dlq", "list")
    assert listed.returncode == 0, listed.stderr


def _readyz(url: str) -> httpx.Response | None:
    try:
        return httpx.get(f"{url}/v1/readyz", timeout=10)
    except httpx.HTTPError:
        return None  # not listening yet


def _refused(url: str) -> dict[str, Any] | None:
    response = _readyz(url)
    if response is None or response.status_code != 503:
        return None
    body: dict[str, Any] = response.json()
    return body if body.get("causes", {}).get("kafka") == "authentication failed" else None


def test_with_a_wrong_password_a_service_stays_up_not_ready_and_says_why_once(
    secured: StackConfig,
) -> None:
    assert secured.kafka_secured is not None
    port = free_port()
    env = {
        **secured.service_env(),
        **secured.kafka_secured.client_env(password="not-the-password"),
        "QUERY_PORT": str(port),
        "QUERY_GROUP_ID": "query-wrong-password",
    }
    service = Managed("query-wrong-password", secured.run_dir)
    start(service, [str(Path(sys.executable).parent / "query-service")], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        body = eventually(lambda: _refused(url), within=60)
        assert "kafka" in body["down"]
        # It keeps answering, refused every time, while its clients retry every second.
        for _ in range(3):
            assert eventually(lambda: _refused(url), within=30)
        assert service.running()
    finally:
        stop(service)

    lines = service.log_file.read_text().splitlines()
    said = [line for line in lines if REFUSED in line]
    assert len(said) == 1, said  # once a minute, and the test took less than one
    # Not the libraries' own line per attempt, nor the password.
    assert not [line for line in lines if "SASL authentication error" in line]
    assert not [line for line in lines if "Unable connect" in line]
    assert not [line for line in lines if "not-the-password" in line]


def test_onboarding_ops_with_a_wrong_password_exits_non_zero_saying_why(
    secured: StackConfig,
) -> None:
    assert secured.kafka_secured is not None
    wrong = dataclasses.replace(
        secured, extra_env=secured.kafka_secured.client_env(password="nope")
    )

    done = ops(wrong, "topics", "--check")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "authentication failed" in done.stderr
    assert "nope" not in done.stdout + done.stderr
