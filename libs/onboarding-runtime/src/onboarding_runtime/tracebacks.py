"""Tracebacks for the logs without foreign text: where it failed, never what it quoted.

A library's exception message may quote what it was handed (pydantic quotes the input, a
driver the document, an HTTP client the response): an email, a name, a record. So a logged
traceback keeps every frame (file, line, function, the source line) and each exception's
type, and keeps a message only when it is one of ours (`HandlerError`: a code and counts).
Chained causes and exception groups are rendered the same way.
"""

from __future__ import annotations

import traceback

from onboarding_runtime.kafka.errors import HandlerError


def _header(exc: BaseException) -> str:
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    if isinstance(exc, HandlerError):
        return f"{name}: {exc}"
    return f"{name} (message withheld: it may quote personal data)"


def _render(exc: BaseException, seen: set[int], indent: str) -> list[str]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    lines: list[str] = []
    for position, item in enumerate(reversed(chain)):
        if position:
            lines.append(f"{indent}The above exception led to the following one:\n")
        lines.append(f"{indent}Traceback (most recent call last):\n")
        for frame in traceback.format_list(traceback.extract_tb(item.__traceback__)):
            lines.extend(f"{indent}{line}\n" for line in frame.rstrip("\n").split("\n"))
        lines.append(f"{indent}{_header(item)}\n")
        if isinstance(item, BaseExceptionGroup):
            for number, member in enumerate(item.exceptions, 1):
                lines.append(f"{indent}+---- {number} ----\n")
                lines.extend(_render(member, seen, indent + "| "))
    return lines


def exception_text(exc: BaseException) -> str:
    """The traceback of `exc` as `logging` would print it, less foreign messages."""
    return "".join(_render(exc, set(), "")).rstrip("\n")
