"""`POST /v1/hr/webhook`: validate, publish durably, then answer 202."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from onboarding_events import HR_USER_UPSERTED, HR_USERS_TOPIC, HrUser, HrUserUpserted
from onboarding_events.cloudevent import kafka_headers
from onboarding_runtime.kafka import EventProducer, PublishError
from onboarding_runtime.pii import mask_email
from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhook"])

MAX_BODY_BYTES = 64 * 1024
SOURCE = "urn:onboarding:ingest-service"
# Event ids derived from the delivery id: a re-delivery maps to the same event id.
_EVENT_ID_NAMESPACE = uuid.UUID("4c4cf3b1-3a7e-4b0e-9a53-9a4a6c1f6f0e")


class Accepted(BaseModel):
    status: str = "accepted"
    message: str = "User enrichment queued for background processing"
    employee_id: str
    email: str
    event_id: str


def get_producer(request: Request) -> EventProducer:
    producer: EventProducer = request.app.state.producer
    return producer


Producer = Annotated[EventProducer, Depends(get_producer)]


def _error(status: int, detail: Any, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def event_id_for(delivery_id: str | None) -> str:
    if delivery_id:
        return str(uuid.uuid5(_EVENT_ID_NAMESPACE, delivery_id))
    return str(uuid.uuid4())


@router.post(
    "/v1/hr/webhook",
    status_code=202,
    response_model=Accepted,
    summary="Accept one HR employee record",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": HrUser.model_json_schema(),
                    "example": HrUser.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                }
            },
        }
    },
    responses={
        413: {"description": "Body over 64 KiB"},
        415: {"description": "Not JSON"},
        422: {"description": "Invalid JSON or fields, with every reason"},
        503: {"description": "Kafka unavailable; retry after `Retry-After` seconds"},
    },
)
async def receive_hr_webhook(
    request: Request,
    producer: Producer,
    webhook_id: Annotated[str | None, Header()] = None,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "Request body is larger than 64 KiB")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return _error(415, "Content-Type must be application/json")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _error(422, [{"loc": ["body"], "msg": f"Invalid JSON: {exc}", "type": "json"}])
    try:
        user = HrUser.model_validate(payload)
    except ValidationError as exc:
        return _error(422, exc.errors(include_url=False, include_context=False))

    event = HrUserUpserted(
        id=event_id_for(webhook_id or idempotency_key),
        source=SOURCE,
        type=HR_USER_UPSERTED,
        subject=user.employee_id,
        data=user,
    )
    try:
        await producer.publish(
            HR_USERS_TOPIC, key=user.employee_id, value=event.to_json(), headers=kafka_headers()
        )
    except PublishError:
        log.warning("publish failed, answering 503")
        return _error(503, "Event store unavailable, retry later", retry_after=5)
    log.info("accepted", extra={"email": mask_email(user.email), "event_id": event.id})
    accepted = Accepted(employee_id=user.employee_id, email=user.email, event_id=event.id)
    return JSONResponse(accepted.model_dump(), status_code=202)
