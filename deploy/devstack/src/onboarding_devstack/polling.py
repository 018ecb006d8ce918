"""Poll with a deadline, never sleep and hope: the flows under test are asynchronous.

A probe answers `None` or `False` for "not yet"; anything else is the result.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def _done(result: object) -> bool:
    return result is not None and result is not False


def eventually(probe: Callable[[], T | None], *, within: float = 30.0, every: float = 0.2) -> T:
    """The first answer of `probe`, or AssertionError when the deadline passes."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if _done(result):
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        time.sleep(every)


async def eventually_async(
    probe: Callable[[], Awaitable[T | None] | T | None], *, within: float = 30.0, every: float = 0.1
) -> T:
    """`eventually` on an event loop; the probe may be a plain or an async function."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        if _done(result):
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(every)
