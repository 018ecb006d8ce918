"""The Grafana dashboard's queries and the metric names they use, read by Prometheus's own
PromQL parser (deploy/grafana/promql-metrics, built into .data/tools by `make tools`)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "onboarding.json"
TOOL_HOME = ROOT / ".data" / "tools" / "promql-metrics"
TOOL = TOOL_HOME / "promql-metrics"

# Grafana's own variables are not PromQL: each becomes a duration before parsing.
GRAFANA_DURATIONS = {
    "$__rate_interval": "5m",
    "${__rate_interval}": "5m",
    "$__interval": "1m",
    "${__interval}": "1m",
    "$__range": "1h",
    "${__range}": "1h",
}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows too."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def expressions(board: dict[str, Any]) -> list[str]:
    """The PromQL of every query, Grafana's variables expanded."""
    found = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, duration in GRAFANA_DURATIONS.items():
                expr = expr.replace(variable, duration)
            found.append(expr)
    return found


def run_tool(exprs: list[str]) -> subprocess.CompletedProcess[str]:
    if not (TOOL_HOME / "installed").is_file():
        pytest.fail(f"the PromQL metric-name tool is not built in {TOOL_HOME}: run `make tools`")
    return subprocess.run(
        [str(TOOL)], input=json.dumps(exprs), capture_output=True, text=True, timeout=60
    )


def metric_names(exprs: list[str]) -> dict[str, list[str]]:
    """Each expression's metric names, as the parser reads them."""
    done = run_tool(exprs)
    assert done.returncode == 0, done.stderr
    names: dict[str, list[str]] = json.loads(done.stdout)
    return names


def dashboard_metrics() -> set[str]:
    """Every metric name the dashboard's queries select."""
    return {name for names in metric_names(expressions(dashboard())).values() for name in names}
