"""Feedback in the project's shape (``POST /v1/feedback``, reviewer keys): a label or scores suggested for a text,
by its external id or its text; the label must be one of the named model's labels."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends

from ...errors import NlpcError
from ...workflow.feedback import add_feedback
from ..dependencies import ManagerDep, SettingsDep, WorkflowDep, forbid_unknown_query_parameters
from ..errors import from_nlpc_error, invalid
from ..limits import check_texts
from ..schemas import FeedbackRequest, FeedbackResponse, OpenAIErrorResponse
from ..security import ReviewerDep

router = APIRouter(prefix="/v1", tags=["feedback"], dependencies=[Depends(forbid_unknown_query_parameters)])

_ERR = {"model": OpenAIErrorResponse}  # /v1/ errors come in OpenAI's shape (serve/errors.py)


async def model_labels(manager, name: str) -> list[str]:
    """The labels of registry model ``name`` (404 when there is no such model)."""
    try:
        cards = await asyncio.to_thread(manager.cards)
    except NlpcError as exc:
        raise from_nlpc_error(exc) from None
    for card in cards:
        if card.name == name:
            return list(card.labels)
    raise invalid(("body", "model"), f"no model named {name!r}; see GET /models")


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses={401: _ERR, 403: _ERR, 413: _ERR, 422: _ERR, 503: _ERR},
    summary="Suggest a label or scores for a text",
)
async def feedback(
    body: FeedbackRequest, settings: SettingsDep, manager: ManagerDep, workflow: WorkflowDep, who: ReviewerDep
) -> dict[str, Any]:
    """Joins the recorded item with the same `external_id` (and `channel`) when there is one; otherwise a `text`
    becomes a new item. With `model`, the `label` and the `scores`' labels must be among its labels (422)."""
    text = check_texts([body.text], settings, ("body", "text"), True)[0] if body.text is not None else None
    if body.model is not None:
        labels = await model_labels(manager, body.model)
        if body.label is not None and body.label not in labels:
            raise invalid(("body", "label"), f"label {body.label!r} is not one of {body.model}'s labels: {labels}")
        unknown = sorted(set(body.scores or {}) - set(labels))
        if unknown:
            raise invalid(("body", "scores"), f"scores for {unknown}, which are not {body.model}'s labels: {labels}")

    def work(session):
        row = add_feedback(
            session,
            source="api",
            submitted_by=who.name,
            external_id=body.external_id,
            channel=body.channel,
            text=text,
            store_text=settings.store_text,
            model=body.model,
            label=body.label,
            scores=body.scores,
        )
        return {"id": row.id, "item_id": row.item_id}

    return await workflow.run(work)
