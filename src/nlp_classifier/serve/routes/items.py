"""Data protection (admin keys): ``DELETE /v1/items/{external_id}`` removes everything recorded about one
external id (items, predictions, reviews, feedback) and writes an audit entry holding only its SHA-256."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from ...workflow.retention import forget_external_id
from ..dependencies import WorkflowDep, forbid_unknown_query_parameters
from ..schemas import ForgetCounts, OpenAIErrorResponse
from ..security import AdminDep

router = APIRouter(
    prefix="/v1/items", tags=["data protection"], dependencies=[Depends(forbid_unknown_query_parameters)]
)

_ERR = {"model": OpenAIErrorResponse}  # /v1/ errors come in OpenAI's shape (serve/errors.py)


@router.delete(
    "/{external_id}",
    response_model=ForgetCounts,
    responses={401: _ERR, 403: _ERR, 422: _ERR, 503: _ERR},
    summary="Delete everything about one external id",
)
async def forget(
    external_id: str,
    workflow: WorkflowDep,
    who: AdminDep,
    channel: str | None = Query(None, description="only in this channel (default: every channel)"),
) -> dict[str, Any]:
    """How many items, predictions, reviews and feedback rows were deleted (zeros when nothing was recorded)."""
    return await workflow.run(lambda session: forget_external_id(session, external_id, who.name, channel=channel))
