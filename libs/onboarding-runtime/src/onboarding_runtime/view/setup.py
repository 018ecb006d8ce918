"""Create the view's collections at start-up, idempotently.

Every lookup is by `_id`, which every MongoDB collection indexes by itself, so no secondary
index is created: one would only slow the writes down. (FerretDB v1 ignores its own `_id`
index for lookups; see tests/bench/query_lookup_scaling.py.)
"""

from __future__ import annotations

import contextlib

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid

from onboarding_runtime.mongo import Document
from onboarding_runtime.view.pointer import META, ActiveCollection
from onboarding_runtime.view.status import ACCEPTED, FAILED, WAITING


async def ensure_view(db: AsyncDatabase[Document], pointer: ActiveCollection) -> None:
    existing = set(await db.list_collection_names())
    for name in (await pointer.name(), ACCEPTED, FAILED, *WAITING, META):
        if name not in existing:
            with contextlib.suppress(CollectionInvalid):  # another replica was first
                await db.create_collection(name)
