"""The repository stands alone: no tracked file refers to a place outside it.

A bare clone has nothing beside it. A test, link or path that reaches above the root (a
sibling `shared` folder, a folder on one machine) works on one desk and breaks everywhere
else, so every tracked text file is checked (`outside_refs` says what counts).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.repo.outside_refs import Finding, find_outside_refs, tracked_names

ROOT = Path(__file__).resolve().parents[2]


def git_files(*options: str) -> list[str]:
    """`git ls-files` from the root, `/`-separated paths."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: there are no tracked files to check")
    listed = subprocess.run(
        ["git", "ls-files", "-z", *options], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [path for path in listed.decode("utf-8").split("\0") if path]


def tracked_files() -> list[str]:
    """The paths a clone has."""
    return git_files()


def present_files() -> list[str]:
    """The tracked paths and the new ones not ignored: what a path may name, so a file added
    along with the link to it counts before it is committed."""
    return git_files("--cached", "--others", "--exclude-standard")


def text_of(path: Path) -> str | None:
    """The file as text; None for a binary or non-UTF-8 file, or one not in the working tree
    (deleted but not yet committed, or a submodule's folder)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_the_check_sees_the_tracked_files() -> None:
    paths = tracked_files()

    assert {"pyproject.toml", "README.md", "deploy/okta-simulator/tests/conftest.py"} <= set(paths)


def test_no_tracked_file_refers_to_a_place_outside_the_repository() -> None:
    paths = tracked_files()
    names = tracked_names(present_files())
    findings: list[Finding] = []
    for path in paths:
        text = text_of(ROOT / path)
        if text is not None:
            findings += find_outside_refs(path, text, names)

    assert not findings, "references outside the repository:\n" + "\n".join(map(str, findings))
