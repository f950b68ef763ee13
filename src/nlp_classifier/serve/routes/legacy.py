"""The legacy endpoints (those of the seed project this service grew from), unchanged for its clients: /, /health,
/predict, /models, /models/switch, /predict/toxicity; /predict and /predict/toxicity also take ``texts``,
``model``, ``threshold`` and ``thresholds``. Prediction answers are built as plain JSON (the response models
document them)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ... import __version__
from ...artifacts import training_info_path
from ...card import ModelCard
from ...classifier import Prediction
from ...decision import thresholds_or_default
from ...defaults import may_need_notice, serving_notice
from ...errors import NlpcError, StaleSwitchError
from ...fileio import read_json
from ...training.background_status import read_status
from ..dependencies import ManagerDep, SettingsDep
from ..errors import from_nlpc_error
from ..inference import classify, explain, model_for
from ..limits import check_explain, check_texts
from ..model_manager import ServedModel
from ..schemas import (
    ClassifyRequest,
    ErrorResponse,
    HealthResponse,
    ModelsResponse,
    PredictBatchResponse,
    PredictResponse,
    RootResponse,
    SwitchRequest,
    SwitchResponse,
    ToxicityBatchResponse,
    ToxicityResponse,
)
from ..security import prediction_key, require_admin_key
from ..settings import ServeSettings

router = APIRouter(tags=["classification"])

_ERR = {"model": ErrorResponse}
PREDICT_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERR, 403: _ERR, 404: _ERR, 413: _ERR, 503: _ERR}
SWITCH_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERR, 403: _ERR, 404: _ERR, 409: _ERR, 413: _ERR, 503: _ERR}


def measured_latency_ms(card) -> float | None:
    """The single-text latency recorded at training time (``avg_inference_time_ms`` of training_info.json)."""
    try:
        value = read_json(training_info_path(card)).get("avg_inference_time_ms")
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def classification(p: Prediction, labels: list[str]) -> dict:
    """One text's result in the seed's shape, scores in label order."""
    return {
        "predicted_label": p.label,
        "confidence": p.confidence,
        "scores": [{"label": lab, "score": p.scores[lab]} for lab in labels],
        "flagged_labels": p.flagged,
    }


def toxicity(p: Prediction, labels: list[str]) -> dict:
    """One text's toxicity result in the seed's shape."""
    flagged = set(p.flagged)
    return {
        "is_toxic": bool(flagged),
        "toxicity_scores": [{"category": lab, "score": p.scores[lab], "flagged": lab in flagged} for lab in labels],
        "flagged_categories": p.flagged,
    }


@router.get("/", response_model=RootResponse, summary="Endpoint map")
async def root(request: Request) -> dict:
    """Every endpoint with its method and purpose, and where the interactive docs are."""
    endpoints = [
        {"method": method.upper(), "path": path, "summary": operation.get("summary", "")}
        for path, operations in request.app.openapi()["paths"].items()
        for method, operation in operations.items()
    ]
    return {
        "name": request.app.title,
        "version": __version__,
        "docs": "/docs",
        "openapi": "/openapi.json",
        "endpoints": endpoints,
    }


@router.get("/health", response_model=HealthResponse, summary="Service status and the current model")
async def health(manager: ManagerDep) -> dict:
    """Liveness plus the seed's fields: the current model, its file, its classes, and every available model."""
    cards = await asyncio.to_thread(manager.cards)
    current = manager.loaded().get(manager.current_name) if manager.current_name else None
    classes = current.classifier.labels if current else []
    return {
        "status": "ok" if current else "no_model",
        "model_loaded": current is not None,
        "current_model": manager.current_name,
        "available_models": sorted({c.name for c in cards}),
        "model_path": str(current.card.artifact_path) if current else None,
        "num_classes": len(classes),
        "classes": classes,
        "toxicity_model": manager.toxicity_name,
        "loaded_models": list(manager.loaded()),
        "version": __version__,
    }


async def _answer(
    body: ClassifyRequest,
    request: Request,
    settings: ServeSettings,
    pick_model: Callable[[str | None], Awaitable[ServedModel]],
    shape: Callable[[Prediction, list[str]], dict],
) -> JSONResponse:
    """Check the texts, classify them with the model ``pick_model(body.model)`` names, and answer one text in the
    seed's shape or several as ``{"results": [...]}``, each result built by ``shape(prediction, labels)``."""
    texts, loc, single = body.inputs
    check_texts(texts, settings, loc, single)
    if body.explain:
        check_explain(texts, settings, loc, single)
    served = await model_for(pick_model(body.model))
    predictions, ms = await classify(
        request,
        settings,
        served,
        texts,
        threshold=body.threshold,
        thresholds=body.thresholds,
        external_ids=body.ids,
        channel=body.channel,
        review=body.review,
    )
    labels = served.classifier.labels
    results = [shape(p, labels) for p in predictions]
    if body.explain:
        for result, explanation in zip(results, await explain(served, texts)):
            result["explanation"] = explanation.to_dict()
    if single:
        return JSONResponse({**results[0], "model": served.name, "inference_time_ms": ms})
    return JSONResponse({"model": served.name, "results": results, "inference_time_ms": ms})


@router.post(
    "/predict",
    response_model=PredictResponse | PredictBatchResponse,
    responses=PREDICT_ERRORS,
    dependencies=[Depends(prediction_key)],
    summary="Classify one text or several",
)
async def predict(body: ClassifyRequest, request: Request, settings: SettingsDep, manager: ManagerDep) -> JSONResponse:
    """`{"text": ...}` answers in the seed's shape; `{"texts": [...]}` answers `{"results": [...]}`, one per text
    in order. `model` picks a model for this request only."""
    return await _answer(body, request, settings, manager.get, classification)


@router.post(
    "/predict/toxicity",
    response_model=ToxicityResponse | ToxicityBatchResponse,
    responses=PREDICT_ERRORS,
    dependencies=[Depends(prediction_key)],
    summary="Multi-label toxicity scores for one text or several",
)
async def predict_toxicity(
    body: ClassifyRequest, request: Request, settings: SettingsDep, manager: ManagerDep
) -> JSONResponse:
    """Per-category scores and flags from the toxicity model (or the multi-label `model` given)."""
    return await _answer(body, request, settings, manager.get_toxicity, toxicity)


@router.get("/models", response_model=ModelsResponse, summary="Every model in the registry")
async def models(manager: ManagerDep, settings: SettingsDep) -> dict:
    """Each model's family, description, file, version, task, base model and test metrics, and a note on the
    current model when there is one to make (the TF-IDF fallback, or a model being finished)."""
    cards = await asyncio.to_thread(manager.cards)
    training = (  # the status file and the log's end are read only when the note could concern the current model
        await asyncio.to_thread(read_status, Path(settings.models_dir))
        if may_need_notice(manager.current_name)
        else None
    )
    loaded = manager.loaded()

    def info(card: ModelCard) -> dict:
        served = loaded.get(card.name)
        test = card.metrics.get("test") or {}
        return {
            "type": card.family,
            "description": card.description,
            "path": str(card.artifact_path),
            "is_current": card.name == manager.current_name,
            "is_toxicity_model": card.name == manager.toxicity_name,
            "loaded": served is not None,
            "backend": served.classifier.backend if served else None,
            "version": card.version,
            "task": card.task,
            "base_model": card.base_model,
            "problem_type": card.problem_type,
            "labels": list(card.labels),
            "test_metrics": {k: v for k, v in test.items() if isinstance(v, (int, float)) or v is None},
            "thresholds": thresholds_or_default(card.labels, card.thresholds),
            "avg_inference_time_ms": measured_latency_ms(card),
        }

    out: dict[str, dict] = {}
    for card in cards:
        if card.name not in out:
            out[card.name] = info(card)
    for name in (manager.current_name, manager.toxicity_name):
        # a model still served after its folder went (a training preview that its finished model replaced) is
        # listed from the card it was loaded with, so clients can still describe and use it
        if name is not None and name not in out and name in loaded:
            out[name] = info(loaded[name].card)
    return {
        "current_model": manager.current_name,
        "toxicity_model": manager.toxicity_name,
        "available_models": list(out),
        "models": out,
        "notice": serving_notice(manager.current_name, list(out), training),
    }


@router.post(
    "/models/switch",
    response_model=SwitchResponse,
    responses=SWITCH_ERRORS,
    dependencies=[Depends(require_admin_key)],
    summary="Change the current model (needs an API key)",
)
async def switch(body: SwitchRequest, manager: ManagerDep) -> dict:
    """Load `model_name`, then make it the model /predict uses. Requests already running finish on the old one.
    With `if_current`, only if that is still the current model (409 when someone switched since)."""
    try:
        previous, served, replaced = await manager.switch(body.model_name, if_current=body.if_current)
    except NlpcError as exc:
        field = "if_current" if isinstance(exc, StaleSwitchError) else "model_name"
        raise from_nlpc_error(exc, ("body", field)) from None
    message = f"switched from {previous} to {served.name}"
    if replaced is not None and replaced.version != served.card.version:
        message += f"; loaded {served.name} {served.card.version} as saved (version {replaced.version} was loaded)"
    elif replaced is not None:
        message += f"; loaded {served.name} {served.card.version} anew: it was saved again since it was loaded"
    return {
        "status": "ok",
        "message": message,
        "previous_model": previous,
        "current_model": served.name,
        "reloaded": replaced is not None,
    }
