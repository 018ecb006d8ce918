"""Where output goes: results on stdout, progress and errors on stderr."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console

from onboarding_ops.progress import RichProgress

# Wide enough that a table piped to a file or a script keeps each row on one line.
PIPE_WIDTH = 200


def out() -> Console:
    # Built per call, not at import: the stream is whatever sys.stdout is now (tests swap it).
    width = None if sys.stdout.isatty() else PIPE_WIDTH
    return Console(highlight=False, width=width)


def err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress() -> Iterator[RichProgress]:
    with RichProgress(err()) as tracker:
        yield tracker
