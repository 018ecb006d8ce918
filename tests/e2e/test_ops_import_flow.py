"""`onboarding-ops import` on the running stack: a file of HR rows becomes users, once each.

The stack's ingest keeps its default rate limit (50 records/s, a burst of 1,000), so the
import meets real `429`s and waits them out. The simulator knows every valid person, and
its own rate limits are lifted while these tests run (thousands of enrichments at Okta's
default limits would take many minutes). Each test waits until every valid person is
served: that checks them all, and leaves enrich-service idle for the tests after it (it
handles about ten people a second on the test stack, so the large import takes minutes).
"""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from onboarding_devstack.polling import eventually, eventually_async
from onboarding_devstack.stack import StackConfig
from onboarding_events import HR_USERS_TOPIC

from tests.e2e.ops_support import OPS, ops, ops_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIELDS = [
    "employee_id",
    "first_name",
    "last_name",
    "preferred_name",
    "email",
    "title",
    "department",
    "start_date",
]
GROUPS = ["Everyone", "Imported"]


@pytest.fixture
def okta_unthrottled(stack: StackConfig) -> Iterator[None]:
    """The simulator's rate limits out of the way for this test, then as they were."""
    simulator = f"{stack.url('okta-simulator')}/_sim/rate-limits"
    limits = httpx.get(simulator).json()
    for limit in limits:
        body = {"endpoint": limit["endpoint"], "limit": 1_000_000}
        httpx.put(simulator, json=body).raise_for_status()
    try:
        yield
    finally:
        for limit in limits:
            httpx.put(simulator, json=limit).raise_for_status()


def person(tag: str, n: int) -> dict[str, str]:
    """A valid HR row, its optional fields filled in some rows and not in others."""
    return {
        "employee_id": f"imp-{tag}-{n:04d}",
        "first_name": "José" if n % 11 == 0 else f"First{n}",
        "last_name": f"Last{n}",
        "preferred_name": f"P{n}" if n % 7 == 0 else "",
        "email": f"imp.{tag}.{n}@example.com",
        "title": "Engineer, Platform" if n % 3 == 0 else "",
        "department": "Engineering" if n % 2 == 0 else "",
        "start_date": "2024-01-15" if n % 5 == 0 else "",
    }


def enriched(row: dict[str, str]) -> dict[str, Any]:
    """What GET /v1/users/{id} answers for the row (docs/http.md)."""
    return {
        "id": row["employee_id"],
        "name": f"{row['first_name']} {row['last_name']}",
        "email": row["email"],
        "title": row["title"] or None,
        "department": row["department"] or None,
        "startDate": row["start_date"] or None,
        "groups": GROUPS,
        "applications": [],
        "onboarded": True,
    }


def put_in_okta(stack: StackConfig, rows: list[dict[str, str]]) -> None:
    with httpx.Client(base_url=stack.url("okta-simulator"), timeout=10) as client:
        for row in rows:
            body = {
                "email": row["email"],
                "first_name": "Im",
                "last_name": "Port",
                "groups": GROUPS,
            }
            client.put("/_sim/users", json=body).raise_for_status()


def wait_until_served(stack: StackConfig, rows: list[dict[str, str]]) -> None:
    """Every row is a user, exactly as the HR row says. Each round asks only until the first
    user not there yet (the same order every round), so waiting costs few requests."""
    waiting = {row["employee_id"]: row for row in rows}
    with httpx.Client(base_url=stack.url("query-service"), timeout=10) as client:

        def all_served() -> bool:
            for employee_id in sorted(waiting):
                response = client.get(f"/v1/users/{employee_id}")
                if response.status_code != 200:
                    return False
                assert response.json() == enriched(waiting.pop(employee_id))
            return True

        # enrich-service takes thousands of people at about 10 a second on the test stack
        eventually(all_served, within=600, every=1)


async def hr_records(bootstrap: str, prefix: str) -> list[tuple[str, str]]:
    """(employee id, delivery id) of every record of the HR topic for these employees."""
    consumer = AIOKafkaConsumer(
        HR_USERS_TOPIC,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = list(await eventually_async(lambda: consumer.assignment() or None))
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[str, str]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [
                    (r.key.decode(), dict(r.headers)["delivery-id"].decode())
                    for r in records
                    if r.key is not None and r.key.decode().startswith(prefix)
                ]
        return found
    finally:
        await consumer.stop()


def write_csv(path: Path, rows: Sequence[dict[str, str] | list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow(row.values() if isinstance(row, dict) else row)


@pytest.mark.timeout(900)
def test_an_import_of_600_rows_in_three_batches_makes_every_valid_person_a_user_once(
    stack: StackConfig, okta_unthrottled: None, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    rows: list[dict[str, str] | list[str]] = []
    valid: list[dict[str, str]] = []
    invalid: dict[int, str] = {}  # file line -> what the rejected file says about it
    for n in range(600):
        row = person(tag, n)
        if n % 50 == 7:
            row["email"] = "not-an-address"
            invalid[n + 2] = "email"
        elif n % 250 == 111:
            row["start_date"] = "2024-02-30"
            invalid[n + 2] = "start_date"
        elif n % 50 == 23:
            invalid[n + 2] = "csv_columns"
            rows.append([row["employee_id"], row["first_name"], row["email"]])
            continue
        else:
            valid.append(row)
        rows.append(row)
    path = tmp_path / "people.csv"
    write_csv(path, rows)
    put_in_okta(stack, valid)

    imported = ops(stack, "import", str(path), "--batch-size", "200", timeout=600)
    again = ops(stack, "import", str(path), "--batch-size", "200")

    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == (
        f"import {path}: 600 records read, {len(valid)} accepted, {len(invalid)} rejected "
        f"(rows and reasons in {path}.rejected.jsonl)\n"
    )
    assert again.returncode == 0, again.stderr
    assert (len(valid), len(invalid)) == (574, 26)  # the three kinds of bad rows, all there
    assert "600 of them sent by an earlier run" in again.stdout
    rejected = [
        json.loads(line) for line in Path(f"{path}.rejected.jsonl").read_text().splitlines()
    ]
    assert [r["line"] for r in rejected] == sorted(invalid)
    for r in rejected:
        reason = r["reasons"][0]
        assert invalid[r["line"]] in (reason["type"], reason["loc"][-1]), r
    assert rejected[0]["row"]["email"] == "not-an-address"  # the row as given
    written = asyncio.run(hr_records(stack.bootstrap_servers, f"imp-{tag}-"))
    assert Counter(employee for employee, _ in written) == {r["employee_id"]: 1 for r in valid}
    assert all(delivery.startswith("import-") for _, delivery in written)
    wait_until_served(stack, valid)


class HoldingProxy:
    """Between `import` and ingest: answers the first `passes` batches, then forwards the
    next one but never answers it, as if the operator's machine died once ingest had
    written the batch and before the answer came back."""

    def __init__(self, target: str, passes: int) -> None:
        self.holding = threading.Event()
        self._release = threading.Event()
        proxy = self
        answered: list[str] = []  # webhook-ids, in the order ingest first answered them

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                skip = {"host", "content-length", "connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                answer = httpx.post(target + self.path, content=body, headers=headers, timeout=60)
                batch = self.headers["webhook-id"]  # the same when a batch is sent again
                if answer.status_code == 207:
                    if batch not in answered:
                        answered.append(batch)
                    if answered.index(batch) >= passes:
                        proxy.holding.set()
                        proxy._release.wait()
                        return
                self.send_response(answer.status_code)
                for name in ("content-type", "retry-after"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.timeout(600)
def test_an_import_killed_mid_batch_resumes_and_writes_nothing_twice(
    stack: StackConfig, okta_unthrottled: None, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    valid = [person(tag, n) for n in range(300)]
    path = tmp_path / "people.csv"
    write_csv(path, valid)
    put_in_okta(stack, valid)
    proxy = HoldingProxy(stack.url("ingest-service"), passes=2)
    log = (tmp_path / "first-run.log").open("w")
    try:
        first = subprocess.Popen(
            [OPS, "import", str(path), "--batch-size", "50"],
            env={**ops_env(stack), "INGEST_URL": proxy.url},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            eventually(proxy.holding.is_set, within=120)
            state = json.loads(Path(f"{path}.import-state").read_text())
        finally:
            first.kill()
            first.wait(timeout=30)
    finally:
        proxy.close()
        log.close()

    resumed = ops(stack, "import", str(path), timeout=300)

    assert state["batches_done"] == 2  # the third batch was written, its answer lost
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == (
        f"import {path}: 300 records read, 300 accepted, 0 rejected; "
        "100 of them sent by an earlier run\n"
    )
    written = asyncio.run(hr_records(stack.bootstrap_servers, f"imp-{tag}-"))
    assert Counter(employee for employee, _ in written) == {r["employee_id"]: 1 for r in valid}
    batch_ids = {delivery.partition("#")[0].rsplit("-", 1)[1] for _, delivery in written}
    assert batch_ids == {"0", "1", "2", "3", "4", "5"}
    wait_until_served(stack, valid)
