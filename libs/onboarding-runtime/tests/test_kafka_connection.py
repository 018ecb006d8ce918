"""One settings block for every Kafka client, in each client library's dialect; refusals
said once a minute and named in readiness."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import pytest
from confluent_kafka import KafkaError
from onboarding_runtime.kafka import KafkaAccess, KafkaConnection
from onboarding_runtime.logging import KafkaRetryNoise
from onboarding_runtime.settings import KafkaSettings
from pydantic import ValidationError

CA = Path(__file__)  # any file stands in where only existence is checked


def test_sasl_ssl_settings_speak_both_dialects(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    settings = KafkaSettings(
        kafka_bootstrap_servers="b1:9093,b2:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="onboarding",
        kafka_sasl_password="s3cret",
        kafka_ssl_ca_file=ca,
    )
    kafka = settings.kafka_connection()

    config = kafka.librdkafka({"acks": "all"})
    assert {k: v for k, v in config.items() if k not in ("error_cb", "logger")} == {
        "acks": "all",
        "bootstrap.servers": "b1:9093,b2:9093",
        "security.protocol": "sasl_ssl",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "onboarding",
        "sasl.password": "s3cret",
        "ssl.ca.location": str(ca),
    }
    assert "s3cret" not in repr(kafka)
    with pytest.raises(ssl.SSLError):  # aiokafka's context loads the (empty) CA file
        kafka.aiokafka()


def test_plaintext_is_the_default_with_nothing_else() -> None:
    kafka = KafkaSettings().kafka_connection()

    assert kafka.aiokafka() == {
        "bootstrap_servers": "localhost:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert kafka.librdkafka({})["security.protocol"] == "plaintext"


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "PLAIN"},
            "KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD",
        ),
        (
            {"kafka_sasl_username": "u"},
            "KAFKA_SASL_USERNAME set, but KAFKA_SECURITY_PROTOCOL=PLAINTEXT uses no SASL",
        ),
        (
            {"kafka_ssl_ca_file": CA, "kafka_security_protocol": "SASL_PLAINTEXT"},
            "KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD",
        ),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_cert_file": CA},
            "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together",
        ),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_ca_file": Path("/nowhere/ca.pem")},
            "KAFKA_SSL_CA_FILE: /nowhere/ca.pem is not a file",
        ),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
    ],
)
def test_half_configured_security_is_refused(given: dict[str, object], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        KafkaSettings(**given)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.endswith("kafka.connection")]


def test_a_lasting_refusal_is_said_once_a_minute_and_named_until_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    access = KafkaAccess(clock)
    kafka = KafkaConnection("b:9093", access=access)
    errors = kafka.librdkafka({})["error_cb"]
    caplog.set_level(logging.INFO)

    for _ in range(30):  # a client retrying every second
        errors(KafkaError(KafkaError._AUTHENTICATION))
        access.refused("unreachable")  # an aiokafka client failing meanwhile
        clock.now += 1
    assert access.causes() == {"kafka": "authentication failed"}
    clock.now += 30
    errors(KafkaError(KafkaError._AUTHENTICATION))

    assert (
        _said(caplog)
        == ["kafka: authentication failed; retrying (said again every 60 s while it lasts)"] * 2
    )
    access.answered()
    assert access.causes() == {}


def test_other_errors_reach_the_clients_own_handler() -> None:
    heard: list[int] = []
    kafka = KafkaConnection("b:9093")
    errors = kafka.librdkafka({}, on_error=lambda e: heard.append(e.code()))["error_cb"]

    errors(KafkaError(KafkaError._MSG_TIMED_OUT))
    errors(KafkaError(KafkaError._SSL))

    assert heard == [KafkaError._MSG_TIMED_OUT]
    assert kafka.access.cause == "TLS handshake failed"


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_the_libraries_line_per_failed_attempt_is_dropped_and_nothing_else() -> None:
    noise = KafkaRetryNoise()

    assert not noise.filter(_record("aiokafka.client", 'Unable connect to "%s:%s": %s', 1, 2, 3))
    assert not noise.filter(
        _record("onboarding_runtime.kafka.librdkafka", "%s [%s] %s", "FAIL", "rdkafka#1", "x")
    )
    assert noise.filter(
        _record("onboarding_runtime.kafka.librdkafka", "%s [%s] %s", "GETPID", "rdkafka#1", "x")
    )
    assert noise.filter(_record("aiokafka.consumer", "Heartbeat failed: %s", 1))
    assert noise.filter(_record("enrich", "Unable connect to %s", 1))
