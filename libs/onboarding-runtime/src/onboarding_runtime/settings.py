"""Settings pieces every service composes into its one `Settings` class.

Each service reads its settings once, in `__main__` (through `load_settings`), and passes
them down; nothing here reads the environment at import time.

Secrets fail closed: a secret setting is a comma-separated list (so it can be rotated), and
one that is set but holds nothing once blanks and separators are dropped (`API_KEY=", "`)
counts as unset; in production that refuses to start, naming the setting.

Every secret setting (a `SecretStr` field) can instead be read from the file named by
`<NAME>_FILE` (`API_KEY_FILE=/run/secrets/api-key`), as compose and Kubernetes mount secrets:
both set, or the file missing, unreadable or empty, refuses to start naming the variable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from onboarding_runtime.kafka.connection import KafkaConnection, SaslMechanism, SecurityProtocol

Environment = Literal["development", "test", "production"]

# Only good for development: production must set PII_HASH_KEY (see `_require_pii_key`).
DEVELOPMENT_PII_KEY = "development-only-pii-key"

S = TypeVar("S", bound=BaseSettings)


def secret_items(value: SecretStr | None) -> list[str]:
    """The values a secret setting holds: comma-separated, stripped, blanks dropped."""
    if value is None:
        return []
    return [item.strip() for item in value.get_secret_value().split(",") if item.strip()]


def blank(value: SecretStr | None) -> bool:
    """Unset, or set to nothing but blanks and separators."""
    return not secret_items(value)


class SettingsFileError(ValueError):
    """A `<NAME>_FILE` that cannot stand in for `<NAME>` (the message names the variable)."""


def _is_secret(field: FieldInfo) -> bool:
    annotation = field.annotation
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


def read_secret_file(name: str, environ: Mapping[str, str]) -> str | None:
    """The value of secret `name` from the file `<name>_FILE` names, or None if that is unset.

    One trailing newline (as `echo` and most editors leave) is not part of the secret."""
    variable = f"{name}_FILE"
    path = environ.get(variable)
    if path is None:
        return None
    if name in environ:
        raise SettingsFileError(f"{name} and {variable} are both set: set only one")
    if not path.strip():
        raise SettingsFileError(f"{variable} is empty: name the file holding {name}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsFileError(f"{variable}: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsFileError(
            f"{variable}: {path} cannot be read ({type(exc).__name__})"
        ) from None
    value = text.removesuffix("\n").removesuffix("\r")
    if not value.strip():
        raise SettingsFileError(f"{variable}: {path} is empty")
    return value


def secret_names(settings_cls: type[BaseSettings]) -> frozenset[str]:
    """The variables of `settings_cls` that are secrets, so also read from `<NAME>_FILE`."""
    fields = settings_cls.model_fields
    return frozenset(name.upper() for name, field in fields.items() if _is_secret(field))


class SecretFiles(PydanticBaseSettingsSource):
    """Secret settings read from the files `<NAME>_FILE` variables name."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is done in __call__

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            if _is_secret(field):
                value = read_secret_file(name.upper(), self._environ)
                if value is not None:
                    values[name] = value
        return values


class SettingsBase(BaseSettings):
    """The one settings pattern: the environment, with secrets also from `<NAME>_FILE`."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None, frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, SecretFiles(settings_cls, os.environ), env_settings)


class ServiceSettings(SettingsBase):
    """What every service has: environment, logging, PII hashing, the HTTP bind address."""

    environment: Environment = "development"
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    pii_hash_key: SecretStr = SecretStr(DEVELOPMENT_PII_KEY)
    host: str = "127.0.0.1"

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @model_validator(mode="after")
    def _require_pii_key(self) -> ServiceSettings:
        key = self.pii_hash_key.get_secret_value()
        if self.production and (not key.strip() or key == DEVELOPMENT_PII_KEY):
            raise ValueError("PII_HASH_KEY must be set in production (a non-blank key)")
        return self


class KafkaSettings(SettingsBase):
    """How every Kafka client of the project connects: one block for both client libraries
    (`KafkaConnection` speaks each one's dialect)."""

    kafka_bootstrap_servers: str = "localhost:9092"
    # How long a publish may wait for the broker before the caller gives up.
    kafka_publish_timeout_s: float = Field(default=5.0, gt=0)
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    # Required with SASL_PLAINTEXT and SASL_SSL, with the username and password.
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # PEM files. Without a CA file, TLS trusts the system's certificate authorities (as a
    # managed Kafka with a public certificate needs); a client certificate needs its key.
    kafka_ssl_ca_file: Path | None = None
    kafka_ssl_cert_file: Path | None = None
    kafka_ssl_key_file: Path | None = None

    @model_validator(mode="after")
    def _security_is_whole(self) -> KafkaSettings:
        protocol = self.kafka_security_protocol
        sasl = protocol.startswith("SASL_")
        given = {
            "KAFKA_SASL_MECHANISM": self.kafka_sasl_mechanism is not None,
            "KAFKA_SASL_USERNAME": bool(self.kafka_sasl_username),
            "KAFKA_SASL_PASSWORD": not blank(self.kafka_sasl_password),
        }
        if sasl and not all(given.values()):
            missing = ", ".join(name for name, ok in given.items() if not ok)
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs {missing}")
        if not sasl and any(given.values()):
            named = ", ".join(name for name, ok in given.items() if ok)
            raise ValueError(f"{named} set, but KAFKA_SECURITY_PROTOCOL={protocol} uses no SASL")
        files = {
            "KAFKA_SSL_CA_FILE": self.kafka_ssl_ca_file,
            "KAFKA_SSL_CERT_FILE": self.kafka_ssl_cert_file,
            "KAFKA_SSL_KEY_FILE": self.kafka_ssl_key_file,
        }
        if not protocol.endswith("SSL") and any(files.values()):
            named = ", ".join(name for name, path in files.items() if path)
            raise ValueError(f"{named} set, but KAFKA_SECURITY_PROTOCOL={protocol} uses no TLS")
        if (self.kafka_ssl_cert_file is None) != (self.kafka_ssl_key_file is None):
            raise ValueError("KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together")
        for name, path in files.items():
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: {path} is not a file")
        return self

    def kafka_connection(self) -> KafkaConnection:
        password = self.kafka_sasl_password
        return KafkaConnection(
            self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=password.get_secret_value() if password is not None else None,
            ssl_ca_file=self.kafka_ssl_ca_file,
            ssl_cert_file=self.kafka_ssl_cert_file,
            ssl_key_file=self.kafka_ssl_key_file,
        )


class MongoSettings(SettingsBase):
    # A secret: it may hold a password (`mongodb://user:pass@host/db?tls=true`).
    mongodb_url: SecretStr = SecretStr("mongodb://localhost:27017/onboarding")


def settings_errors(exc: ValidationError) -> list[str]:
    """One line per problem, naming the setting and never echoing its value (pydantic's own
    text quotes the input, which may hold a secret)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        name = "_".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if name else message)
    return lines


def load_settings(cls: type[S], service: str) -> S:
    """Read the settings once at start; on bad settings, say which and exit with status 2."""
    try:
        return cls()
    except ValidationError as exc:
        lines = settings_errors(exc)
    except SettingsFileError as exc:
        lines = [str(exc)]
    for line in lines:
        print(f"{service}: refusing to start: {line}", file=sys.stderr)
    raise SystemExit(2)
