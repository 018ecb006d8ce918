"""`make chaos`: the full fault-injection ledger run; the report goes to `.data/chaos/`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from tests.chaos.report import to_markdown, write_report
from tests.chaos.run import FULL, SHORT, run


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # as Ctrl-C: the run's `finally` stops the cluster it started


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the few-minute version")
    parser.add_argument("--employees", type=int, help="override the number of employees")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    shape = SHORT if args.short else FULL
    if args.employees:
        shape = replace(shape, employees=args.employees)
    root = Path.cwd()
    folder = root / ".data" / "chaos" / time.strftime("%Y%m%d-%H%M%S")
    try:
        report = asyncio.run(run(shape, root, folder, seed=args.seed))
    except KeyboardInterrupt:
        print("make chaos: interrupted; the cluster it started is stopped", file=sys.stderr)
        sys.exit(130)
    markdown, json_path = write_report(report, folder / "report.md")
    print(to_markdown(report))
    print(f"report: {markdown} and {json_path}")
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
