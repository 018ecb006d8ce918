"""Every secret setting can come from the file `<NAME>_FILE` names, as compose and
Kubernetes mount secrets; anything doubtful refuses to start, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from onboarding_runtime.settings import (
    KafkaSettings,
    MongoSettings,
    ServiceSettings,
    load_settings,
)


class Settings(ServiceSettings, KafkaSettings, MongoSettings):
    pass


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PII_HASH_KEY", "MONGODB_URL", "KAFKA_SASL_PASSWORD", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "secret"
    path.write_text(text)
    return str(path)


def test_a_secret_is_read_from_its_file_without_the_trailing_newline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONGODB_URL_FILE", _file(tmp_path, "mongodb://u:p@db:27017/x?tls=true\n"))

    settings = load_settings(Settings, "svc")

    assert settings.mongodb_url.get_secret_value() == "mongodb://u:p@db:27017/x?tls=true"
    assert "u:p" not in repr(settings)


def test_production_accepts_its_required_key_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("PII_HASH_KEY_FILE", _file(tmp_path, "a-real-key"))

    assert load_settings(Settings, "svc").pii_hash_key.get_secret_value() == "a-real-key"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "PII_HASH_KEY_FILE: {path} does not exist"),
        ("", "PII_HASH_KEY_FILE: {path} is empty"),
        (" \n", "PII_HASH_KEY_FILE: {path} is empty"),
    ],
)
def test_a_missing_or_empty_file_refuses_to_start_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    reason: str,
) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("PII_HASH_KEY_FILE", str(path))

    with pytest.raises(SystemExit) as stopped:
        load_settings(Settings, "svc")

    assert stopped.value.code == 2
    assert f"svc: refusing to start: {reason.format(path=path)}" in capsys.readouterr().err


def test_both_the_variable_and_its_file_refuse_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "from-the-environment")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", _file(tmp_path, "from-a-file"))

    with pytest.raises(SystemExit):
        load_settings(Settings, "svc")

    err = capsys.readouterr().err
    assert "KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set" in err
    assert "from-the-environment" not in err
    assert "from-a-file" not in err


def test_a_setting_that_is_no_secret_has_no_file_variant(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS_FILE", _file(tmp_path, "elsewhere:9092"))

    assert load_settings(Settings, "svc").kafka_bootstrap_servers == "localhost:9092"
