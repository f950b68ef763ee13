"""``POST /v1/moderations`` in OpenAI's shape, answered by the toxicity model, so the official ``openai`` client
(base_url=http://HOST:PORT/v1) works unchanged. Each OpenAI category takes the scores of our labels below:
``any`` = the highest score, flagged when any of them is flagged at its threshold; ``all`` = the lowest score,
flagged when all are. Categories we have no label for score 0 and are never flagged. With ``hate_model`` set,
that model's hate probability also feeds ``hate`` (the higher of the two scores; flagged when either is)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from ...classifier import Prediction
from ..dependencies import ManagerDep, SettingsDep
from ..errors import ServiceError
from ..inference import classify, model_for
from ..limits import check_texts
from ..model_manager import ServedModel
from ..schemas import OPENAI_CATEGORIES, ModerationRequest, ModerationResponse, OpenAIErrorResponse
from ..security import prediction_key

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

# OpenAI category -> (how label scores combine, our labels)
CATEGORY_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "harassment": ("any", ("toxic", "severe_toxic", "insult")),
    "harassment/threatening": ("any", ("threat",)),
    "hate": ("any", ("identity_hate",)),
    "hate/threatening": ("all", ("identity_hate", "threat")),
    "violence": ("any", ("threat",)),
}
OPENAI_MODEL_PREFIXES = ("omni-moderation", "text-moderation")
HATE_LABELS = ("hate", "Hate Speech")

_ERR = {"model": OpenAIErrorResponse}


def _inputs(body: ModerationRequest) -> tuple[list[str], bool]:
    if isinstance(body.input, str):
        return [body.input], True
    texts = []
    for i, item in enumerate(body.input):
        if isinstance(item, str):
            texts.append(item)
        elif item.type == "text":
            texts.append(item.text)
        else:
            raise ServiceError(
                400, f"input[{i}] is an image; this service classifies text only", loc=("body", "input", i)
            )
    return texts, False


def hate_score(served: ServedModel, p: Prediction) -> tuple[float, bool]:
    """The hate probability of a hate model's prediction ('hate' label, else the positive of a binary model)."""
    labels = served.classifier.labels
    label = next((lab for lab in HATE_LABELS if lab in labels), labels[-1])
    return p.scores[label], label in p.flagged


def moderation(p: Prediction, hate: tuple[float, bool] | None) -> dict:
    """One OpenAI moderation result from a toxicity prediction (and a hate score)."""
    scores, flags = {}, {}
    for category in OPENAI_CATEGORIES:
        how, labels = CATEGORY_RULES.get(category, ("any", ()))
        present = [lab for lab in labels if lab in p.scores]
        if not present:
            score, flagged = 0.0, False
        elif how == "all":
            score, flagged = min(p.scores[lab] for lab in present), all(lab in p.flagged for lab in present)
        else:
            score, flagged = max(p.scores[lab] for lab in present), any(lab in p.flagged for lab in present)
        if category == "hate" and hate is not None:
            score, flagged = max(score, hate[0]), flagged or hate[1]
        scores[category], flags[category] = score, flagged
    return {
        "flagged": any(flags.values()),
        "categories": flags,
        "category_scores": scores,
        "category_applied_input_types": {category: ["text"] for category in OPENAI_CATEGORIES},
    }


@router.post(
    "/moderations",
    response_model=ModerationResponse,
    dependencies=[Depends(prediction_key)],
    responses={400: _ERR, 401: _ERR, 403: _ERR, 404: _ERR, 413: _ERR, 422: _ERR, 503: _ERR},
    summary="OpenAI-compatible moderation",
)
async def moderations(body: ModerationRequest, request: Request, settings: SettingsDep, manager: ManagerDep) -> dict:
    """OpenAI's moderation request and answer. `model` may be an OpenAI model name (answered by the toxicity
    model) or one of our multi-label models."""
    texts, single = _inputs(body)
    check_texts(texts, settings, ("body", "input"), single)
    wanted = None if not body.model or body.model.startswith(OPENAI_MODEL_PREFIXES) else body.model
    served = await model_for(manager.get_toxicity(wanted))
    predictions, _ = await classify(request, settings, served, texts)
    hates: list[tuple[float, bool] | None] = [None] * len(texts)
    hate_model = await model_for(manager.get_hate())
    if hate_model is not None:
        hate_predictions, _ = await classify(request, settings, hate_model, texts)
        hates = [hate_score(hate_model, p) for p in hate_predictions]
    return {
        "id": f"modr-{uuid.uuid4().hex}",
        "model": served.name,
        "results": [moderation(p, h) for p, h in zip(predictions, hates)],
    }
