"""How a lookup by `_id` scales with the collection size on FerretDB v1 (SQLite backend).

Run: `uv run python -m tests.bench.query_lookup_scaling`. Two document shapes are compared:
`nested` keeps the user as a sub-document, `body` keeps it as the response's JSON text.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time

from pymongo import AsyncMongoClient

from tests.bench.query_infra import bench_infra, with_database

SIZES = (1_000, 10_000, 100_000)


def user(i: int) -> dict[str, object]:
    return {
        "id": f"e{i:07d}",
        "name": f"First{i} Last{i}",
        "email": f"first{i}.last{i}@example.com",
        "title": "Software Engineer",
        "department": "Engineering",
        "startDate": "2024-01-15",
        "groups": ["Everyone", "Engineering", "Full-Time Employees"],
        "applications": ["Google Workspace", "Slack", "Jira"],
        "onboarded": True,
    }


def document(i: int, shape: str) -> dict[str, object]:
    payload = user(i)
    doc: dict[str, object] = {"_id": payload["id"], "version": f"{i:041d}", "etag": "x" * 16}
    if shape == "nested":
        doc["user"] = payload
    else:
        doc["body"] = json.dumps(payload, separators=(",", ":"))
    return doc


async def measure(url: str, shape: str) -> list[tuple[int, float, float]]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    coll = client.get_default_database()[f"users_{shape}"]
    rows = []
    loaded = 0
    try:
        for size in SIZES:
            while loaded < size:
                chunk = min(1000, size - loaded)
                await coll.insert_many([document(loaded + j, shape) for j in range(chunk)])
                loaded += chunk
            samples = []
            for _ in range(200 if size <= 10_000 else 30):
                key = f"e{random.randrange(size):07d}"
                started = time.perf_counter()
                found = await coll.find_one({"_id": key})
                samples.append((time.perf_counter() - started) * 1000)
                assert found is not None
            samples.sort()
            p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            rows.append((size, statistics.median(samples), p99))
    finally:
        await client.close()
    return rows


def main() -> None:
    with bench_infra() as cfg:
        for shape in ("nested", "body"):
            url = with_database(cfg.mongodb_url, f"scaling_{shape}")
            for size, p50, p99 in asyncio.run(measure(url, shape)):
                print(
                    f"{shape:7s} {size:>7,} docs  find_one by _id"
                    f"  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms"
                )


if __name__ == "__main__":
    main()
