"""``POST /v1alpha1/comments:analyze`` in the Perspective API's shape, answered by the toxicity model, so
Perspective clients switch by changing the URL (the key may stay in ``?key=``). Attribute -> our label:
TOXICITY toxic, SEVERE_TOXICITY severe_toxic, IDENTITY_ATTACK identity_hate, INSULT insult, PROFANITY obscene,
THREAT threat (an ``_EXPERIMENTAL`` suffix is accepted). Scores are probabilities; the one span covers the
whole comment, unless ``spanAnnotations`` asks for one span per word (``word_span_scores``). Span offsets are
UTF-16 code units, as Perspective documents them. English only.

``POST /v1alpha1/comments:suggestscore`` (reviewer keys) stores a client's suggested scores as feedback, keyed
by our label names, with ``communityId`` as the channel; it answers ``clientToken`` as Perspective does."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...explain import Explanation
from ...workflow.feedback import add_feedback
from ..dependencies import ManagerDep, SettingsDep, WorkflowDep
from ..errors import ServiceError
from ..inference import classify, explain, model_for
from ..limits import check_explain, check_texts
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


def utf16_offsets(text: str) -> list[int]:
    """For each Python string index 0..len(text), the same position in UTF-16 code units (an emoji outside the
    Basic Multilingual Plane is one character here and two units there)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


def word_span_scores(explanation: Explanation, summary: float) -> list[dict]:
    """One span per word of the comment, its value the word's share of the summary probability: words pushing
    towards the attribute share it in proportion to their scores, words pushing against (or not at all) get 0.
    So every value is in [0, 1] and they add up to the summary score (to 0 when no word pushes towards it)."""
    positive = [max(w.score, 0.0) for w in explanation.words]
    total = sum(positive)
    units = utf16_offsets(explanation.text)
    return [
        {
            "begin": units[w.start],
            "end": units[w.end],
            "score": {"value": summary * share / total if total > 0 else 0.0, "type": "PROBABILITY"},
        }
        for w, share in zip(explanation.words, positive)
    ]


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
    if body.spanAnnotations:
        check_explain([text], settings, ("body", "comment", "text"), True)
    served = await model_for(manager.get_toxicity())
    wanted = _labels_for(list(body.requestedAttributes), served.classifier.labels)
    predictions, _ = await classify(request, settings, served, [text], keep_text=not body.doNotStore)
    scores = predictions[0].scores
    attribute_scores = {}
    whole = utf16_offsets(text)[-1]
    for name, options in body.requestedAttributes.items():
        value = scores[wanted[name]]
        if options.scoreThreshold is not None and value < options.scoreThreshold:
            continue
        score = {"value": value, "type": "PROBABILITY"}
        if body.spanAnnotations:
            (explanation,) = await explain(served, [text], wanted[name])
            spans = word_span_scores(explanation, value)
        else:
            spans = [{"begin": 0, "end": whole, "score": score}]
        attribute_scores[name] = {"summaryScore": score, "spanScores": spans}
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
