"""The short fault-injection ledger run, in `make test`: one leader kill, one service kill,
one rebalance, on its own three-node cluster with two replicas of every service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.report import to_markdown
from tests.chaos.run import SHORT, run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
async def test_the_short_run_loses_regresses_duplicates_and_resurrects_nothing(
    tmp_path: Path,
) -> None:
    report = await run(SHORT, ROOT, tmp_path / "chaos")

    assert report.passed, to_markdown(report)
    for kind in ("lost", "regressed", "duplicated", "resurrected"):
        assert report.violations[kind] == 0, to_markdown(report)
    assert set(report.answers) <= {"202", "429", "503"}, report.answers
    assert len(report.faults) == 3
    assert all(f.recovered_after_s is not None and f.recovered_after_s <= 60 for f in report.faults)
