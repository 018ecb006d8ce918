"""`make chaos`: the full fault-injection ledger run; the report goes to `.data/chaos/`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from tests.chaos.report import to_markdown, write_report
from tests.chaos.run import FULL, SHORT, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the few-minute version")
    parser.add_argument("--employees", type=int, help="override the number of employees")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    shape = SHORT if args.short else FULL
    if args.employees:
        from dataclasses import replace

        shape = replace(shape, employees=args.employees)
    root = Path.cwd()
    folder = root / ".data" / "chaos" / time.strftime("%Y%m%d-%H%M%S")
    report = asyncio.run(run(shape, root, folder, seed=args.seed))
    markdown, json_path = write_report(report, folder / "report.md")
    print(to_markdown(report))
    print(f"report: {markdown} and {json_path}")
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
