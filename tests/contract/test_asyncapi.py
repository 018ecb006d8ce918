"""docs/asyncapi.yaml: valid by the official AsyncAPI parser, and saying what the code does
(every topic with its partitions and configuration, the header names)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from ingest_service.delivery_index import DELIVERY_ID_HEADER
from ingest_service.tracing import continue_trace, kafka_trace_headers
from onboarding_events import CONTENT_TYPE_HEADER, REDRIVE_HEADER, REPLAY_HEADER, redrive_key
from onboarding_events.hr import EMPLOYEE_ID_PATTERN
from onboarding_events.waiting import REASONS, RETRY_TOPICS, WAITING_HEADERS, Waiting
from onboarding_ops.erase import ERASED_AT_HEADER
from onboarding_ops.topics import ALL_SPECS
from onboarding_runtime.kafka import dead_letter as dlq
from onboarding_runtime.pii import Pseudonymizer

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
VALIDATE = ROOT / "tests" / "contract" / "asyncapi" / "validate.cjs"
PARSER = ROOT / ".data" / "tools" / "asyncapi-parser"  # installed by `make tools`


def validate(document: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "node is not installed, so the AsyncAPI parser cannot run: apt-get install nodejs npm"
        )
    if not (PARSER / "installed").is_file():
        pytest.fail(f"the AsyncAPI parser is not installed in {PARSER}: run `make tools`")
    return subprocess.run(
        [node, str(VALIDATE), str(PARSER), str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_document_is_valid_asyncapi() -> None:
    done = validate(DOCUMENT)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stdout, done.stdout


def test_the_check_refuses_an_invalid_document(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "docs" / "schemas", tmp_path / "schemas")
    broken = tmp_path / "asyncapi.yaml"
    # AsyncAPI 2's verb, and a payload file that is not there.
    text = DOCUMENT.read_text().replace("action: send", "action: publish", 1)
    broken.write_text(text.replace("published/user.enriched.json", "published/gone.json"))

    done = validate(broken)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "operations.publishHrUser.action" in done.stdout
    assert "gone.json" in done.stdout


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def addresses(channel: dict[str, Any]) -> list[str]:
    """The topics a channel stands for: its address with each `{parameter}` put in as each
    value the parameter allows (the retry tiers are one channel, `...retry.{tier}`)."""
    found = [channel["address"]]
    for name, parameter in channel.get("parameters", {}).items():
        found = [a.replace(f"{{{name}}}", value) for a in found for value in parameter["enum"]]
    return found


def test_every_topic_is_a_channel_with_its_partitions_and_configuration() -> None:
    channels = {
        address: c["bindings"]["kafka"]
        for c in document()["channels"].values()
        for address in addresses(c)
    }

    assert set(channels) == {spec.name for spec in ALL_SPECS}
    for spec in ALL_SPECS:
        kafka = channels[spec.name]
        assert kafka["partitions"] == spec.partitions, spec.name
        described = {
            name: ",".join(value) if isinstance(value, list) else str(value)
            for name, value in kafka["topicConfiguration"].items()
        }
        wanted = {"cleanup.policy": "delete", **spec.configs}
        assert described == wanted, spec.name


def header_names(schema: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        return header_names(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas)
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= header_names(part, schemas)
    return names


def test_the_headers_are_the_ones_the_code_sets() -> None:
    components = document()["components"]
    messages, schemas = components["messages"], components["schemas"]

    hr = header_names(messages["hrUserUpserted"]["headers"], schemas)
    ingest = {
        CONTENT_TYPE_HEADER,
        DELIVERY_ID_HEADER,
        *kafka_trace_headers(continue_trace(None)[1]),
    }
    assert ingest | {REPLAY_HEADER, REDRIVE_HEADER} == hr
    waiting = messages["hrUserWaiting"]["headers"]
    assert header_names(waiting, schemas) == hr | WAITING_HEADERS
    assert set(waiting["allOf"][-1]["required"]) == WAITING_HEADERS
    dead_letter = header_names(messages["hrUserDeadLettered"]["headers"], schemas)
    failure = {dlq.ERROR_CODE, dlq.ERROR_MESSAGE, dlq.ATTEMPTS, dlq.FIRST_FAILURE}
    # A dead letter from a retry tier keeps the tier's headers.
    assert hr | WAITING_HEADERS | failure | {dlq.LAST_FAILURE, dlq.SOURCE} == dead_letter
    assert header_names(messages["userErased"]["headers"], schemas) == {ERASED_AT_HEADER}


def test_the_keys_are_the_ones_the_code_writes() -> None:
    components = document()["components"]
    messages, schemas = components["messages"], components["schemas"]

    assert schemas["employeeId"]["pattern"] == EMPLOYEE_ID_PATTERN
    erasure_key = messages["employeeErased"]["bindings"]["kafka"]["key"]["pattern"]
    assert re.fullmatch(erasure_key, Pseudonymizer(b"any key")("12345"))
    redrive = messages["deadLetterRedriven"]["bindings"]["kafka"]["key"]["pattern"]
    assert re.fullmatch(redrive, redrive_key(3, 1042))


def test_the_retry_headers_are_described_as_the_code_writes_them() -> None:
    schemas = document()["components"]["schemas"]
    described = schemas["waitingHeaders"]["properties"]
    moment = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)

    for tier, topic in enumerate(RETRY_TOPICS, start=1):
        waiting = Waiting(tier, moment, moment, moment, "hr.users.v1", 3, 42, "scheduled")
        assert waiting.topic == topic
        for name, value in waiting.headers():
            allowed = described[name]
            if "pattern" in allowed:
                assert re.fullmatch(allowed["pattern"], value.decode()), name
            else:
                assert value.decode() in allowed["enum"], name
    assert described["onboarding-waiting"]["enum"] == list(REASONS)
