"""Background tasks that must run as long as the service: when one ends, the service fails.

A consumer or follower task is the service's reason to exist; if it ends while the service
is not stopping (it returned, raised anything, or was cancelled by someone else), the
process must not go on answering HTTP as if all were well. `Supervisor.watch` records the
first such end as a short cause (`"consumer stopped: RecursionError"`: the exception's type
only, since a foreign message may quote a record), logs it once with its traceback (our log
formatter withholds foreign messages), makes `ready()` false and calls `on_failure` once,
which `serve` sets to stop the server so the process exits non-zero and is restarted.

    supervisor = Supervisor()
    supervisor.watch(asyncio.create_task(runner.run()), "consumer")
    health_router(lambda: {..., "tasks": supervisor.ready}, causes=supervisor.causes)
    ...  # lifespan shutdown: supervisor.stopping() before stopping the tasks
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

OnFailure = Callable[[str], None]


def _ignore(cause: str) -> None:
    return None


class Supervisor:
    def __init__(self, on_failure: OnFailure | None = None) -> None:
        # Called once, with the cause, at the first failure; settable until then.
        self.on_failure: OnFailure = on_failure or _ignore
        self.failure: str | None = None  # the first cause
        self._causes: dict[str, str] = {}  # task name -> cause
        self._stopping = False

    def watch(self, task: asyncio.Task[Any], name: str) -> asyncio.Task[Any]:
        """Fail the service if `task` ends before `stopping()`; returns `task`."""
        task.add_done_callback(lambda done: self._ended(done, name))
        return task

    def stopping(self) -> None:
        """An intended shutdown begins: tasks that end from now on are not failures."""
        self._stopping = True

    async def ready(self) -> bool:
        """A readiness check (`health_router`): False once a watched task failed."""
        return self.failure is None

    def causes(self) -> dict[str, str]:
        """What failed, by task name, for the readiness answer (`health_router(causes=)`)."""
        return dict(self._causes)

    def _ended(self, task: asyncio.Task[Any], name: str) -> None:
        if self._stopping:
            if not task.cancelled():
                task.exception()  # retrieved: an expected end is not "never retrieved"
            return
        error: BaseException | None = None
        if task.cancelled():
            what = "CancelledError"
        else:
            error = task.exception()
            what = "returned" if error is None else type(error).__name__
        cause = f"{name} stopped: {what}"
        self._causes.setdefault(name, cause)
        log.error("background task ended: %s", cause, exc_info=error)
        if self.failure is not None:
            return
        self.failure = cause
        try:
            self.on_failure(cause)
        except Exception:
            log.exception("on_failure failed")
