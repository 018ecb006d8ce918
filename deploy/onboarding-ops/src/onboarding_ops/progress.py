"""Progress of long work: a rich bar on stderr for people, nothing for tests that don't ask."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Tracker(Protocol):
    def begin(self, description: str, total: int) -> None: ...
    def advance(self, count: int = 1) -> None: ...


class NoProgress:
    def begin(self, description: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


class RichProgress:
    """One bar per `begin`; the bar ends full when the next begins or the work ends."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:  # a failed run keeps its bar where it stopped
            self._finish()
        self._progress.stop()

    def begin(self, description: str, total: int) -> None:
        self._finish()
        self._task = self._progress.add_task(description, total=total)

    def advance(self, count: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)

    def _finish(self) -> None:
        # Compacted topics have gaps: a scan can end below its estimated total.
        if self._task is not None:
            task = next(t for t in self._progress.tasks if t.id == self._task)
            self._progress.update(self._task, completed=task.total)
