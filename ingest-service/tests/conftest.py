"""Fixtures: a fresh HR topic on the session broker and settings pointing at the session stack."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from ingest_service.settings import Settings
from ingest_support import make_settings
from onboarding_runtime.kafka import KafkaConnection, TopicSpec, ensure_topics

# Hypothesis keeps its files outside the tree: a `.hypothesis/` folder at the root makes its
# pytest plugin warn at collection (the root config replaces `norecursedirs`), and warnings
# are errors here, so the next run would fail to collect.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "onboarding-hypothesis")
hypothesis_settings.register_profile("ingest", database=None)
hypothesis_settings.load_profile("ingest")


@pytest.fixture
async def hr_topic(kafka_bootstrap: str, unique_name: str) -> str:
    await ensure_topics(KafkaConnection(kafka_bootstrap), (TopicSpec(unique_name, partitions=1),))
    return unique_name


@pytest.fixture
def settings(kafka_bootstrap: str) -> Settings:
    return make_settings(kafka_bootstrap_servers=kafka_bootstrap)
