"""Each command's work: open what it needs, do it with a progress bar, return a summary."""

from __future__ import annotations

from datetime import datetime

from onboarding_ops import bulk_import as importing
from onboarding_ops import erase as erasing
from onboarding_ops import rebuild as rebuilding
from onboarding_ops import redrive as redriving
from onboarding_ops import replay as replaying
from onboarding_ops.bootstrap import Ops, load_erasures, open_kafka, open_view
from onboarding_ops.console import progress
from onboarding_ops.dead_letters import DeadLetters, read_dead_letters
from onboarding_ops.gateway import open_gateway
from onboarding_ops.kafka_admin import admin_client
from onboarding_ops.reconcile import TopicReport, reconcile_topics


async def topics(ops: Ops, *, fix: bool) -> list[TopicReport]:
    settings = ops.settings
    async with admin_client(ops.kafka, settings.ops_connect_timeout_s) as a:
        return await reconcile_topics(
            a, ops.topics.specs(), durability=settings.durability, fix=fix
        )


async def replay(ops: Ops, since: datetime | None) -> replaying.ReplaySummary:
    async with open_kafka(ops) as kafka:
        erasures = await load_erasures(ops, kafka)
        with progress() as tracker:
            return await replaying.replay(ops, kafka, erasures, since, tracker)


async def dead_letters(ops: Ops) -> DeadLetters:
    async with open_kafka(ops) as kafka:
        erasures = await load_erasures(ops, kafka)
        with progress() as tracker:
            return await read_dead_letters(ops, kafka, erasures, tracker)


async def redrive(ops: Ops, employee_id: str | None) -> redriving.RedriveSummary:
    async with open_kafka(ops) as kafka:
        erasures = await load_erasures(ops, kafka)
        with progress() as tracker:
            return await redriving.redrive(ops, kafka, erasures, employee_id, tracker)


async def erase(ops: Ops, employee_id: str, *, force: bool) -> erasing.EraseSummary:
    async with open_kafka(ops) as kafka, open_view(ops) as view:
        erasures = await load_erasures(ops, kafka)
        return await erasing.erase(ops, kafka, view, erasures, employee_id, force=force)


async def rebuild(ops: Ops) -> rebuilding.RebuildSummary:
    async with open_kafka(ops) as kafka, open_view(ops) as view:
        erasures = await load_erasures(ops, kafka)
        with progress() as tracker:
            return await rebuilding.rebuild(ops, kafka, view, erasures, tracker)


async def import_file(ops: Ops, plan: importing.ImportPlan) -> importing.ImportSummary:
    async with open_gateway(ops) as gateway:
        with progress() as tracker:
            return await importing.run_import(plan, gateway, tracker)
