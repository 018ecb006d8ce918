"""docker-compose.yml as Compose itself resolves it (the Compose specification's loader,
deploy/compose-config, built into .data/tools by `make tools`), and ./Dockerfile and
.dockerignore read as plainly as Docker reads them."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
from enrich_service.settings import Settings as EnrichSettings
from ingest_service.settings import Settings as IngestSettings
from onboarding_ops.settings import Settings as OpsSettings
from onboarding_runtime.settings import secret_names
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from query_service.settings import Settings as QuerySettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# The secret settings of every service and onboarding-ops, as their code declares them:
# each may also be given as `<NAME>_FILE` (a Docker or Kubernetes secret).
FILE_SECRETS = (
    secret_names(IngestSettings)
    | secret_names(EnrichSettings)
    | secret_names(QuerySettings)
    | secret_names(OpsSettings)
)
DOCKERIGNORE = ROOT / ".dockerignore"
TOOL_HOME = ROOT / ".data" / "tools" / "compose-config"
TOOL = TOOL_HOME / "compose-config"

# An image reference pinned to an exact version: `name:1.2.3`, optionally `-variant`.
EXACT_TAG = re.compile(r"(?P<name>[^:@\s]+):(?P<version>\d+\.\d+\.\d+)(?:-[\w.-]+)?")

S = TypeVar("S", bound=BaseSettings)


def pinned(image: str) -> tuple[str, str]:
    """The name and exact version of an image reference; fails the test for `latest`, no
    tag, or a tag short of major.minor.patch (`mongo:8.0` moves under you)."""
    match = EXACT_TAG.fullmatch(image)
    if match is None:
        pytest.fail(f"{image} is not pinned to an exact version (name:major.minor.patch)")
    return match["name"], match["version"]


def run_tool(
    file: Path, profiles: tuple[str, ...], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    if not (TOOL_HOME / "installed").is_file():
        pytest.fail(f"the Compose loader is not built in {TOOL_HOME}: run `make tools`")
    command = [str(TOOL)]
    command += [f"-profile={profile}" for profile in profiles]
    command += [f"-env={name}={value}" for name, value in sorted(env.items())]
    return subprocess.run(
        [*command, str(file)], capture_output=True, text=True, timeout=60, check=False
    )


@cache
def _load(profiles: tuple[str, ...], env: tuple[tuple[str, str], ...]) -> str:
    done = run_tool(COMPOSE_FILE, profiles, dict(env))
    assert done.returncode == 0, done.stderr
    return done.stdout


def load(*profiles: str, **env: str) -> dict[str, Any]:
    """docker-compose.yml resolved with these profiles and only these variables set."""
    project: dict[str, Any] = json.loads(_load(profiles, tuple(sorted(env.items()))))
    return project


def environment_variables(settings_cls: type[BaseSettings], name: str) -> list[str]:
    """The environment variable names pydantic-settings reads for one field."""
    alias = settings_cls.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    prefix = str(settings_cls.model_config.get("env_prefix", ""))
    return [(prefix + name).upper()]


def settings_variables(settings_cls: type[BaseSettings]) -> set[str]:
    return {
        v for name in settings_cls.model_fields for v in environment_variables(settings_cls, name)
    }


def settings_in(
    settings_cls: type[S], environment: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> S:
    """The settings a container with this environment reads; a variable Compose resolved to
    nothing (null: listed without a value and not set) is not set at all."""
    for variable in settings_variables(settings_cls):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(f"{variable}_FILE", raising=False)
    for variable, value in environment.items():
        if value is not None:
            monkeypatch.setenv(variable, value)
    return settings_cls()


@dataclass
class Dockerfile:
    """What the checks need of a Dockerfile: the defaults of the ARGs before the first
    FROM, the images its stages start from, the images it copies from, the files it copies."""

    args: dict[str, str] = field(default_factory=dict)
    bases: list[str] = field(default_factory=list)
    copied_images: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    stages: set[str] = field(default_factory=set)

    def images(self) -> list[str]:
        """Every image it pulls, ARGs expanded; stage names are not images."""
        expanded = [
            re.sub(r"\$\{?(\w+)\}?", lambda m: self.args[m.group(1)], i) for i in self.bases
        ]
        return [image for image in expanded + self.copied_images if image not in self.stages]


def read_dockerfile(path: Path = DOCKERFILE) -> Dockerfile:
    text = re.sub(r"\\\n", " ", path.read_text())
    parsed = Dockerfile()
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        instruction = words[0].upper()
        if instruction == "ARG" and not parsed.bases and "=" in words[1]:
            name, _, default = words[1].partition("=")
            parsed.args[name] = default
        elif instruction == "FROM":
            parsed.bases.append(words[1])
            if len(words) >= 4 and words[2].upper() == "AS":
                parsed.stages.add(words[3])
        elif instruction == "COPY":
            options = [w for w in words[1:] if w.startswith("--")]
            sources = [w for w in words[1:-1] if not w.startswith("--")]
            copied_from = [o.partition("=")[2] for o in options if o.startswith("--from=")]
            if copied_from:
                parsed.copied_images += copied_from
            else:
                parsed.copied += sources
    return parsed


def _pattern(ignore: str) -> re.Pattern[str]:
    """One .dockerignore line as Docker matches it (`**` any folders, `*` within one)."""
    parts = re.split(r"(\*\*/?|\*|\?)", ignore.strip("/"))
    translated = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(translated.get(part, re.escape(part)) for part in parts))


def ignored(path: str, lines: list[str]) -> bool:
    """Whether .dockerignore's `lines` keep `path` (or a folder holding it) out of the build
    context. `!` exceptions are not supported: the file does not use them."""
    patterns = [_pattern(line) for line in lines]
    candidates = [path] + ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1)]
    return any(p.fullmatch(candidate) for p in patterns for candidate in candidates)


def dockerignore_lines() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    assert not any(line.startswith("!") for line in lines), "`ignored` does not handle `!`"
    return [line for line in lines if line and not line.startswith("#")]
