"""No employee id or email in a log: the plan's people searched for in the given files.

Every id and email of a plan carries its run tag, so only lines holding the tag are
searched for the plan's ids and emails (case-insensitively: a logger may lower-case an
address). A leak names the file and line, and what was found, not the line itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.chaos.plan import Plan


@dataclass(frozen=True)
class Leak:
    path: str
    line: int
    what: str  # "employee_id" or "email"
    needle: str


def scan_logs(paths: Iterable[Path], plan: Plan) -> list[Leak]:
    needles = plan.needles()
    by_lower = {n.lower(): n for n in needles}
    pattern = re.compile(
        "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.IGNORECASE
    )
    tag = plan.run_tag.lower()
    leaks: list[Leak] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                if tag not in line.lower():
                    continue
                for found in pattern.finditer(line):
                    needle = by_lower[found.group(0).lower()]
                    leaks.append(Leak(str(path), number, needles[needle], needle))
    return leaks
