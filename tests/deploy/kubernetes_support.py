"""deploy/kubernetes's overlays as `kustomize build` renders them (kustomize built into
.data/tools by `make tools`, at the version the Makefile pins), and the pieces of a
rendered workload the tests read: its pod, containers, environment and mounted files."""

from __future__ import annotations

import base64
import re
import subprocess
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("local", "production")
WORKLOAD_KINDS = ("Deployment", "Job")

Object = dict[str, Any]


def kustomize_home() -> Path:
    match = re.search(r"^KUSTOMIZE_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match is not None, "the Makefile pins no KUSTOMIZE_VERSION"
    return ROOT / ".data" / "tools" / "kustomize" / match.group(1)


@cache
def build(overlay: str) -> tuple[Object, ...]:
    """Every object `kustomize build` renders for the overlay."""
    home = kustomize_home()
    if not (home / "installed").is_file():
        pytest.fail(f"kustomize is not built in {home}: run `make tools`")
    done = subprocess.run(
        [str(home / "kustomize"), "build", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def objects(overlay: str, kind: str) -> dict[str, Object]:
    return {o["metadata"]["name"]: o for o in build(overlay) if o["kind"] == kind}


def workloads(overlay: str) -> dict[str, Object]:
    """The Deployments and Jobs, by name."""
    return {name: o for kind in WORKLOAD_KINDS for name, o in objects(overlay, kind).items()}


def pod(workload: Object) -> Object:
    spec: Object = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Object) -> Object:
    """The one container of a workload's pod (ours have one each)."""
    (only,) = pod(workload)["containers"]
    result: Object = only
    return result


def environment(overlay: str, workload: Object) -> dict[str, str]:
    """The variables the container starts with: its ConfigMaps' entries, then its own
    `env` (which wins, as in Kubernetes). A variable from a Secret fails the test: secrets
    are files here."""
    config_maps = objects(overlay, "ConfigMap")
    c = container(workload)
    env: dict[str, str] = {}
    for source in c.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"{c['name']}: secrets are files, not variables"
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in c.get("env", []):
        assert "value" in variable, f"{c['name']}: {variable['name']} is not a plain value"
        env[variable["name"]] = variable["value"]
    return env


def mounted_files(overlay: str, workload: Object) -> dict[str, tuple[str, str]]:
    """Each file the container sees from a secret (our pods mount them through projected
    volumes): its path, and the (Secret, key) it holds."""
    volumes = {v["name"]: v for v in pod(workload).get("volumes", [])}
    files = {}
    for mount in container(workload).get("volumeMounts", []):
        volume = volumes[mount["name"]]
        sources = [s["secret"] for s in volume.get("projected", {}).get("sources", [])]
        for secret in sources:
            for item in secret["items"]:
                path = str(PurePosixPath(mount["mountPath"]) / item["path"])
                files[path] = (secret["name"], item["key"])
    return files


def secret_value(overlay: str, name: str, key: str) -> str:
    """A key of a Secret the overlay itself renders (the local one's development values)."""
    secret = objects(overlay, "Secret")[name]
    if key in secret.get("stringData", {}):
        return str(secret["stringData"][key])
    return base64.b64decode(secret["data"][key]).decode()
