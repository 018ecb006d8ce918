"""A SASL_SSL listener for the local broker, as a secured production cluster has one.

The test stack (and `onboarding-stack up --secured`, for trying it by hand) can start the
broker with a second listener, `SECURE`, that speaks TLS with a certificate of a certificate
authority made here, and authenticates with SCRAM. The user is created by Kafka's own
storage tool when it formats the broker's storage (`--add-scram`). The plain listener stays
for the broker's own traffic; the services are given only the secured one.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
LISTENER = "SECURE"
USERNAME = "onboarding"
MECHANISM = "SCRAM-SHA-512"
_VALID = datetime.timedelta(days=30)


@dataclass(frozen=True)
class SecuredListener:
    """Where the secured listener is and what a client needs to use it."""

    port: int
    ca_file: Path  # the authority's certificate, PEM: what clients trust
    keystore: Path  # the broker's key, certificate and chain, PEM
    password: str = field(repr=False)
    username: str = USERNAME
    mechanism: str = MECHANISM

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    def client_env(self, *, password: str | None = None) -> dict[str, str]:
        """The contract's variables for a client of this listener (`password` to try
        another one)."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": self.mechanism,
            "KAFKA_SASL_USERNAME": self.username,
            "KAFKA_SASL_PASSWORD": self.password if password is None else password,
            "KAFKA_SSL_CA_FILE": str(self.ca_file),
        }

    def broker_properties(self) -> dict[str, str]:
        """What the broker's `server.properties` adds for this listener (its address is
        added to `listeners` and `advertised.listeners` by the caller)."""
        prefix = f"listener.name.{LISTENER.lower()}"
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return {
            f"{prefix}.sasl.enabled.mechanisms": self.mechanism,
            f"{prefix}.{self.mechanism.lower()}.sasl.jaas.config": scram,
            f"{prefix}.ssl.keystore.type": "PEM",
            f"{prefix}.ssl.keystore.location": str(self.keystore),
        }

    def format_arguments(self) -> list[str]:
        """`kafka-storage format` arguments that create the user with its password."""
        return ["--add-scram", f"{self.mechanism}=[name={self.username},password={self.password}]"]


def secured_listener(directory: Path, port: int) -> SecuredListener:
    """A certificate authority, a broker certificate for 127.0.0.1 signed by it and a
    random password, written under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "onboarding test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALID)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(broker_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALID)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    keystore = directory / "broker-keystore.pem"
    keystore.write_bytes(
        broker_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + broker.public_bytes(pem)
        + ca.public_bytes(pem)
    )
    keystore.chmod(0o600)
    return SecuredListener(port, ca_file, keystore, password=secrets.token_urlsafe(18))
