"""Find the places in a file that refer to a location outside the repository.

A clone has to stand alone: nothing it tracks may read, link or point to a folder that sits
beside it on one developer's machine, or to a machine's own folders. Four kinds are found:

- relative paths whose `..` segments climb above the repository root when resolved against
  the folder of the file that names them; given the tracked paths, also a path that
  names nothing tracked from there and would climb above the root read from the root (prose
  often writes paths from the root);
- absolute paths into a machine's own folders: under work, home, tmp or Users at the top of
  the file system;
- paths computed from `__file__` (`Path(__file__)` with `.parents[N]` or chained `.parent`,
  also through a name assigned from it; nested `os.path.dirname`) that climb above the root
  given how deep the file sits;
- the path component `shared` on a line that climbs folders (`..`, `.parent`, `dirname`), at
  any depth: the sibling folder the repository once depended on.

URLs are left out, and `..` only counts as a whole path segment (so `...` in prose does not).
A line holding `stands-alone: allow` is skipped: for this checker's own test snippets.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

ALLOW_MARKER = "stands-alone: allow"

# What a finding says, one per kind.
RELATIVE = "relative path climbs above the repository root"
FROM_ROOT = "relative path names nothing here, and read from the root climbs above it"
MACHINE = "absolute path into this machine's folders"
COMPUTED = "path computed from __file__ climbs above the repository root"
SHARED = "`shared` as a path component beside a climb out of a folder"

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'`<>()\[\]]*")
# What separates path-like words: spaces, quotes, brackets (Markdown links, calls), `=`, `,`.
_DELIMITERS = re.compile(r"[\s\"'`()\[\]<>{},;=|*]+")
_MACHINE_PATH = re.compile(r"(?<![\w.~$})/-])/(?:work|home|tmp|Users)/[^\s\"'`<>()\[\],;]*")

_STEPS = r"(?:\s*\.\s*(?:resolve\(\s*\)|absolute\(\s*\)|parent\b|parents\s*\[\s*\d+\s*\]))*"
_FROM_FILE = re.compile(r"\bPath\(\s*__file__\s*\)(?P<steps>" + _STEPS + ")")
_ALIAS = re.compile(
    r"^[ \t]*(?P<name>[A-Za-z_]\w*)[ \t]*(?::[^=\n]+)?=[ \t]*"
    r"(?:pathlib\.)?Path\(\s*__file__\s*\)(?P<steps>" + _STEPS + r")[ \t]*(?:#.*)?$",
    re.MULTILINE,
)
_STEP = re.compile(r"parents\s*\[\s*(?P<n>\d+)\s*\]|parent\b")
_DIRNAMES = re.compile(
    r"(?P<dirnames>(?:(?:os\.)?(?:path\.)?dirname\(\s*)+)"
    r"(?:(?:os\.)?(?:path\.)?(?:abspath|realpath)\(\s*)?__file__"
)
_CLIMB = re.compile(r"\.parents?\b|\bdirname\(|(?<![\w.])\.\.(?![\w.])")
_SHARED = re.compile(r"[\"']shared[\"']|(?<![\w.-])shared/|/shared(?![\w-])")


@dataclass(frozen=True)
class Finding:
    """One reference outside the repository: where it is and what it is."""

    path: str
    line: int
    why: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.why}: {self.text.strip()}"


def tracked_names(paths: Iterable[str]) -> frozenset[str]:
    """The given files (`git ls-files`) and every folder that holds one: what a path can name."""
    names: set[str] = set()
    for path in paths:
        pure = PurePosixPath(path)
        names.add(str(pure))
        names.update(str(parent) for parent in pure.parents if str(parent) != ".")
    return frozenset(names)


def find_outside_refs(
    path: str, text: str, tracked: Collection[str] | None = None
) -> list[Finding]:
    """Every reference outside the repository in `text`, the content of the tracked file at
    `path` (relative to the repository root, `/`-separated), in line order. `tracked`
    (`tracked_names`) also lets a relative path that names nothing here be read from the root.
    """
    folder = PurePosixPath(path).parts[:-1]
    lines = text.split("\n")
    found: dict[tuple[int, str], Finding] = {}

    def report(line: int, why: str) -> None:
        content = lines[line - 1] if 0 < line <= len(lines) else ""
        if ALLOW_MARKER not in content:
            found.setdefault((line, why), Finding(path, line, why, content))

    for number, content in enumerate(lines, start=1):
        without_urls = _URL.sub(" ", content)
        for word in _relative_paths(without_urls):
            target = _resolve(folder, word)
            if target is None:
                report(number, RELATIVE)
            elif tracked is not None and target not in tracked and _resolve((), word) is None:
                report(number, FROM_ROOT)
        if _MACHINE_PATH.search(without_urls):
            report(number, MACHINE)
        if _CLIMB.search(without_urls) and _SHARED.search(without_urls):
            report(number, SHARED)
    for number in _computed_climbs(text, len(folder)):
        report(number, COMPUTED)
    return sorted(found.values(), key=lambda f: (f.line, f.why))


def _relative_paths(content: str) -> list[str]:
    """Path-like words with a `..` segment that do not start at `/` (no known base), without
    a `#fragment` or the punctuation of the sentence around them."""
    words = []
    for word in _DELIMITERS.split(content):
        if word.startswith("/") or ".." not in word.split("/"):
            continue
        word = word.partition("#")[0]
        if word.rsplit("/", 1)[-1] not in (".", ".."):
            word = word.rstrip(".:!?")
        words.append(word)
    return words


def _resolve(folder: tuple[str, ...], relative: str) -> str | None:
    """`relative` resolved against `folder` (its parts below the root), as a path from the
    root (`.` for the root itself), or None when it climbs above the root."""
    parts = list(folder)
    for segment in relative.split("/"):
        if segment == "..":
            if not parts:
                return None
            parts.pop()
        elif segment not in ("", "."):
            parts.append(segment)
    return "/".join(parts) or "."


def _levels(steps: str) -> int:
    """Folders climbed from the file: `.parent` is its folder (1), `.parents[N]` is N + 1."""
    return sum(int(m["n"]) + 1 if m["n"] is not None else 1 for m in _STEP.finditer(steps))


def _computed_climbs(text: str, depth: int) -> list[int]:
    """Lines where a path computed from `__file__` ends above the root.

    A file `depth` folders below the root reaches the root by climbing `depth + 1` levels
    (its own folder, then each folder above); more is outside.
    """
    lines: list[int] = []

    def climbs(start: int, levels: int) -> None:
        if levels > depth + 1:
            lines.append(text.count("\n", 0, start) + 1)

    for match in _FROM_FILE.finditer(text):
        climbs(match.start(), _levels(match["steps"]))
    for match in _DIRNAMES.finditer(text):
        climbs(match.start(), match["dirnames"].count("dirname("))
    for alias in _ALIAS.finditer(text):
        base = _levels(alias["steps"])
        uses = re.compile(
            r"(?<![\w.])"
            + re.escape(alias["name"])
            + r"(?P<steps>(?:\.parent\b|\.parents\[\d+\])+)"
        )
        for use in uses.finditer(text):
            climbs(use.start(), base + _levels(use["steps"]))
    return lines
