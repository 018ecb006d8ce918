"""`onboarding-stack status`: a service that ended on its own is reported with its exit status
and log file; one stopped on purpose is not (real processes in a folder of the test's own)."""

from __future__ import annotations

import sys
from pathlib import Path

from onboarding_devstack.polling import eventually
from onboarding_devstack.processes import start, stop
from onboarding_devstack.stack import StackConfig, managed, status

SLEEPS = [sys.executable, "-c", "import time; time.sleep(120)"]
FAILS = [sys.executable, "-c", "import sys; sys.exit(1)"]


def test_status_names_the_service_that_exited_with_its_status_and_log(tmp_path: Path) -> None:
    cfg = StackConfig(root=tmp_path, data_dir=tmp_path, okta_org_url="https://okta.example")
    enrich, query = managed(cfg, "enrich-service"), managed(cfg, "query-service")
    start(enrich, FAILS, record_exit=True)
    start(query, SLEEPS, record_exit=True)
    try:
        eventually(enrich.exited, within=15)
        report = {name: (state, exited) for name, state, exited in status(cfg)}
        assert report["enrich-service"] == (
            f"enrich-service exited with status 1; see {enrich.log_file}",
            True,
        )
        assert report["query-service"][0].startswith("running (pid ")
        assert report["ingest-service"] == ("not running", False)
        assert "okta-simulator" not in report  # a real Okta is configured
    finally:
        stop(query)
        stop(enrich)

    assert not query.exited()  # stopped on purpose: not reported as a failure
    assert {name: state for name, state, _ in status(cfg)}["query-service"] == "not running"
