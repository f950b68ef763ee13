"""The review queue (reviewer or admin keys): list and read reviews, claim one, decide it, undo one's last
decision, and the statistics of the decisions. Every change is conditional on the review's version, so two
reviewers deciding the same item get one 200 and one 409."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from ...workflow import reviews as queue
from ...workflow.models import Review as ReviewRow
from ...workflow.stats import review_stats
from ..dependencies import ManagerDep, SettingsDep, WorkflowDep, forbid_unknown_query_parameters
from ..errors import ServiceError, invalid
from ..inference import explain, model_for
from ..limits import check_explain
from ..schemas import (
    DecisionRequest,
    ExplanationModel,
    OpenAIErrorResponse,
    Review,
    ReviewPage,
    ReviewState,
    ReviewStats,
)
from ..security import ReviewerDep

router = APIRouter(prefix="/v1/reviews", tags=["review queue"], dependencies=[Depends(forbid_unknown_query_parameters)])

_ERR = {"model": OpenAIErrorResponse}  # /v1/ errors come in OpenAI's shape (serve/errors.py)
ERRORS: dict[int | str, dict[str, Any]] = {401: _ERR, 403: _ERR, 422: _ERR, 503: _ERR}
ReviewId = Annotated[int, Path(ge=1, le=queue.MAX_ID, description="the review's id")]
ONE_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 404: _ERR, 409: _ERR}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def review_body(row: ReviewRow) -> dict[str, Any]:
    """A review as the API shows it (the item's text only when it was stored)."""
    return {
        "id": row.id,
        "state": row.state,
        "reason": row.reason,
        "priority": row.priority,
        "score": row.score,
        "model": row.model,
        "model_version": row.model_version,
        "labels": list(row.labels),
        "predicted_label": row.predicted_label,
        "flagged": list(row.flagged),
        "scores": next((p.scores for p in row.item.predictions if p.id == row.prediction_id), None),
        "claimed_by": row.claimed_by,
        "claimed_at": _time(row.claimed_at),
        "decided_label": row.decided_label,
        "reviewer": row.reviewer,
        "note": row.note,
        "decided_at": _time(row.decided_at),
        "created_at": _time(row.created_at),
        "updated_at": _time(row.updated_at),
        "version": row.version,
        "item": {
            "external_id": row.item.external_id,
            "channel": row.item.channel,
            "text": row.item.text,
            "text_hash": row.item.text_hash,
        },
    }


def _claim_ttl(settings) -> timedelta:
    return timedelta(minutes=settings.review_claim_minutes)


@router.get("", response_model=ReviewPage, responses=ERRORS, summary="The review queue, pending first")
async def list_reviews(
    workflow: WorkflowDep,
    _: ReviewerDep,
    state: ReviewState | None = None,
    model: str | None = None,
    label: str | None = Query(None, description="predicted or decided label"),
    order: Literal["uncertainty", "age"] = Query("uncertainty", description="most uncertain first, or oldest first"),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
) -> dict[str, Any]:
    """Pending reviews first, then claimed, then decided; within each by `order`. Filter by `state`, `model`
    and `label`; page with `limit` and `cursor`."""
    if cursor is not None:
        try:
            queue.decode_cursor(cursor)
        except ValueError as exc:
            raise invalid(("query", "cursor"), str(exc)) from None

    def work(session):
        page = queue.list_reviews(
            session, state=state, model=model, label=label, order=order, limit=limit, cursor=cursor
        )
        return {"reviews": [review_body(r) for r in page.reviews], "next_cursor": page.next_cursor}

    return await workflow.run(work)


@router.get("/stats", response_model=ReviewStats, responses=ERRORS, summary="Agreement, precision, queue size")
async def stats(workflow: WorkflowDep, _: ReviewerDep) -> dict[str, Any]:
    """Model-versus-reviewer agreement and the precision of flagged items among the reviewed ones, overall, per
    model version and per day; the queue's size per state; the labels reviewers overturn most."""
    return await workflow.run(review_stats)


@router.get("/{review_id}", response_model=Review, responses=ONE_ERRORS, summary="One review")
async def get_review(review_id: ReviewId, workflow: WorkflowDep, _: ReviewerDep) -> dict[str, Any]:
    return await workflow.run(lambda session: review_body(queue.get_review(session, review_id)))


@router.get(
    "/{review_id}/explanation",
    response_model=ExplanationModel,
    responses=ONE_ERRORS,
    summary="Which words made the model score the item",
)
async def explanation(
    review_id: ReviewId, workflow: WorkflowDep, manager: ManagerDep, settings: SettingsDep, _: ReviewerDep
) -> dict[str, Any]:
    """The reviewed model's word attributions for the item's text, for the label it predicted
    (docs/explanations.md). 404 when the item was stored without its text or the model is no longer in the
    registry; 422 when the text is over the explanation limits."""

    text, model, label = await workflow.run(lambda session: queue.review_subject(session, review_id))
    loc = ("path", "review_id")
    if text is None:
        raise ServiceError(
            404, f"review {review_id}'s item was stored without its text (NLPC_STORE_TEXT=false): nothing to explain"
        )
    check_explain([text], settings, loc, True)
    served = await model_for(manager.get(model), loc)
    (result,) = await explain(served, [text], label if label in served.classifier.labels else None)
    return result.to_dict()


@router.post("/{review_id}/claim", response_model=Review, responses=ONE_ERRORS, summary="Claim a review")
async def claim(review_id: ReviewId, workflow: WorkflowDep, settings: SettingsDep, who: ReviewerDep) -> dict[str, Any]:
    """Hold the review for yourself (others get 409 until you decide or the claim expires)."""
    ttl = _claim_ttl(settings)
    return await workflow.run(lambda session: review_body(queue.claim_review(session, review_id, who.name, ttl)))


@router.post(
    "/{review_id}/decision",
    response_model=Review,
    responses=ONE_ERRORS,
    summary="Decide a review",
)
async def decide(
    review_id: ReviewId, body: DecisionRequest, workflow: WorkflowDep, settings: SettingsDep, who: ReviewerDep
) -> dict[str, Any]:
    """Set the review's label (one of its `labels`, else 422). A review already decided, or claimed by someone
    else, is a 409."""
    ttl = _claim_ttl(settings)

    def work(session):
        return review_body(queue.decide_review(session, review_id, who.name, body.label, body.note, ttl))

    return await workflow.run(work)


@router.post("/{review_id}/undo", response_model=Review, responses=ONE_ERRORS, summary="Undo your last decision")
async def undo(review_id: ReviewId, workflow: WorkflowDep, who: ReviewerDep) -> dict[str, Any]:
    """Put your last decision (this review's) back to pending."""
    return await workflow.run(lambda session: review_body(queue.undo_decision(session, review_id, who.name)))
