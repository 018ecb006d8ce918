"""deploy/grafana/onboarding.json: ready for Grafana's file provisioning, its queries valid
PromQL (Prometheus's own parser) over metrics docs/metrics.md describes. That the services
export each of them, and that each moves with traffic: tests/e2e/test_metrics_flow.py."""

from __future__ import annotations

import re

from tests.deploy.grafana_support import (
    ROOT,
    dashboard,
    dashboard_metrics,
    expressions,
    metric_names,
    panels,
    run_tool,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def test_the_dashboard_is_a_provisioning_model_with_the_datasource_as_a_variable() -> None:
    board = dashboard()

    assert board["uid"] == "onboarding-flow"
    assert board["id"] is None  # Grafana assigns it; a fixed id clashes across instances
    assert "__inputs" not in board  # that is the export-for-import form, not provisioning
    (variable,) = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert (variable["name"], variable["query"]) == ("datasource", "prometheus")
    queried = [panel for panel in panels(board) if panel.get("targets")]
    assert queried
    for panel in queried:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids))


def test_it_shows_the_flow_from_webhooks_to_reads() -> None:
    used = dashboard_metrics()

    assert {
        "ingest_webhooks_total",
        "onboarding_consumer_lag",
        "enrich_okta_calls_total",
        "onboarding_okta_rate_limit_remaining",
        "onboarding_records_dead_lettered_total",
        "onboarding_http_request_seconds_bucket",
        "onboarding_consumer_paused",
    } <= used


def test_every_metric_it_queries_is_documented() -> None:
    documented = (ROOT / "docs" / "metrics.md").read_text()

    for name in dashboard_metrics():
        family = re.sub(r"_(bucket|count|sum)$", "", name)
        assert f"`{family}" in documented, name


def test_every_query_names_its_metrics_for_the_parser() -> None:
    exprs = expressions(dashboard())

    names = metric_names(exprs)

    assert set(names) == set(exprs)
    assert all(names.values())


def test_the_parser_refuses_bad_promql_and_selectors_without_one_metric_name() -> None:
    done = run_tool(["sum(rate(ingest_webhooks_total[5m])", '{__name__=~"onboarding_.+"}'])

    assert done.returncode == 1
    assert "unclosed left parenthesis" in done.stderr
    assert "names no single metric" in done.stderr


def test_the_parser_reads_names_inside_functions_and_both_sides_of_an_operator() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket[5m]))) "
        '/ on() group_left max({__name__="b_total", job="x"})'
    )

    assert metric_names([expr]) == {expr: ["a_seconds_bucket", "b_total"]}
