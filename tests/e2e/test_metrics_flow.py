"""The Grafana dashboard on the running stack: every metric its queries name (read by
Prometheus's own PromQL parser) is exported by a service and moves when traffic flows.

Traffic: an employee Okta knows (enriched, then read), one it does not (dead-lettered after
the stack's short not-found period), a read of nobody. Counters and histograms must grow;
a gauge (lag, Okta's budget, a breaker's state) must be there with a value.
"""

from __future__ import annotations

import httpx
import pytest
from onboarding_devstack.polling import eventually
from onboarding_devstack.stack import StackConfig
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.grafana_support import dashboard_metrics
from tests.e2e.ops_support import found, get_user, new_employee, post_hr, put_okta_user

pytestmark = pytest.mark.integration

SERVICES = ("ingest-service", "enrich-service", "query-service")


class Scrape:
    """Every service's `/metrics` at one moment: each sample name's total and metric type."""

    def __init__(self, stack: StackConfig) -> None:
        self.totals: dict[str, float] = {}
        self.types: dict[str, str] = {}
        self.exported_by: dict[str, set[str]] = {}
        for service in SERVICES:
            text = httpx.get(f"{stack.url(service)}/metrics", timeout=10).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    self.totals[sample.name] = self.totals.get(sample.name, 0.0) + sample.value
                    self.types[sample.name] = family.type
                    self.exported_by.setdefault(sample.name, set()).add(service)

    def moved_since(self, before: Scrape, name: str) -> bool:
        if name not in self.totals:
            return False
        if self.types[name] in ("counter", "histogram"):
            return self.totals[name] > before.totals.get(name, 0.0)
        return True  # a gauge: exported, with a value


def test_every_dashboard_metric_is_exported_and_moves_with_traffic(stack: StackConfig) -> None:
    names = dashboard_metrics()
    before = Scrape(stack)

    known, known_email = new_employee("metrics")
    put_okta_user(stack, known_email, ["Everyone", "Metrics"])
    post_hr(stack, known, known_email)
    stranger, stranger_email = new_employee("metrics-dlq")  # Okta has no such user
    post_hr(stack, stranger, stranger_email)
    eventually(lambda: found(stack, known), within=60)
    assert get_user(stack, "metrics-nobody").status_code == 404

    waiting: list[str] = []

    def all_moved() -> Scrape | None:
        now = Scrape(stack)
        waiting[:] = sorted(name for name in names if not now.moved_since(before, name))
        return None if waiting else now

    try:
        after = eventually(all_moved, within=120, every=1.0)
    except AssertionError:
        pytest.fail(f"dashboard metrics not exported, or not moving with traffic: {waiting}")
    assert all(after.exported_by[name] for name in names)
    lag_groups = after.exported_by["onboarding_consumer_lag"]
    assert {"enrich-service", "query-service"} <= lag_groups
