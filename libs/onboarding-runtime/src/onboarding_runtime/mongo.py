"""One PyMongo async client per service, and the database named by the URL."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

DEFAULT_DATABASE = "onboarding"
# Every operation ends within this (PyMongo's client-side timeout): a write stuck on a
# database that went away must not hold a partition past the group's rebalance timeout.
OPERATION_TIMEOUT_MS = 30_000

Document = dict[str, Any]


def open_mongo(url: str) -> tuple[AsyncMongoClient[Document], AsyncDatabase[Document]]:
    """Connects lazily: building the client does no I/O, so a service starts while Mongo is down."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=3000,
        timeoutMS=OPERATION_TIMEOUT_MS,
        tz_aware=True,
    )
    name = parse_uri(url).get("database") or DEFAULT_DATABASE
    return client, client[name]


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await client.admin.command("ping")
    except PyMongoError:
        return False
    return True
