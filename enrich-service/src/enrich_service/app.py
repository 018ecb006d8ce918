"""The composition root: the lifespan opens the producer and Okta client and runs the consumer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from onboarding_events import (
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    USERS_ENRICHED_TOPIC,
    UserEnriched,
    kafka_headers,
)
from onboarding_runtime.erasures import ErasureWatch
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import (
    BrokerUnavailable,
    CircuitBreaker,
    ConsumerRunner,
    EventProducer,
    PublishError,
    Record,
    dead_letter_to,
)
from onboarding_runtime.pii import Pseudonymizer

from enrich_service.handlers import on_hr_user_upserted
from enrich_service.okta import Okta, OktaClient
from enrich_service.recent_events import RecentEvents, remembering, sent_again
from enrich_service.records import decode, supersedes
from enrich_service.settings import Settings


def build_okta(settings: Settings) -> OktaClient:
    return OktaClient.build(
        settings.okta_org_url,
        settings.okta_api_token.get_secret_value(),
        timeout_s=settings.okta_timeout_s,
        max_concurrency=settings.okta_max_concurrency,
        max_attempts=settings.okta_max_attempts,
        backoff_max_s=settings.okta_backoff_max_s,
    )


def create_app(settings: Settings, okta: Okta | None = None) -> FastAPI:
    producer = EventProducer(
        settings.kafka_bootstrap_servers, timeout_s=settings.kafka_publish_timeout_s
    )
    okta_client = okta or build_okta(settings)
    pseudonymize = Pseudonymizer(settings.pii_hash_key.get_secret_value().encode())
    erasures = ErasureWatch(settings.kafka_bootstrap_servers, pseudonymize)
    recent = RecentEvents(settings.enrich_dedupe_window, pseudonymize)

    async def publish(event: UserEnriched) -> None:
        # Awaited until all in-sync replicas have it: only then is the HR offset committed.
        try:
            await producer.publish(
                USERS_ENRICHED_TOPIC,
                key=event.subject,
                value=event.to_json(),
                headers=kafka_headers(),
            )
        except PublishError:
            raise BrokerUnavailable() from None  # the partition waits; nothing dead-lettered

    async def handle(record: Record) -> None:
        await on_hr_user_upserted(
            decode(record),
            okta=okta_client,
            publish=publish,
            hr_offset=record.offset,
            not_found_retry_s=settings.enrich_not_found_retry_s,
            erased=erasures.erasures.covers,
            recent=recent,
            sent_again=sent_again(record.headers),
        )

    runner = ConsumerRunner(
        name="enrich",
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.enrich_group_id,
        topics=[HR_USERS_TOPIC],
        handler=handle,
        dead_letter=remembering(dead_letter_to(producer, HR_USERS_DLQ_TOPIC), recent),
        concurrency=settings.enrich_concurrency,
        supersedes=supersedes,
        max_pending=settings.enrich_max_pending,
        breaker=CircuitBreaker("enrich", probe_interval_s=settings.enrich_probe_interval_s),
        # On revocation: what cancelled attempts handed to the producer lands first.
        settle=producer.flush,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await producer.start()
        # Read the erasure log before the first HR event, so no erased person comes back.
        await erasures.start()
        task = asyncio.create_task(runner.run(), name="enrich-consumer")
        try:
            yield
        finally:
            runner.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await erasures.stop()
            await producer.stop()
            if isinstance(okta_client, OktaClient):
                await okta_client.aclose()

    async def consumer_ready() -> bool:
        return runner.healthy()

    app = FastAPI(title="enrich-service", version="1.0.0", lifespan=lifespan)
    app.state.runner = runner
    app.include_router(
        health_router(lambda: {"kafka": producer.healthy, "consumer": consumer_ready})
    )
    return app
