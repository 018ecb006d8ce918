"""Okta's own SDK for Python (`okta` 3.4.6) reads the simulator as it reads Okta.

The simulator runs as a real server; the SDK runs in its own virtualenv (`oktasim_sdk_env`,
made on first use under `.data/tools/`) and prints what it read (`oktasim_sdk_reader`). The
SDK's generated calls send `SSWS<token>` with no space, its page follower `SSWS <token>`:
every call here answering 200 shows both are accepted.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from oktasim_live import LiveSimulator, running_simulator
from oktasim_sdk_env import ensure_okta_sdk

pytestmark = pytest.mark.slow

TOKEN = "sdk-test-token"
READER = Path(__file__).with_name("oktasim_sdk_reader.py")
EMAIL = "sdk.reader@example.com"
GROUPS = ["Everyone", "Engineering", "Platform", "On-Call", "Contractors"]
NEW_HIRE = {
    "email": EMAIL,
    "first_name": "Sam",
    "last_name": "Reader",
    "groups": GROUPS,
    "app_links": ["Slack", {"label": "Zoom", "app_name": "zoomus"}, "Jira"],
}


@pytest.fixture(scope="session")
def okta_sdk_python() -> Path:
    """The SDK environment's Python; the first session on a machine installs it from PyPI."""
    return ensure_okta_sdk()


@pytest.fixture
def live_simulator(tmp_path: Path) -> Iterator[LiveSimulator]:
    # Two groups a page, so five groups arrive over three pages.
    with running_simulator(tmp_path, TOKEN, groups_page_size="2") as simulator:
        yield simulator


def read_with_sdk(python: Path, simulator: LiveSimulator, home: Path) -> dict[str, Any]:
    """Run the reader with the SDK's Python, in a bare environment: the SDK also reads
    `OKTA_CLIENT_*` variables and `okta.yaml` from the home and working folders."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "OKTA_TESTING_TESTINGDISABLEHTTPSCHECK": "true",  # the simulator speaks http
    }
    done = subprocess.run(
        [str(python), str(READER), simulator.base_url, simulator.token, EMAIL],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"the SDK reader failed:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def okta_time(text: str) -> datetime:
    """`2026-01-01T00:00:10.123Z`, as the request log writes times."""
    return datetime.fromisoformat(text)


def test_okta_sdk_reads_a_user_groups_over_pages_and_app_links_through_a_429(
    okta_sdk_python: Path, live_simulator: LiveSimulator, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with live_simulator.control() as control:
        added = control.put("/_sim/users", json=NEW_HIRE)
        assert added.status_code == 201
        user_id = added.json()["id"]
        # The SDK's first listAppLinks call is throttled; it waits for the reset and retries.
        armed = control.post(
            "/_sim/faults",
            json={"kind": "429", "endpoint": "listAppLinks", "reset_after_seconds": 0},
        )
        assert armed.status_code == 200

        read = read_with_sdk(okta_sdk_python, live_simulator, home)

        calls = control.get("/_sim/requests").json()
        pending = control.get("/_sim/faults").json()

    assert read["users"] == [
        {
            "id": user_id,
            "email": EMAIL,
            "login": EMAIL,
            "status": "ACTIVE",
        }
    ]
    assert read["first_group_page"] == GROUPS[:2]
    assert read["group_pages"] == [GROUPS[:2], GROUPS[2:4], GROUPS[4:]]
    assert [link["label"] for link in read["app_links"]] == ["Slack", "Zoom", "Jira"]
    assert read["app_links"][1]["app_name"] == "zoomus"
    by_endpoint: dict[str, list[int]] = {}
    for call in calls:
        by_endpoint.setdefault(call["endpoint"], []).append(call["status"])
    assert by_endpoint == {
        "listUsers": [200],
        "listUserGroups": [200, 200, 200, 200],  # the generated call, then three pages
        "listAppLinks": [429, 200],  # throttled once, retried by the SDK
    }
    assert pending == []
    throttled, retried = (okta_time(c["time"]) for c in calls if c["endpoint"] == "listAppLinks")
    # The SDK waits `X-Rate-Limit-Reset - Date + 1` seconds: at least one here.
    assert (retried - throttled).total_seconds() >= 1.0
