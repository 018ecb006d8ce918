"""`POST /v1/hr/webhooks:batch` from the sender's side: batches, credentials, retries.

A batch is sent until every record in it is answered for good (`202` or `422`):

- `207` with some records `503` (Kafka did not acknowledge them in time): the whole batch
  again, as docs/http.md asks, after `Retry-After` (at least the backoff). Record n is
  delivery `{webhook-id}#n`, so what was written is not written again.
- `429`: the same batch after `Retry-After` (a batch takes one token per record).
- `5xx`, a timeout or no connection: again after the backoff, honouring `Retry-After`.
- `401` (credentials) or any other answer: `OpsError` at once; nothing to retry.

Transient failures are retried `MAX_ATTEMPTS` times per batch, rate limiting
`MAX_RATE_LIMITED` times; then `OpsError`, and running the import again resumes there.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from onboarding_runtime.webhook_signatures import signature_header

from onboarding_ops.bootstrap import Ops, Sleep
from onboarding_ops.errors import OpsError
from onboarding_ops.hr_file import Record, Row, Unreadable

BATCH_PATH = "/v1/hr/webhooks:batch"
MAX_BATCH_RECORDS = 1_000
MAX_BATCH_BYTES = 8 * 1024 * 1024
MAX_ATTEMPTS = 5
MAX_RATE_LIMITED = 30
BACKOFF_MAX_S = 30.0
# A batch of 1,000 is answered once Kafka acknowledged it (ingest's KAFKA_PUBLISH_TIMEOUT_S).
ANSWER_TIMEOUT_S = 60.0
Result = dict[str, Any]


@dataclass
class Batch:
    index: int  # from 0, in the file's order
    records: list[Record] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    size: int = 2  # bytes of the JSON array

    @property
    def rows(self) -> int:
        return len(self.records) + len(self.unreadable)

    def body(self) -> bytes:
        return b"[" + b",".join(r.body for r in self.records) + b"]"


def batches(rows: Iterable[Row], batch_size: int) -> Iterator[Batch]:
    """Up to `batch_size` records and 8 MiB each; an unreadable row goes with the batch it is
    read into. The same file and size always give the same batches (resuming relies on it)."""
    batch = Batch(0)
    for row in rows:
        if isinstance(row, Unreadable):
            batch.unreadable.append(row)
            continue
        if len(batch.records) == batch_size or batch.size + len(row.body) + 1 > MAX_BATCH_BYTES:
            yield batch
            batch = Batch(batch.index + 1)
        batch.records.append(row)
        batch.size += len(row.body) + 1
    if batch.rows:
        yield batch


class IngestGateway:
    def __init__(self, ops: Ops, client: httpx.AsyncClient) -> None:
        settings = ops.settings
        self._client = client
        self._sleep: Sleep = ops.sleep
        self._api_key = settings.import_api_key
        self._keys = settings.import_signing_keys()
        url = settings.ingest_url
        self.where = f"{url.scheme}://{url.host}:{url.port}{(url.path or '').rstrip('/')}"

    async def send(self, batch: Batch, webhook_id: str) -> list[Result]:
        """One final result per record, in order: `{"status": 202, ...}` or `422`."""
        body = batch.body()
        results: list[Result | None] = [None] * len(batch.records)
        failures = limited = 0
        while True:
            try:
                response = await self._client.post(
                    BATCH_PATH, content=body, headers=self._headers(webhook_id, body)
                )
            except httpx.TransportError as exc:
                failures += 1
                self._give_up_after(failures, batch, f"unreachable ({type(exc).__name__})")
                await self._sleep(_backoff(failures))
                continue
            status, wait = response.status_code, _retry_after(response)
            if status == 207:
                for n, result in enumerate(_results(response, batch)):
                    earlier = results[n]
                    if earlier is None or earlier["status"] == 503:
                        results[n] = result
                waiting = sum(r is not None and r["status"] == 503 for r in results)
                if not waiting:
                    return [r for r in results if r is not None]
                failures += 1
                problem = f"answered 503 for {waiting} records (Kafka did not acknowledge them)"
                self._give_up_after(failures, batch, problem)
            elif status == 429:
                limited += 1
                if limited > MAX_RATE_LIMITED:
                    raise OpsError(
                        f"ingest-service at {self.where} rate-limited batch {batch.index + 1} "
                        f"{MAX_RATE_LIMITED} times in a row (429); try again later or raise "
                        "its RATE_LIMIT_PER_S"
                    )
                await self._sleep(wait if wait is not None else _backoff(limited))
                continue
            elif status >= 500:
                failures += 1
                self._give_up_after(failures, batch, f"answered {status}: {_detail(response)}")
            elif status == 401:
                raise OpsError(
                    f"ingest-service at {self.where} refused the credentials "
                    f"(401: {_detail(response)}): set API_KEY and/or WEBHOOK_SECRET as it has them"
                )
            else:
                raise OpsError(
                    f"ingest-service at {self.where} answered {status} to batch "
                    f"{batch.index + 1}: {_detail(response)} (is INGEST_URL its address?)"
                )
            await self._sleep(max(wait or 0.0, _backoff(failures)))

    def _headers(self, webhook_id: str, body: bytes) -> dict[str, str]:
        headers = {"content-type": "application/json", "webhook-id": webhook_id}
        if self._api_key is not None:
            headers["x-api-key"] = self._api_key
        if self._keys:
            timestamp = int(time.time())  # signed afresh on every attempt: 5 minutes' tolerance
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = signature_header(self._keys, webhook_id, timestamp, body)
        return headers

    def _give_up_after(self, failures: int, batch: Batch, problem: str) -> None:
        if failures >= MAX_ATTEMPTS:
            raise OpsError(
                f"ingest-service at {self.where} {problem}, {failures} times for batch "
                f"{batch.index + 1}; run the same command again to resume from that batch "
                "(what it already wrote is not written twice)"
            )


@contextlib.asynccontextmanager
async def open_gateway(ops: Ops) -> AsyncIterator[IngestGateway]:
    timeout = httpx.Timeout(ANSWER_TIMEOUT_S, connect=ops.settings.ops_connect_timeout_s)
    async with httpx.AsyncClient(
        base_url=str(ops.settings.ingest_url), timeout=timeout, transport=ops.ingest_transport
    ) as client:
        yield IngestGateway(ops, client)


def _backoff(attempt: int) -> float:
    return float(min(2 ** (attempt - 1), BACKOFF_MAX_S))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isascii() and value.isdigit() and len(value) < 6 else None


def _results(response: httpx.Response, batch: Batch) -> list[Result]:
    try:
        results = response.json()["results"]
        valid = isinstance(results, list) and len(results) == len(batch.records)
        if valid and all(
            isinstance(r, dict) and r.get("status") in (202, 422, 503) for r in results
        ):
            return list(results)
    except (ValueError, KeyError, TypeError):
        pass
    raise OpsError(
        f"ingest-service answered batch {batch.index + 1} with a 207 that does not list one "
        f"result per record ({len(batch.records)})"
    )


def _detail(response: httpx.Response) -> str:
    """The answer's `detail` (ingest's messages never hold a secret or a record), short."""
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase or "no detail"
    if isinstance(detail, list):
        detail = "; ".join(str(e.get("msg", e)) if isinstance(e, dict) else str(e) for e in detail)
    return str(detail)[:300]
