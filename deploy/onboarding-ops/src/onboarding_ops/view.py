"""What operations need of the MongoDB view: whether someone is in it, and removing them.

A port (`View`) with one real adapter over the shared read model (`onboarding_runtime.view`):
the live users collection behind its pointer, and the status view.
"""

from __future__ import annotations

from typing import Protocol

from onboarding_runtime.mongo import Document
from onboarding_runtime.view import ActiveCollection, StatusView, UsersView
from pymongo.asynchronous.database import AsyncDatabase


class View(Protocol):
    async def knows(self, employee_id: str) -> bool:
        """In the users view or the status view."""
        ...

    async def erase(self, employee_id: str) -> None:
        """Remove them from both."""
        ...


class MongoView:
    def __init__(self, db: AsyncDatabase[Document], *, pointer_ttl_s: float) -> None:
        self.db = db
        # No caching: an operator's command must see the pointer as it is now.
        self.pointer = ActiveCollection(db, ttl_s=0)
        # How long the services may keep following an old pointer (their VIEW_POINTER_TTL_S).
        self.pointer_ttl_s = pointer_ttl_s
        self._users = UsersView(db, pointer=self.pointer)
        self._status = StatusView(db, self._users)

    async def knows(self, employee_id: str) -> bool:
        if await self._users.get(employee_id) is not None:
            return True
        return await self._status.get(employee_id) is not None

    async def erase(self, employee_id: str) -> None:
        await self._users.erase(employee_id)
        await self._status.erase(employee_id)
