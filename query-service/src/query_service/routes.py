"""`GET /v1/users/{id}`: the enriched user, exactly the contract's keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from onboarding_events import EnrichedUser

from query_service.store import UserStore

router = APIRouter(tags=["users"])


def get_store(request: Request) -> UserStore:
    store: UserStore = request.app.state.store
    return store


Store = Annotated[UserStore, Depends(get_store)]


@router.get(
    "/v1/users/{employee_id}",
    response_model=EnrichedUser,
    summary="The enriched user",
    responses={
        404: {
            "description": "Not enriched (yet)",
            "content": {"application/json": {"example": {"detail": "User not found"}}},
        }
    },
)
async def get_user(employee_id: str, store: Store) -> EnrichedUser:
    user = await store.get(employee_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return EnrichedUser.model_validate(user)
