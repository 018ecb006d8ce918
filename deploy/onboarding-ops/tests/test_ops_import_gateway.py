"""`import` against ingest's batch endpoint, faked at the HTTP transport: the answers the
real stack cannot be made to give on demand (401, 429, records answered 503), and resuming.

`FakeIngest` keeps the endpoint's promises as docs/http.md states them: each record
validated by the HR model (a `422` with its reasons), record n of a batch written once
under delivery `{webhook-id}#n`, `503` records not written. The end-to-end test
(tests/e2e/test_ops_import_flow.py) runs the same command against the real services.
"""

from __future__ import annotations

import hashlib
import json
import stat
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from onboarding_events import HrUser
from onboarding_ops.bootstrap import Ops
from onboarding_ops.cli import app
from onboarding_ops.settings import Settings
from pydantic import ValidationError
from standardwebhooks import Webhook
from typer.testing import CliRunner, Result

SECRET = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy1vbmx5LTMyYnl0ZXMh"
FIELDS = "employee_id,first_name,last_name,email"


class FakeIngest:
    def __init__(self, secret: str | None = None, api_key: str | None = None) -> None:
        self.topic: list[dict[str, Any]] = []  # what was written, in order
        self.delivered: set[str] = set()
        self.requests: list[tuple[str, list[dict[str, Any]]]] = []  # webhook-id, records
        self.answers: list[httpx.Response] = []  # whole answers to give first, in order
        self.unavailable: list[int] = []  # per 207: how many trailing records get 503
        self._secret, self._api_key = secret, api_key

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/hr/webhooks:batch"
        if self._api_key is not None:
            assert request.headers["x-api-key"] == self._api_key
        if self._secret is not None:  # the reference implementation's check
            Webhook(self._secret).verify(request.content, dict(request.headers))
        webhook_id = request.headers["webhook-id"]
        records = json.loads(request.content)
        self.requests.append((webhook_id, records))
        if self.answers:
            return self.answers.pop(0)
        cut = len(records) - (self.unavailable.pop(0) if self.unavailable else 0)
        results = [self._accept(f"{webhook_id}#{n}", r, n < cut) for n, r in enumerate(records)]
        waiting = any(r["status"] == 503 for r in results)
        return httpx.Response(
            207, json={"results": results}, headers={"retry-after": "5"} if waiting else {}
        )

    def _accept(self, delivery: str, record: dict[str, Any], available: bool) -> dict[str, Any]:
        try:
            user = HrUser.model_validate(record)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            return {"status": 422, "errors": [{**e, "loc": ["body", *e["loc"]]} for e in errors]}
        if not available:
            return {"status": 503}
        if delivery not in self.delivered:
            self.delivered.add(delivery)
            self.topic.append(record)
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, delivery))
        return {"status": 202, "event_id": event_id, "employee_id": user.employee_id}

    def employees(self) -> Counter[str]:
        return Counter(record["employee_id"] for record in self.topic)


def ops_for(fake: FakeIngest, waits: list[float], **settings: Any) -> Ops:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return Ops(
        Settings(
            kafka_bootstrap_servers="127.0.0.1:9",
            mongodb_url="mongodb://127.0.0.1:9/x",
            ingest_url="http://ingest.test:8000",
            environment="test",
            **settings,
        ),
        sleep=sleep,
        ingest_transport=httpx.MockTransport(fake),
    )


def people(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("\n".join([FIELDS, *rows]) + "\n", encoding="utf-8")
    return path


def valid(n: int) -> str:
    return f"e{n},First{n},Last{n},person{n}@example.com"


def run(ops: Ops, *args: str) -> Result:
    return CliRunner().invoke(app, ["import", *args], obj=ops)


def rejected_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_import_sends_every_row_once_and_lists_the_rejected_with_reasons(
    tmp_path: Path,
) -> None:
    fake, waits = FakeIngest(), []
    path = people(tmp_path, valid(1), "e2,Ann,Lee,not-an-address", "e3,Bo", valid(4), valid(5))

    result = run(ops_for(fake, waits), str(path), "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"import {path}: 5 records read, 3 accepted, 2 rejected "
        f"(rows and reasons in {path}.rejected.jsonl)\n"
    )
    assert fake.employees() == {"e1": 1, "e4": 1, "e5": 1}
    assert [webhook_id for webhook_id, _ in fake.requests] == [
        f"import-{_sha(path)}-2-0",
        f"import-{_sha(path)}-2-1",
    ]
    rejected = rejected_lines(Path(f"{path}.rejected.jsonl"))
    assert [(r["line"], r["row"]) for r in rejected] == [
        (
            3,
            {
                "employee_id": "e2",
                "first_name": "Ann",
                "last_name": "Lee",
                "email": "not-an-address",
            },
        ),
        (4, ["e3", "Bo"]),
    ]
    assert rejected[0]["reasons"][0]["loc"] == ["body", "email"]
    assert rejected[1]["reasons"] == [
        {"loc": ["row"], "msg": "2 cells where the header has 4", "type": "csv_columns"}
    ]
    assert stat.S_IMODE(Path(f"{path}.rejected.jsonl").stat().st_mode) == 0o600
    assert waits == []


def test_a_finished_import_run_again_sends_nothing(tmp_path: Path) -> None:
    fake, waits = FakeIngest(), []
    path = people(tmp_path, valid(1), valid(2), "e3,Bo,Ek,nope")
    assert run(ops_for(fake, waits), str(path)).exit_code == 0

    again = run(ops_for(fake, waits), str(path))

    assert again.exit_code == 0, again.output
    assert len(fake.requests) == 1
    assert "3 records read, 2 accepted, 1 rejected" in again.stdout
    assert "3 of them sent by an earlier run" in again.stdout
    assert len(rejected_lines(Path(f"{path}.rejected.jsonl"))) == 1


def test_a_rate_limited_batch_is_sent_again_after_retry_after(tmp_path: Path) -> None:
    fake, waits = FakeIngest(), []
    fake.answers = [
        httpx.Response(429, json={"detail": "Too many requests"}, headers={"retry-after": "7"})
    ]
    path = people(tmp_path, valid(1), valid(2))

    result = run(ops_for(fake, waits), str(path))

    assert result.exit_code == 0, result.output
    assert waits == [7.0]
    assert fake.requests[0] == fake.requests[1]  # the same batch, the same webhook-id
    assert fake.employees() == {"e1": 1, "e2": 1}


def test_records_answered_503_are_sent_again_and_written_once(tmp_path: Path) -> None:
    fake, waits = FakeIngest(), []
    fake.unavailable = [2]
    path = people(tmp_path, valid(1), valid(2), valid(3))

    result = run(ops_for(fake, waits), str(path))

    assert result.exit_code == 0, result.output
    assert "3 records read, 3 accepted, 0 rejected" in result.stdout
    assert waits == [5.0]  # the answer's Retry-After, more than the first backoff
    assert [webhook_id for webhook_id, _ in fake.requests] == [fake.requests[0][0]] * 2
    assert fake.employees() == {"e1": 1, "e2": 1, "e3": 1}


def test_a_batch_still_unavailable_stops_the_run_and_a_rerun_resumes_there(
    tmp_path: Path,
) -> None:
    fake, waits = FakeIngest(), []
    fake.unavailable = [0, 1, 1, 1, 1, 1]  # the second batch's last record, five times
    path = people(tmp_path, valid(1), "e2,Ann,Lee,nope", valid(3), valid(4))
    ops = ops_for(fake, waits)

    failed = run(ops, str(path), "--batch-size", "2")

    assert failed.exit_code == 1
    assert (
        "answered 503 for 1 records (Kafka did not acknowledge them), 5 times for batch 2; "
        "run the same command again to resume from that batch" in failed.stderr
    )
    assert "Traceback" not in failed.output
    assert waits == [5.0, 5.0, 5.0, 8.0]
    # As if the run had died after writing batch 2's rejections, before recording the batch:
    with Path(f"{path}.rejected.jsonl").open("a", encoding="utf-8") as rejected:
        rejected.write('{"line": 99}\n')
    sent_before = len(fake.requests)

    resumed = run(ops, str(path))  # no --batch-size: the state file keeps the first run's

    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout == (
        f"import {path}: 4 records read, 3 accepted, 1 rejected (rows and reasons in "
        f"{path}.rejected.jsonl); 2 of them sent by an earlier run\n"
    )
    assert [w for w, _ in fake.requests[sent_before:]] == [f"import-{_sha(path)}-2-1"]
    assert fake.employees() == {"e1": 1, "e3": 1, "e4": 1}
    assert [r["line"] for r in rejected_lines(Path(f"{path}.rejected.jsonl"))] == [3]


def test_refused_credentials_stop_at_once_with_exit_1(tmp_path: Path) -> None:
    fake, waits = FakeIngest(), []
    fake.answers = [httpx.Response(401, json={"detail": "missing or wrong X-API-Key"})]
    path = people(tmp_path, valid(1))

    result = run(ops_for(fake, waits), str(path))

    assert result.exit_code == 1
    assert (
        "error: ingest-service at http://ingest.test:8000 refused the credentials "
        "(401: missing or wrong X-API-Key): set API_KEY and/or WEBHOOK_SECRET" in result.stderr
    )
    assert len(fake.requests) == 1
    assert not Path(f"{path}.import-state").exists()


def test_batches_carry_the_api_key_and_a_standard_webhooks_signature(tmp_path: Path) -> None:
    fake, waits = FakeIngest(secret=SECRET, api_key="first-key"), []
    path = people(tmp_path, valid(1))
    ops = ops_for(fake, waits, api_key="first-key, second-key", webhook_secret=SECRET)

    result = run(ops, str(path))

    assert result.exit_code == 0, result.output
    assert fake.employees() == {"e1": 1}


def test_a_changed_file_or_another_batch_size_is_not_resumed(tmp_path: Path) -> None:
    fake, waits = FakeIngest(), []
    fake.unavailable = [0, 1, 1, 1, 1, 1]
    path = people(tmp_path, valid(1), valid(2), valid(3))
    ops = ops_for(fake, waits)
    assert run(ops, str(path), "--batch-size", "2").exit_code == 1

    other_size = run(ops, str(path), "--batch-size", "3")
    path.write_text(path.read_text() + valid(4) + "\n")
    changed = run(ops, str(path))

    assert other_size.exit_code == 2
    assert "records an import with --batch-size 2: resume it with that size" in other_size.stderr
    assert changed.exit_code == 2
    assert f"{path} changed since the import recorded in {path}.import-state" in changed.stderr


def test_a_malformed_webhook_secret_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec_not base64!")

    result = CliRunner().invoke(app, ["import", str(people(tmp_path, valid(1)))])

    assert result.exit_code == 2
    assert (
        "invalid settings: WEBHOOK_SECRET: each secret must be whsec_ and base64" in result.output
    )
    assert "not base64!" not in result.output


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:32]
