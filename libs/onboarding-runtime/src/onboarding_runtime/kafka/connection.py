"""How every Kafka client of the project connects, in each client library's dialect.

The settings (`KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`,
`KAFKA_SSL_*`, see `settings.KafkaSettings`) become one `KafkaConnection`; librdkafka's
clients (confluent-kafka: producer, followers, probes) take `librdkafka()`, aiokafka's
(the consumer runner, admin, operators' scans) take `aiokafka()`. Nothing else builds a
client's connection options.

Every client built from one connection reports why the brokers refuse or cannot be reached
into its `access` (`KafkaAccess`): readiness names the cause (`authentication failed`) and
the process says it in one log line a minute, instead of every client logging every retry.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from confluent_kafka import KafkaError

log = logging.getLogger(__name__)
# librdkafka's own log lines (its `logger`): see `logging.ConnectionNoise` for which are kept.
LIBRDKAFKA_LOG = logging.getLogger("onboarding_runtime.kafka.librdkafka")

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
Clock = Callable[[], float]

AUTHENTICATION_FAILED = "authentication failed"
TLS_FAILED = "TLS handshake failed"
UNREACHABLE = "unreachable"
# How often a lasting refusal is said again in the log.
REPORT_EVERY_S = 60.0

# librdkafka's error codes for "the brokers refuse us" and "we cannot reach them".
_CAUSES = {
    KafkaError._AUTHENTICATION: AUTHENTICATION_FAILED,
    KafkaError.SASL_AUTHENTICATION_FAILED: AUTHENTICATION_FAILED,
    KafkaError._SSL: TLS_FAILED,
    KafkaError._ALL_BROKERS_DOWN: UNREACHABLE,
}


def cause_of(error: KafkaError) -> str | None:
    """What a librdkafka error says about reaching the brokers, in our words (None: it is
    about something else)."""
    return _CAUSES.get(error.code())


class KafkaAccess:
    """Why this process's Kafka clients cannot work, if they cannot: for `/v1/readyz`, and
    one log line per cause a minute (not one per client per retry)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._cause: str | None = None
        self._said: dict[str, float] = {}  # cause -> when last logged

    @property
    def cause(self) -> str | None:
        return self._cause

    def causes(self) -> Mapping[str, str]:
        """`{"kafka": cause}` while the brokers refuse or cannot be reached."""
        return {"kafka": self._cause} if self._cause else {}

    def refused(self, cause: str) -> None:
        """A client was refused or could not connect, for `cause` (one of ours, not a
        library's text). A refusal outranks "unreachable" until the brokers answer."""
        if self._cause in (AUTHENTICATION_FAILED, TLS_FAILED) and cause == UNREACHABLE:
            cause = self._cause
        self._cause = cause
        now = self._clock()
        last = self._said.get(cause)
        if last is None or now - last >= REPORT_EVERY_S:
            self._said[cause] = now
            log.error(
                "kafka: %s; retrying (said again every %.0f s while it lasts)",
                cause,
                REPORT_EVERY_S,
            )

    def answered(self) -> None:
        """The brokers answered a request: whatever refused us is over."""
        if self._cause is not None:
            log.info("kafka: answering again")
        self._cause = None
        self._said.clear()

    def on_librdkafka_error(self, error: KafkaError) -> bool:
        """librdkafka's `error_cb`: True if `error` was about reaching the brokers."""
        cause = cause_of(error)
        if cause is None:
            return False
        self.refused(cause)
        return True


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_file: Path | None = None
    ssl_cert_file: Path | None = None
    ssl_key_file: Path | None = None
    access: KafkaAccess = field(default_factory=KafkaAccess, compare=False, repr=False)

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    def librdkafka(
        self, options: Mapping[str, Any], *, on_error: Callable[[KafkaError], None] | None = None
    ) -> dict[str, Any]:
        """A confluent-kafka client's configuration: `options` (the client's own tuning) with
        the brokers, the security settings, the shared logger and the error callback.
        `on_error` hears the errors that are not about reaching the brokers."""

        def errors(error: KafkaError) -> None:
            if not self.access.on_librdkafka_error(error) and on_error is not None:
                on_error(error)

        config: dict[str, Any] = {
            **options,
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol.lower(),
            "error_cb": errors,
            "logger": LIBRDKAFKA_LOG,
        }
        if self.sasl:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username
            config["sasl.password"] = self.sasl_password
        if self.tls:
            if self.ssl_ca_file is not None:
                config["ssl.ca.location"] = str(self.ssl_ca_file)
            if self.ssl_cert_file is not None and self.ssl_key_file is not None:
                config["ssl.certificate.location"] = str(self.ssl_cert_file)
                config["ssl.key.location"] = str(self.ssl_key_file)
        return config

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for an aiokafka client (consumer, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.sasl:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the brokers' certificates and names, against the CA file if given, else
        the system's authorities."""
        context: ssl.SSLContext = create_ssl_context(
            cafile=self.ssl_ca_file,
            certfile=self.ssl_cert_file,
            keyfile=self.ssl_key_file,
        )
        return context
