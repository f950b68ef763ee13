"""``POST /v1alpha1/comments:analyze`` in the Perspective API's shape, answered by the toxicity model, so
Perspective clients switch by changing the URL (the key may stay in ``?key=``). Attribute -> our label:
TOXICITY toxic, SEVERE_TOXICITY severe_toxic, IDENTITY_ATTACK identity_hate, INSULT insult, PROFANITY obscene,
THREAT threat (an ``_EXPERIMENTAL`` suffix is accepted). Scores are probabilities; the one span covers the
whole comment. English only.

``POST /v1alpha1/comments:suggestscore`` (reviewer keys) stores a client's suggested scores as feedback, keyed
by our label names, with ``communityId`` as the channel; it answers ``clientToken`` as Perspective does."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...workflow.feedback import add_feedback
from ..dependencies import ManagerDep, SettingsDep, WorkflowDep
from ..errors import ServiceError
from ..inference import classify, model_for
from ..limits import check_texts
from ..schemas import AnalyzeRequest, AnalyzeResponse, GoogleErrorResponse, SuggestScoreRequest, SuggestScoreResponse
from ..security import ReviewerDep, prediction_key_or_query

router = APIRouter(prefix="/v1alpha1", tags=["Perspective-compatible"])

ATTRIBUTE_LABELS = {
    "TOXICITY": "toxic",
    "SEVERE_TOXICITY": "severe_toxic",
    "IDENTITY_ATTACK": "identity_hate",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
}
LANGUAGES = ("en",)

_ERR = {"model": GoogleErrorResponse}


def _label_of(name: str) -> str:
    """Our label for a Perspective attribute name; an unsupported one is a 400."""
    label = ATTRIBUTE_LABELS.get(name.upper().removesuffix("_EXPERIMENTAL"))
    if label is None:
        raise ServiceError(400, f"attribute '{name}' is not supported; supported: {', '.join(ATTRIBUTE_LABELS)}")
    return label


def _check_languages(languages: list[str] | None) -> None:
    if languages and not any(lang.lower().split("-")[0] in LANGUAGES for lang in languages):
        raise ServiceError(400, f"languages {languages} are not supported; this model scores English ('en')")


def _labels_for(requested: list[str], labels: list[str]) -> dict[str, str]:
    """Our label for each requested attribute; an unknown or unavailable attribute is a 400."""
    out = {}
    for name in requested:
        label = _label_of(name)
        if label not in labels:
            raise ServiceError(400, f"attribute '{name}' needs a '{label}' label, which the toxicity model lacks")
        out[name] = label
    return out


@router.post(
    "/comments:analyze",
    response_model=AnalyzeResponse,
    response_model_exclude_none=True,
    dependencies=[Depends(prediction_key_or_query)],
    responses={400: _ERR, 401: _ERR, 403: _ERR, 413: _ERR, 422: _ERR, 503: _ERR},
    summary="Perspective-compatible comment analysis",
)
async def analyze(body: AnalyzeRequest, request: Request, settings: SettingsDep, manager: ManagerDep) -> dict:
    """Perspective's request and answer; `attributeScores.X.summaryScore.value` is our label's probability."""
    _check_languages(body.languages)
    text = check_texts([body.comment.text], settings, ("body", "comment", "text"), True)[0]
    served = await model_for(manager.get_toxicity())
    wanted = _labels_for(list(body.requestedAttributes), served.classifier.labels)
    predictions, _ = await classify(request, settings, served, [text])
    scores = predictions[0].scores
    attribute_scores = {}
    for name, options in body.requestedAttributes.items():
        value = scores[wanted[name]]
        if options.scoreThreshold is not None and value < options.scoreThreshold:
            continue
        score = {"value": value, "type": "PROBABILITY"}
        attribute_scores[name] = {"summaryScore": score, "spanScores": [{"begin": 0, "end": len(text), "score": score}]}
    return {
        "attributeScores": attribute_scores,
        "languages": body.languages or list(LANGUAGES),
        "detectedLanguages": list(LANGUAGES),
        "clientToken": body.clientToken,
    }


@router.post(
    "/comments:suggestscore",
    response_model=SuggestScoreResponse,
    response_model_exclude_none=True,
    responses={400: _ERR, 401: _ERR, 403: _ERR, 413: _ERR, 422: _ERR, 503: _ERR},
    summary="Perspective-compatible score suggestion (feedback)",
)
async def suggest_score(
    body: SuggestScoreRequest, settings: SettingsDep, workflow: WorkflowDep, who: ReviewerDep
) -> dict:
    """Perspective's request; each `attributeScores.X.summaryScore.value` is stored as the suggested score of our
    label for X. Answers `clientToken` (and the languages) as Perspective does."""
    _check_languages(body.languages)
    text = check_texts([body.comment.text], settings, ("body", "comment", "text"), True)[0]
    scores = {}
    for name, suggested in body.attributeScores.items():
        if suggested.summaryScore is None:
            raise ServiceError(400, f"attribute '{name}' needs a summaryScore (span scores alone are not stored)")
        scores[_label_of(name)] = suggested.summaryScore.value

    def work(session):
        add_feedback(
            session,
            source="perspective",
            submitted_by=who.name,
            channel=body.communityId or "",
            text=text,
            store_text=settings.store_text,
            scores=scores,
            client_token=body.clientToken,
        )

    await workflow.run(work)
    return {
        "detectedLanguages": list(LANGUAGES),
        "requestedLanguages": body.languages,
        "clientToken": body.clientToken,
    }
