"""CPU used by named processes over a stretch of a benchmark, from Linux's /proc.

Throughput on a shared 2-core machine moves with whatever else runs; CPU seconds per
enriched user, per process, does not (much), so the benchmark reports both, plus how busy
the whole machine was (other people's work included).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_seconds(pid: int) -> float:
    """User + system CPU of `pid` and of its children (uvicorn workers), in seconds."""
    total = 0.0
    for member in [pid, *_descendants(pid)]:
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


def _descendants(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = [int(child) for child in children]
    for child in list(found):
        found.extend(_descendants(child))
    return found


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS


@dataclass
class CpuMeter:
    pids: dict[str, list[int]]  # name -> its processes (say, several instances)
    _start: dict[str, float] = field(default_factory=dict)
    _end: dict[str, float] = field(default_factory=dict)

    def _read(self) -> dict[str, float]:
        busy, total = _machine()
        seconds = {name: sum(map(_process_seconds, pids)) for name, pids in self.pids.items()}
        return {**seconds, "_busy": busy, "_total": total}

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> None:
        self._end = self._read()

    def spent(self) -> dict[str, float]:
        """CPU seconds per name between `start` and `stop`."""
        return {name: self._end[name] - self._start[name] for name in self.pids}

    def report(self, users: int) -> str:
        if not self._start or not self._end or users <= 0:
            return "cpu: not measured"
        spent = self.spent()
        total = self._end["_total"] - self._start["_total"]
        cores = os.cpu_count() or 1
        machine = (self._end["_busy"] - self._start["_busy"]) / total if total else 0.0
        wall = total / cores
        parts = [
            f"{name} {seconds / users * 1000:.2f} ms/user ({seconds / wall:.0%} of a core)"
            for name, seconds in spent.items()
            if wall
        ]
        return f"cpu: {'; '.join(parts)}; machine {machine:.0%} busy of {cores} cores"
