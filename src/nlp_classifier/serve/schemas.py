"""Request and response bodies of every endpoint (pydantic), as they appear in the OpenAPI schema.

Text fields carry ``x-nlpc-limit`` markers that ``document_limits`` turns into the configured ``maxLength`` /
``maxItems`` in the published schema; ``limits.check_texts`` enforces the same limits at request time."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.json_schema import JsonDict, SkipJsonSchema

from ..decision import DEFAULT_THRESHOLD
from ..defaults import EXAMPLE_TEXTS
from ..text import replace_lone_surrogates
from ..workflow.records import EXTERNAL_ID_MAX_CHARS
from .settings import ServeSettings

NON_BLANK = r"\S"
ADMIN_PATHS = {"/models/switch"}  # always need a key
ALWAYS_KEYED_PREFIXES = ("/v1/reviews", "/v1/feedback", "/v1/items", "/v1alpha1/comments:suggestscore")
TEXT_FIELD: JsonDict = {"x-nlpc-limit": "text"}
TEXTS_FIELD: JsonDict = {"x-nlpc-limit": "texts"}

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
# a text as read from a request: a lone surrogate (JSON's "\\ud800") becomes U+FFFD, so that nothing downstream
# (an explanation echoing it, the workflow database) meets a string it cannot write as UTF-8
Text = Annotated[str, AfterValidator(replace_lone_surrogates)]
ExternalId = Annotated[str, Field(min_length=1, max_length=EXTERNAL_ID_MAX_CHARS, pattern=NON_BLANK)]
Channel = Annotated[str, Field(max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


# --- errors ------------------------------------------------------------------------------------------------
class ErrorResponse(BaseModel):
    """Any error but a field error: what went wrong and what to do."""

    detail: str


# --- seed-compatible endpoints -----------------------------------------------------------------------------
class ClassifyRequest(Strict):
    """One text (``text``) or several (``texts``), with optional per-request model and thresholds."""

    text: Text | SkipJsonSchema[None] = Field(None, description="one text to classify", json_schema_extra=TEXT_FIELD)
    texts: list[Text] | SkipJsonSchema[None] = Field(
        None, description="several texts; one result per text, in order", json_schema_extra=TEXTS_FIELD
    )
    model: str | None = Field(
        None,
        description="use this registry model for this request only (the current "
        "model stays as it is for everyone else)",
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="decision threshold for every label (binary models: for the positive label)"
    )
    thresholds: dict[str, Probability] | None = Field(
        None, description='decision threshold per label, e.g. {"insult": 0.3}; overrides `threshold` for those labels'
    )
    explain: bool = Field(
        False,
        description="add each text's `explanation`: a signed score per word for its predicted label (multi-label: "
        "its top label), by the model's default method; counts against NLPC_EXPLAIN_MAX_TEXTS and "
        "NLPC_EXPLAIN_MAX_CHARS",
    )
    external_id: ExternalId | None = Field(None, description="your id of `text` (recorded; needed by `review`)")
    external_ids: list[ExternalId | None] | None = Field(
        None, description="your ids of `texts`, one per text in order (null for a text without one)"
    )
    channel: Channel = Field("", description="where the texts come from; external ids are unique per channel")
    review: bool = Field(
        False, description="queue the texts that have an external id for human review (asking twice queues once)"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["text"], "not": {"required": ["texts"]}},
                {"required": ["texts"], "not": {"required": ["text"]}},
            ],
            "examples": [{"text": EXAMPLE_TEXTS[2]}, {"texts": [*EXAMPLE_TEXTS[:2]], "threshold": 0.4}],
        }
    )

    @model_validator(mode="after")
    def _one_of_text_or_texts(self) -> ClassifyRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give either 'text' (one string) or 'texts' (a list of strings)")
        if self.external_id is not None and self.text is None:
            raise ValueError("'external_id' goes with 'text'; use 'external_ids' with 'texts'")
        if self.external_ids is not None and (self.texts is None or len(self.external_ids) != len(self.texts)):
            raise ValueError("'external_ids' needs 'texts' and one id (or null) per text")
        if self.review and self.external_id is None and not any(self.external_ids or []):
            raise ValueError("'review': true needs an 'external_id' (or 'external_ids') to queue the text under")
        return self

    @property
    def ids(self) -> list[str | None] | None:
        """The external id of each text, or None when the client gave none."""
        if self.external_id is not None:
            return [self.external_id]
        return list(self.external_ids) if self.external_ids is not None else None

    @property
    def inputs(self) -> tuple[list[str], tuple[str, ...], bool]:
        """The texts, the field they came from and whether it was the single ``text``."""
        if self.text is not None:
            return [self.text], ("body", "text"), True
        return list(self.texts or []), ("body", "texts"), False


class WordAttributionModel(BaseModel):
    """One word of the text: ``text[start:end]`` (Python string offsets, i.e. Unicode code points) and its signed
    contribution to the explained label's score."""

    word: str
    start: int
    end: int
    score: float


class ExplanationModel(BaseModel):
    """Why the model scored ``label`` as it did: every word of the text with its attribution (docs/explanations.md)."""

    text: str
    label: str
    score: float
    method: Literal["linear", "occlusion", "integrated_gradients"]
    words: list[WordAttributionModel]


class LabelScore(BaseModel):
    label: str
    score: float


class Classification(BaseModel):
    """One text's result: the seed's fields plus every flagged (harmful) label."""

    predicted_label: str | None = Field(
        description="the class (single-label), or the top flagged label (multi-label; null when none is flagged)"
    )
    confidence: float
    scores: list[LabelScore]
    flagged_labels: list[str] = Field(
        description="the harmful labels decided for the text; empty when nothing "
        "harmful was found (a harmless prediction such as not_hateful, Regular "
        "Speech or neither is never flagged)"
    )
    explanation: ExplanationModel | None = Field(None, description='only with "explain": true')


class PredictResponse(Classification):
    """The seed's /predict answer, for a request with ``text``."""

    model: str
    inference_time_ms: float = Field(description="time in the model, micro-batch wait included")


class PredictBatchResponse(BaseModel):
    """The answer to a request with ``texts``: one result per text, in order."""

    model: str
    results: list[Classification]
    inference_time_ms: float


class CategoryScore(BaseModel):
    category: str
    score: float
    flagged: bool


class Toxicity(BaseModel):
    is_toxic: bool
    toxicity_scores: list[CategoryScore]
    flagged_categories: list[str]
    explanation: ExplanationModel | None = Field(None, description='only with "explain": true')


class ToxicityResponse(Toxicity):
    """The seed's /predict/toxicity answer, for a request with ``text``."""

    model: str
    inference_time_ms: float


class ToxicityBatchResponse(BaseModel):
    model: str
    results: list[Toxicity]
    inference_time_ms: float


class HealthResponse(BaseModel):
    status: Literal["ok", "no_model"]
    model_loaded: bool
    current_model: str | None
    available_models: list[str]
    model_path: str | None
    num_classes: int
    classes: list[str]
    toxicity_model: str | None
    loaded_models: list[str]
    version: str


class ReadyResponse(BaseModel):
    ready: bool
    current_model: str | None
    toxicity_model: str | None
    reason: str | None = None


class TrainingProgress(BaseModel):
    step: int
    total: int
    elapsed_s: int
    eta_s: int = Field(description="the run's own estimate of the training time left (export not included)")


class TrainingStatusResponse(BaseModel):
    state: Literal["none", "running", "succeeded", "failed", "stopped", "interrupted"] = Field(
        description="none: no background training was started for this models folder; interrupted: it was "
        "killed without being able to say so"
    )
    model: str | None = None
    purpose: Literal["train", "finish"] | None = Field(
        None,
        description="train: training the model; finish: what follows its training (the int8 export and the "
        "calibration), for a model that a run stopped after saving",
    )
    command: str | None = None
    log: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_status: int | None = None
    message: str | None = Field(None, description="what happened when it ended (the switch, or why not)")
    progress: TrainingProgress | None = Field(None, description="the last progress line of this run's log")
    last_line: str | None = Field(None, description="the last line of this run's log")
    description: str | None = Field(None, description="one sentence on a running training, for people")


class ModelInfo(BaseModel):
    type: str = Field(description="model family (tfidf, transformer, ...)")
    description: str
    path: str
    is_current: bool
    is_toxicity_model: bool
    loaded: bool
    backend: str | None = Field(description="inference backend, when loaded")
    version: str
    task: str
    base_model: str | None
    problem_type: str
    labels: list[str]
    test_metrics: dict[str, float | None]
    thresholds: dict[str, float] = Field(
        description=f"decision threshold per label ({DEFAULT_THRESHOLD} where the card has none)"
    )
    avg_inference_time_ms: float | None = Field(
        None, description="mean time to classify one text, measured when the model was trained (its training_info.json)"
    )


class ModelsResponse(BaseModel):
    current_model: str | None
    toxicity_model: str | None
    available_models: list[str]
    models: dict[str, ModelInfo]
    notice: str | None = Field(
        None,
        description="what a client should know about the current model: that it is the TF-IDF fallback of the "
        "fine-tuned hate model (which flags neutral statements about many identity groups) and how far the "
        "training of that model has got, or that the current model is being finished and its scores are not "
        "calibrated yet; null otherwise",
    )


class SwitchRequest(Strict):
    model_name: str = Field(min_length=1, examples=["linear_svm"])
    if_current: str | None = Field(
        None,
        min_length=1,
        description="switch only if this is still the current model (409 otherwise): for clients that decide "
        "to switch from what they saw, so they never undo a switch someone made since",
    )


class SwitchResponse(BaseModel):
    status: Literal["ok"]
    message: str
    previous_model: str | None
    current_model: str
    reloaded: bool = Field(
        False, description="the model was saved again since it was loaded, and the saved one is now served"
    )


class EndpointInfo(BaseModel):
    method: str
    path: str
    summary: str


class RootResponse(BaseModel):
    name: str
    version: str
    docs: str
    openapi: str
    endpoints: list[EndpointInfo]


# --- OpenAI moderation ---------------------------------------------------------------------------------------
OPENAI_CATEGORIES = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
]


def _field_name(category: str) -> str:
    return category.replace("/", "_").replace("-", "_")


def _category_model(name: str, kind: Any, doc: str) -> type[BaseModel]:
    fields = {_field_name(c): (kind, Field(alias=c)) for c in OPENAI_CATEGORIES}
    return create_model(name, __doc__=doc, __config__=ConfigDict(populate_by_name=True), **fields)  # type: ignore[call-overload]


ModerationCategories = _category_model("ModerationCategories", bool, "Whether each category is flagged.")
ModerationCategoryScores = _category_model("ModerationCategoryScores", float, "Score of each category.")
ModerationInputTypes = _category_model(
    "ModerationCategoryAppliedInputTypes",
    list[Literal["text"]],
    "Input types each score applies to (always text here).",
)


class ModerationTextInput(BaseModel):
    type: Literal["text"]
    text: Text = Field(json_schema_extra=TEXT_FIELD)


class ModerationImageInput(BaseModel):
    """Accepted by the schema so OpenAI clients get a clear 400: this service classifies text only."""

    type: Literal["image_url"]
    image_url: dict[str, Any]


class ModerationRequest(BaseModel):
    """OpenAI's moderation request: ``input`` is a string, a list of strings, or a list of input objects."""

    input: Text | list[Text] | list[ModerationTextInput | ModerationImageInput] = Field(json_schema_extra=TEXT_FIELD)
    model: str | None = Field(
        None,
        description="an OpenAI moderation model name (omni-moderation-latest, "
        "text-moderation-latest, ...) uses the service's toxicity model; a registry "
        "name picks that multi-label model",
    )

    model_config = ConfigDict(
        protected_namespaces=(),
        json_schema_extra={
            "examples": [
                {"input": EXAMPLE_TEXTS[2]},
                {"input": [*EXAMPLE_TEXTS[:2]], "model": "omni-moderation-latest"},
            ]
        },
    )


class ModerationResult(BaseModel):
    flagged: bool
    # models built by create_model (one field per OpenAI category), which mypy cannot see as types
    categories: ModerationCategories  # type: ignore[valid-type]
    category_scores: ModerationCategoryScores  # type: ignore[valid-type]
    category_applied_input_types: ModerationInputTypes  # type: ignore[valid-type]


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorResponse(BaseModel):
    error: OpenAIError


# --- Perspective API ------------------------------------------------------------------------------------------
PERSPECTIVE_ATTRIBUTES = ["TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT"]


class PerspectiveComment(BaseModel):
    text: Text = Field(json_schema_extra=TEXT_FIELD)
    type: Literal["PLAIN_TEXT"] | None = None


class AttributeRequest(BaseModel):
    scoreType: Literal["PROBABILITY"] | None = None
    scoreThreshold: float | None = Field(None, ge=0.0, le=1.0, description="leave out attributes scoring below")


class AnalyzeRequest(BaseModel):
    """Perspective's ``comments:analyze`` request. ``doNotStore`` keeps the text out of the workflow database
    (only its hash is recorded) and out of the log; fields we do not use (sessionId, ...) are accepted."""

    comment: PerspectiveComment
    requestedAttributes: dict[str, AttributeRequest] = Field(
        min_length=1,
        json_schema_extra={"propertyNames": {"pattern": f"^({'|'.join(PERSPECTIVE_ATTRIBUTES)})(_EXPERIMENTAL)?$"}},
    )
    languages: list[str] | None = None
    doNotStore: bool | None = Field(None, description="record only the comment's hash, never its text, and log no text")
    spanAnnotations: bool | None = None
    clientToken: str | None = None
    sessionId: str | None = None
    communityId: str | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"comment": {"text": EXAMPLE_TEXTS[2]}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}}]
        }
    )


class Score(BaseModel):
    value: float
    type: Literal["PROBABILITY"] = "PROBABILITY"


class SpanScore(BaseModel):
    begin: int
    end: int
    score: Score


class AttributeScores(BaseModel):
    summaryScore: Score
    spanScores: list[SpanScore]


class AnalyzeResponse(BaseModel):
    attributeScores: dict[str, AttributeScores]
    languages: list[str]
    detectedLanguages: list[str]
    clientToken: str | None = None


class GoogleError(BaseModel):
    code: int
    message: str
    status: str


class GoogleErrorResponse(BaseModel):
    error: GoogleError


# --- moderation workflow: review queue, feedback, data deletion --------------------------------------------
ReviewState = Literal["pending", "claimed", "decided"]


class ReviewItem(BaseModel):
    external_id: str | None
    channel: str
    text: str | None = Field(description="null when texts are not stored (NLPC_STORE_TEXT=false)")
    text_hash: str = Field(description="SHA-256 of the text, hex")


class Review(BaseModel):
    """One item in the review queue."""

    id: int
    state: ReviewState
    reason: Literal["band", "requested"] = Field(description="in the uncertainty band, or asked for by a client")
    priority: float = Field(description="uncertainty: 1 at the middle of the band, 0 at its edges")
    score: float | None = Field(description="the highest score among the model's harmful labels")
    model: str
    model_version: str | None
    labels: list[str] = Field(description="the labels a decision may take")
    predicted_label: str | None
    flagged: list[str]
    scores: dict[str, float] | None = Field(None, description="every label's score in the reviewed prediction")
    claimed_by: str | None
    claimed_at: str | None
    decided_label: str | None
    reviewer: str | None
    note: str | None
    decided_at: str | None
    created_at: str
    updated_at: str
    version: int
    item: ReviewItem


class ReviewPage(BaseModel):
    reviews: list[Review]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last one")


class DecisionRequest(Strict):
    label: str = Field(min_length=1, max_length=200, description="one of the review's `labels`")
    note: str | None = Field(None, max_length=2000, description="why, for other reviewers")


class AgreementStats(BaseModel):
    reviewed: int
    agreed: int
    agreement: float | None = Field(description="share of decisions equal to the model's label")
    flagged_reviewed: int
    flagged_confirmed: int
    flagged_precision: float | None = Field(description="share of reviewed flagged items whose decision is flagged")


class ModelAgreement(AgreementStats):
    model: str
    model_version: str | None


class DayAgreement(AgreementStats):
    day: str


class Overturned(BaseModel):
    model: str
    predicted_label: str | None
    decided_label: str
    count: int


class ReviewStats(BaseModel):
    queue: dict[str, int] = Field(description="reviews per state")
    overall: AgreementStats
    by_model: list[ModelAgreement]
    by_day: list[DayAgreement]
    overturned: list[Overturned]


class FeedbackRequest(Strict):
    """A label or scores suggested for a text, by its external id, its text, or both."""

    external_id: ExternalId | None = None
    channel: Channel = ""
    text: Text | None = Field(
        None, description="the text, when no prediction of it was recorded", json_schema_extra=TEXT_FIELD
    )
    model: str | None = Field(
        None, description="the model the suggestion is about; the label must be one of its labels"
    )
    label: str | None = Field(None, min_length=1, max_length=200)
    scores: dict[str, Probability] | None = Field(None, description="suggested score per label")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"external_id": "comment-42", "model": "logistic_regression", "label": "neither"}]
        }
    )

    @model_validator(mode="after")
    def _something_to_say(self) -> FeedbackRequest:
        if self.external_id is None and self.text is None:
            raise ValueError("give 'external_id' or 'text' (or both) to say what the feedback is about")
        if self.label is None and not self.scores:
            raise ValueError("give a 'label' or 'scores'")
        return self


class FeedbackResponse(BaseModel):
    id: int
    item_id: int | None = Field(description="the recorded item it joined (null when none is recorded)")


class SuggestScoreValue(BaseModel):
    value: Probability
    type: Literal["PROBABILITY"] | None = None


class SuggestedAttribute(BaseModel):
    summaryScore: SuggestScoreValue | None = Field(None, description="the score suggested for the whole comment")
    spanScores: list[dict[str, Any]] | None = Field(None, description="accepted, not stored")


class SuggestScoreRequest(BaseModel):
    """Perspective's ``comments:suggestscore`` request (fields we do not use, such as spanScores, are accepted)."""

    comment: PerspectiveComment
    attributeScores: dict[str, SuggestedAttribute] = Field(
        min_length=1,
        json_schema_extra={"propertyNames": {"pattern": f"^({'|'.join(PERSPECTIVE_ATTRIBUTES)})(_EXPERIMENTAL)?$"}},
    )
    languages: list[str] | None = None
    context: dict[str, Any] | None = None
    communityId: str | None = Field(None, max_length=100)
    clientToken: str | None = Field(None, max_length=200)
    sessionId: str | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "comment": {"text": EXAMPLE_TEXTS[2]},
                    "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.9}}},
                    "communityId": "forum",
                    "clientToken": "t-1",
                }
            ]
        }
    )


class SuggestScoreResponse(BaseModel):
    detectedLanguages: list[str] | None = None
    requestedLanguages: list[str] | None = None
    clientToken: str | None = None


class ForgetCounts(BaseModel):
    items: int
    predictions: int
    reviews: int
    feedback: int


# --- the published schema --------------------------------------------------------------------------------
def publish_schema(schema: dict[str, Any], settings: ServeSettings) -> dict[str, Any]:
    """The OpenAPI schema as this configuration behaves: the configured text limits in place of the
    ``x-nlpc-limit`` markers, and API keys marked optional where they are (in place)."""
    document_limits(schema, settings)
    if not settings.require_api_key:
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if operation.get("security") and not always_keyed(path):
                    operation["security"].insert(0, {})
    return schema


def always_keyed(path: str) -> bool:
    """Whether ``path`` needs a key even when predictions do not (admin and workflow endpoints)."""
    return path in ADMIN_PATHS or path.startswith(ALWAYS_KEYED_PREFIXES)


def document_limits(schema: dict[str, Any], settings: ServeSettings) -> dict[str, Any]:
    """Replace the ``x-nlpc-limit`` markers in an OpenAPI schema with the configured limits (in place)."""

    def text_rules(node: dict) -> None:
        for branch in node.get("anyOf", [node]):
            if branch.get("type") == "string":
                branch.update(maxLength=settings.max_text_chars, pattern=NON_BLANK)
            elif branch.get("type") == "array":
                branch.update(minItems=1, maxItems=settings.max_texts_per_request)
                items = branch.get("items", {})
                if items.get("type") == "string":
                    items.update(maxLength=settings.max_text_chars, pattern=NON_BLANK)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.pop("x-nlpc-limit", None):
                text_rules(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema
