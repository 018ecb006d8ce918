"""The composition root: the lifespan opens the producer and Okta client and runs the two
consumers (`hr.users.v1`, and the retry tiers where people not in Okta yet wait:
`waiting.py`); the preview (`preview.py`) shares the Okta client and the consumer's breaker."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from onboarding_events import (
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    RETRY_TOPICS,
    USERS_ENRICHED_TOPIC,
    EnrichedUser,
    HrUserUpserted,
    UserEnriched,
    kafka_headers,
)
from onboarding_runtime import tracing
from onboarding_runtime.erasures import ErasureWatch
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import (
    BrokerUnavailable,
    CircuitBreaker,
    ConsumerRunner,
    EventProducer,
    PublishError,
    Record,
    TopicPartition,
    dead_letter_to,
    read_before,
)
from onboarding_runtime.kafka.delays import due_at
from onboarding_runtime.pii import Pseudonymizer
from onboarding_runtime.published import PublishedVersions
from onboarding_runtime.supervision import Supervisor

from enrich_service.activation import Activation
from enrich_service.consumers import RecordHandlers
from enrich_service.handlers import Found, on_hr_user_upserted
from enrich_service.okta import Okta, OktaClient
from enrich_service.preview import Previewer, preview_router
from enrich_service.recent_events import RecentEvents, remembering, sent_again
from enrich_service.settings import Settings
from enrich_service.waiting import WaitingWriter, dead_letter_as_hr

# How long start-up waits for the erasure log and the published versions before serving
# (not ready) while they go on loading.
STARTUP_WAIT_S = 10.0
# Clock differences between the replicas that write and read the retry tiers.
HOLD_SLACK_S = 60.0


def build_okta(settings: Settings) -> OktaClient:
    return OktaClient.build(
        settings.okta_org_url,
        settings.okta_api_token.get_secret_value(),
        timeout_s=settings.okta_timeout_s,
        max_concurrency=settings.okta_max_concurrency,
        max_attempts=settings.okta_max_attempts,
        backoff_max_s=settings.okta_backoff_max_s,
    )


def create_app(
    settings: Settings, okta: Okta | None = None, *, clock: Callable[[], float] = time.time
) -> FastAPI:
    kafka = settings.kafka_connection()
    producer = EventProducer(kafka, timeout_s=settings.kafka_publish_timeout_s)
    okta_client = okta or build_okta(settings)
    pseudonymize = Pseudonymizer(settings.pii_hash_key.get_secret_value().encode())
    erasures = ErasureWatch(kafka, pseudonymize)
    published = PublishedVersions(kafka)
    supervisor = Supervisor()
    recent = RecentEvents(settings.enrich_dedupe_window, pseudonymize)

    async def publish(event: UserEnriched) -> None:
        # Awaited until all in-sync replicas have it: only then is the HR offset committed.
        # The trace goes on: the consumed record's `traceparent` (or, tracing on, this span's).
        try:
            with tracing.span(f"{USERS_ENRICHED_TOPIC} publish", kind=tracing.SpanKind.PRODUCER):
                await producer.publish(
                    USERS_ENRICHED_TOPIC,
                    key=event.subject,
                    value=event.to_json(),
                    headers=kafka_headers(tracing.trace_headers()),
                )
        except PublishError:
            raise BrokerUnavailable() from None  # the partition waits; nothing dead-lettered

    schedule = settings.retry_schedule()
    waiting = WaitingWriter(producer)

    activation = Activation(
        okta=okta_client,
        producer=producer,
        writer=waiting,
        schedule=schedule,
        published=published,
        erased=erasures.erasures.covers,
        clock=clock,
    )

    async def enrich(
        record: Record, event: HrUserUpserted, hr_offset: int, *, waited: bool, found: Found
    ) -> EnrichedUser | None:
        return await on_hr_user_upserted(
            event,
            okta=okta_client,
            publish=publish,
            hr_offset=hr_offset,
            not_found_retry_s=settings.enrich_not_found_retry_s,
            erased=erasures.erasures.covers,
            sync_erasures=erasures.sync,
            published=published,
            recent=recent,
            sent_again=sent_again(record.headers),
            waited=waited,
            found=found,
        )

    async def erased_now(event: HrUserUpserted) -> bool:
        if not await erasures.sync():
            raise BrokerUnavailable()
        return erasures.erasures.covers(event.subject, event.time)

    handlers = RecordHandlers(
        enrich=enrich,
        writer=waiting,
        schedule=schedule,
        activation=activation,
        erased_now=erased_now,
        clock=clock,
    )

    async def prepare(starts: Mapping[TopicPartition, int]) -> bool:
        """On assignment: the newest versions the previous owners published, read to the
        end; and the HR events just before where this member starts, as handled."""
        if not await published.sync():
            return False
        if not starts or settings.enrich_dedupe_window == 0:
            return True
        before = await read_before(
            kafka,
            HR_USERS_TOPIC,
            {tp.partition: offset for tp, offset in starts.items()},
            max_records=settings.enrich_dedupe_window // len(starts),
            since_ms=int((clock() - settings.enrich_dedupe_lookback_s) * 1000),
        )
        if before is None:
            return False
        recent.learn(record.value() for record in before)
        return True

    async def prepare_due(starts: Mapping[TopicPartition, int]) -> bool:
        return await published.sync()

    # A record that waited fails as its HR record, from either consumer (`waiting.py`).
    dead_letters = remembering(
        dead_letter_as_hr(dead_letter_to(producer, HR_USERS_DLQ_TOPIC)), recent
    )
    breaker = CircuitBreaker("enrich", probe_interval_s=settings.enrich_probe_interval_s)
    runner = ConsumerRunner(
        name="enrich",
        kafka=kafka,
        group_id=settings.enrich_group_id,
        topics=[HR_USERS_TOPIC],
        handler=handlers.hr,
        dead_letter=dead_letters,
        concurrency=settings.enrich_concurrency,
        supersedes=recent.supersedes,
        on_superseded=recent.superseded,
        max_pending=settings.enrich_max_pending,
        breaker=breaker,
        # On revocation: what cancelled attempts handed to the producer lands first.
        settle=producer.flush,
        prepare=prepare,
    )
    # The retry tiers: their own group; what comes due goes back to `hr.users.v1`
    # (`consumers.py`), and only waits for activation ask Okta here (the one client).
    retry_runner = ConsumerRunner(
        name="enrich-retry",
        kafka=kafka,
        group_id=settings.retry_group_id,
        topics=list(RETRY_TOPICS),
        handler=handlers.due,
        dead_letter=dead_letters,
        concurrency=settings.enrich_concurrency,
        supersedes=recent.supersedes,
        on_superseded=recent.superseded,
        max_pending=settings.enrich_max_pending,
        breaker=CircuitBreaker("enrich-retry", probe_interval_s=settings.enrich_probe_interval_s),
        settle=producer.flush,
        prepare=prepare_due,
        due=due_at,
        clock=clock,
        # A record due later than this process's longest delay was written under longer
        # delays (they were shortened since, or another deployment shares the topics): it
        # is looked up now rather than holding every record behind it.
        max_hold_s=max(schedule.delays_s) + HOLD_SLACK_S,
    )
    runners = (runner, retry_runner)

    async def consume() -> None:
        # Not one HR event before the erasure log and the published versions are loaded,
        # however long that takes (readiness says so meanwhile): no erased person comes
        # back, no older state goes out after a newer one.
        await erasures.caught_up.wait()
        await published.caught_up.wait()
        app.state.consuming = True
        async with asyncio.TaskGroup() as group:
            for each in runners:
                group.create_task(each.run(), name=each.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await producer.start()
        await erasures.start(timeout_s=STARTUP_WAIT_S)
        await published.start(timeout_s=STARTUP_WAIT_S)
        task = supervisor.watch(asyncio.create_task(consume(), name="enrich-consumer"), "consumer")
        for name, follower in (("erasures", erasures.task), ("published", published.task)):
            if follower is not None:
                supervisor.watch(follower, name)
        try:
            yield
        finally:
            supervisor.stopping()
            for each in runners:
                each.stop()  # a running consumer drains and commits before it ends
            if not app.state.consuming:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await published.stop()
            await erasures.stop()
            await producer.stop()
            if isinstance(okta_client, OktaClient):
                await okta_client.aclose()

    async def consumer_ready() -> bool:
        return runner.healthy()

    async def retry_consumer_ready() -> bool:
        return retry_runner.healthy()

    async def erasures_loaded() -> bool:
        return erasures.caught_up.is_set()

    async def versions_loaded() -> bool:
        return published.caught_up.is_set()

    previewer = Previewer(
        # The consumer's client at low priority (a test's fake Okta has no budget to share).
        okta_client.low_priority(reserve=settings.enrich_preview_reserve)
        if isinstance(okta_client, OktaClient)
        else okta_client,
        breaker=breaker,
        api_keys=settings.api_keys(),
        enabled=settings.preview_enabled,
        concurrency=settings.enrich_preview_concurrency,
        schedule=schedule,
        retry_after_s=settings.enrich_probe_interval_s,
        pseudonymize=pseudonymize,
        clock=clock,
    )
    app = FastAPI(
        title="enrich-service",
        version="1.0.0",
        description=(
            "Enriches `hr.users.v1` into `users.enriched.v1` (Kafka); over HTTP, a dry-run "
            "preview of one HR record, health and metrics."
        ),
        lifespan=lifespan,
        telemetry=tracing.fastapi_telemetry(),
    )
    app.state.runner = runner
    app.state.retry_runner = retry_runner
    app.state.supervisor = supervisor
    app.state.consuming = False
    app.include_router(preview_router(previewer))
    app.include_router(
        health_router(
            lambda: {
                "kafka": producer.healthy,
                "erasures": erasures_loaded,
                "published_versions": versions_loaded,
                "consumer": consumer_ready,
                "retry_consumer": retry_consumer_ready,
                "tasks": supervisor.ready,
            },
            causes=(supervisor.causes, kafka.access.causes),
        )
    )
    return app
