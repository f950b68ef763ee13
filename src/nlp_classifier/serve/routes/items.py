"""Data protection (admin keys): ``DELETE /v1/items/{external_id}`` removes everything recorded about one
external id (items, predictions, reviews, feedback) and writes an audit entry holding only its SHA-256. The id
is the rest of the path, slashes included ("forum/thread/12", sent as is or as ``forum%2Fthread%2F12``), and is
checked as /predict checks it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from ...workflow.records import EXTERNAL_ID_MAX_CHARS
from ...workflow.retention import forget_external_id
from ..dependencies import WorkflowDep, forbid_unknown_query_parameters
from ..schemas import NON_BLANK, ForgetCounts, OpenAIErrorResponse
from ..security import AdminDep

router = APIRouter(
    prefix="/v1/items", tags=["data protection"], dependencies=[Depends(forbid_unknown_query_parameters)]
)

_ERR = {"model": OpenAIErrorResponse}  # /v1/ errors come in OpenAI's shape (serve/errors.py)


@router.delete(
    "/{external_id:path}",
    response_model=ForgetCounts,
    responses={401: _ERR, 403: _ERR, 422: _ERR, 503: _ERR},
    summary="Delete everything about one external id",
)
async def forget(
    external_id: Annotated[str, Path(min_length=1, max_length=EXTERNAL_ID_MAX_CHARS, pattern=NON_BLANK)],
    workflow: WorkflowDep,
    who: AdminDep,
    channel: str | None = Query(None, description="only in this channel (default: every channel)"),
) -> dict[str, Any]:
    """How many items, predictions, reviews and feedback rows were deleted (zeros when nothing was recorded)."""
    return await workflow.run(lambda session: forget_external_id(session, external_id, who.name, channel=channel))
