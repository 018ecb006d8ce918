"""Each package declares exactly the third-party distributions its src/ imports
(`declared_imports`); that each also imports installed alone is `make check`'s
`imports_alone`, whose walk over a package's modules is checked here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.repo.declared_imports import check_package, distribution_of, imported_modules
from tests.repo.import_every_module import import_failures
from tests.repo.workspace import (
    ROOT,
    Package,
    module_owners,
    read_package,
    requirement_name,
    workspace_packages,
)

PACKAGES = workspace_packages()
OWNERS = module_owners(PACKAGES)


def test_the_workspace_has_its_eight_packages() -> None:
    names = {package.name for package in PACKAGES}

    assert names == {
        "onboarding-events",
        "onboarding-runtime",
        "ingest-service",
        "enrich-service",
        "query-service",
        "okta-simulator",
        "onboarding-ops",
        "onboarding-devstack",
    }
    assert OWNERS["onboarding_runtime"] == "onboarding-runtime"


@pytest.mark.parametrize("package", PACKAGES, ids=lambda package: package.name)
def test_each_package_declares_what_it_imports_and_nothing_else(package: Package) -> None:
    problems = check_package(package, OWNERS)

    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        ("confluent_kafka.admin", "confluent-kafka"),
        ("prometheus_client.Counter", "prometheus-client"),
        ("pydantic_settings.BaseSettings", "pydantic-settings"),
        ("pymongo.errors", "pymongo"),
        ("yaml.safe_load", "pyyaml"),
        ("opentelemetry.trace.Span", "opentelemetry-api"),
        ("opentelemetry.sdk.trace.TracerProvider", "opentelemetry-sdk"),
        ("opentelemetry.proto.common.v1.common_pb2", "opentelemetry-proto"),
        ("opentelemetry", None),  # many distributions share the bare namespace
        ("no_such_module_anywhere", None),
    ],
)
def test_a_module_is_traced_to_the_distribution_holding_it(
    module: str, distribution: str | None
) -> None:
    assert distribution_of(module) == distribution


def test_requirements_are_named_without_extras_or_versions() -> None:
    assert requirement_name("uvicorn[standard]>=0.32") == "uvicorn"
    assert requirement_name("Prometheus_Client >= 0.21") == "prometheus-client"
    assert requirement_name("onboarding-runtime") == "onboarding-runtime"


def _fake_package(tmp_path: Path, dependencies: list[str], source: str) -> Package:
    folder = tmp_path / "fake-service"
    (folder / "src" / "fake_service").mkdir(parents=True)
    listed = ", ".join(f'"{name}"' for name in dependencies)
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "fake-service"\nversion = "0"\ndependencies = [{listed}]\n'
    )
    (folder / "src" / "fake_service" / "__init__.py").write_text(source)
    return read_package(folder)


def test_it_finds_undeclared_imports_and_a_test_only_dependency(tmp_path: Path) -> None:
    # ingest-service as it was: it imported four distributions only its neighbours declared,
    # and declared one only its tests used.
    package = _fake_package(
        tmp_path,
        ["onboarding-runtime", "fastapi>=0.115", "standardwebhooks>=1.0"],
        "import json\n"
        "from confluent_kafka import Producer\n"
        "from fastapi import FastAPI\n"
        "from onboarding_runtime.settings import ServiceSettings\n"
        "from prometheus_client import Counter\n"
        "from pydantic import BaseModel\n"
        "from . import sibling\n"
        "from fake_service import other\n"
        "def later():\n"
        "    from starlette.responses import Response\n",
    )

    problems = [str(problem) for problem in check_package(package, OWNERS)]

    assert problems == [
        "fake-service: imports confluent_kafka (fake_service/__init__.py:2) "
        "but does not declare confluent-kafka",
        "fake-service: imports prometheus_client (fake_service/__init__.py:5) "
        "but does not declare prometheus-client",
        "fake-service: imports pydantic (fake_service/__init__.py:6) but does not declare pydantic",
        "fake-service: imports starlette (fake_service/__init__.py:10) "
        "but does not declare starlette",
        "fake-service: declares standardwebhooks but src/ never imports it "
        "(a test-only dependency goes in a dev group)",
    ]


def test_a_module_nothing_installed_provides_is_named(tmp_path: Path) -> None:
    package = _fake_package(tmp_path, [], "import no_such_module_anywhere\n")

    (problem,) = check_package(package, OWNERS)

    assert "no_such_module_anywhere, which nothing installed provides" in str(problem)


def test_imports_are_read_from_every_file_of_src() -> None:
    found = imported_modules(ROOT / "libs" / "onboarding-runtime" / "src")

    # one inside a function (the exporter is imported only when tracing is configured)
    assert "opentelemetry.exporter.otlp.proto.http.trace_exporter.OTLPSpanExporter" in found


def test_the_walk_names_each_module_that_does_not_import_and_what_it_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "walked_pkg"
    (top / "inner").mkdir(parents=True)
    (top / "__init__.py").write_text("")
    (top / "fine.py").write_text("import json\n")
    (top / "needs.py").write_text("import not_installed_here\n")
    (top / "inner" / "__init__.py").write_text("")
    (top / "inner" / "broken.py").write_text("raise RuntimeError('at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        failures = import_failures("walked_pkg")
    finally:
        for name in [name for name in sys.modules if name.partition(".")[0] == "walked_pkg"]:
            del sys.modules[name]

    assert sorted(failures) == [
        ("walked_pkg.inner.broken", "error", "RuntimeError: at import"),
        ("walked_pkg.needs", "missing", "not_installed_here"),
    ]
