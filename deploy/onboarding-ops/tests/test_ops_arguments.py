"""Wrong arguments are refused with one clear message and exit code 2, before any I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from onboarding_ops.arguments import parse_since
from onboarding_ops.bootstrap import Ops
from onboarding_ops.cli import app
from onboarding_ops.errors import BadArgument
from onboarding_ops.settings import Settings
from typer.testing import CliRunner

# Nothing listens there: a command that reached for the broker would fail with exit 1.
NOWHERE = Ops(
    Settings(
        kafka_bootstrap_servers="127.0.0.1:9",
        mongodb_url="mongodb://127.0.0.1:9/x",
        ops_connect_timeout_s=1,
    )
)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), obj=NOWHERE)
    return result.exit_code, result.output


def test_since_accepts_earliest_and_iso_times_with_utc_as_the_default_zone() -> None:
    assert parse_since("earliest") is None
    assert parse_since("2024-01-15T09:30:00Z") == datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
    assert parse_since("2024-01-15T09:30:00") == datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
    assert parse_since("2024-01-15") == datetime(2024, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "", "15/01/2024"])
def test_since_refuses_what_is_not_a_time(text: str) -> None:
    with pytest.raises(BadArgument, match="neither 'earliest' nor an ISO 8601 time"):
        parse_since(text)


def test_replay_with_a_bad_timestamp_exits_2_with_the_reason() -> None:
    code, output = invoke("replay", "--since", "last tuesday")

    assert code == 2
    assert "'last tuesday' is neither 'earliest' nor an ISO 8601 time" in output


def test_replay_since_a_future_time_exits_2() -> None:
    code, output = invoke("replay", "--since", "2999-01-01T00:00:00Z")

    assert code == 2
    assert "is in the future" in output


def test_replay_without_since_is_a_usage_error() -> None:
    code, output = invoke("replay")

    assert code == 2
    assert "--since" in output


@pytest.mark.parametrize(
    "args", [("erase", "not an id"), ("erase", "x" * 65), ("dlq", "redrive", "--employee", "a/b")]
)
def test_a_malformed_employee_id_exits_2(args: tuple[str, ...]) -> None:
    code, output = invoke(*args)

    assert code == 2
    assert "is not an employee id" in output


def test_an_unreachable_broker_is_one_message_and_exit_1() -> None:
    code, output = invoke("topics")

    assert code == 1
    assert "Kafka is unreachable at 127.0.0.1:9" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("topics",),
        ("replay",),
        ("rebuild-view",),
        ("erase",),
        ("dlq",),
        ("dlq", "list"),
        ("dlq", "redrive"),
        ("import",),
    ],
)
def test_every_command_has_help(args: tuple[str, ...]) -> None:
    code, output = invoke(*args, "--help")

    assert code == 0
    assert "Usage:" in output


def test_invalid_settings_exit_2_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("PII_HASH_KEY", raising=False)

    result = CliRunner().invoke(app, ["topics"])  # no obj: settings from the environment

    assert result.exit_code == 2
    assert "PII_HASH_KEY must be set in production" in result.output


@pytest.mark.parametrize(
    ("replicas", "min_insync", "reason"),
    [
        ("1", "2", "KAFKA_MIN_INSYNC_REPLICAS (2) is greater than KAFKA_REPLICATION_FACTOR (1)"),
        ("3", "4", "KAFKA_MIN_INSYNC_REPLICAS (4) is greater than KAFKA_REPLICATION_FACTOR (3)"),
        ("3", "0", "KAFKA_MIN_INSYNC_REPLICAS: Input should be greater than or equal to 1"),
    ],
)
def test_a_min_insync_that_no_write_could_reach_exits_2_before_any_io(
    monkeypatch: pytest.MonkeyPatch, replicas: str, min_insync: str, reason: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # reaching it would exit 1
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", replicas)
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", min_insync)

    result = CliRunner().invoke(app, ["topics"])

    assert result.exit_code == 2
    assert f"error: invalid settings: {reason}" in result.output
    assert "Traceback" not in result.output


def test_production_refuses_topics_with_one_replica_before_any_io(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("PII_HASH_KEY", "a-production-key")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # reaching it would exit 1
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "1")

    result = CliRunner().invoke(app, ["topics"])

    assert result.exit_code == 2
    assert "KAFKA_REPLICATION_FACTOR is 1 in production" in result.output
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "2")
    assert CliRunner().invoke(app, ["topics"]).exit_code == 1  # accepted; then no broker


def test_a_secret_file_that_is_missing_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.delenv("PII_HASH_KEY", raising=False)
    monkeypatch.setenv("PII_HASH_KEY_FILE", str(tmp_path / "absent"))

    result = CliRunner().invoke(app, ["topics"])

    assert result.exit_code == 2
    assert f"PII_HASH_KEY_FILE: {tmp_path / 'absent'} does not exist" in result.output
