"""Operations: readiness for load balancers, Prometheus metrics and the state of a background training."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ...training.background_status import describe, read_status
from ..dependencies import ManagerDep, MetricsDep, SettingsDep
from ..schemas import ReadyResponse, TrainingStatusResponse

router = APIRouter(tags=["operations"])


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"model": ReadyResponse}},
    summary="Whether the service can answer /predict",
)
async def ready(manager: ManagerDep) -> JSONResponse:
    """200 once the current model is loaded, 503 before (or when the models folder has none)."""
    body = {"ready": False, "current_model": manager.current_name, "toxicity_model": manager.toxicity_name}
    if not manager.started:
        return JSONResponse({**body, "reason": "starting"}, status_code=503)
    if manager.current_name is None:
        return JSONResponse({**body, "reason": "no model available"}, status_code=503)
    return JSONResponse({**body, "ready": True})


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(registry: MetricsDep) -> Response:
    """Requests and latency per endpoint, micro-batch sizes and inference time per model, models loaded."""
    return Response(registry.render(), media_type=registry.content_type)


@router.get(
    "/models/training",
    response_model=TrainingStatusResponse,
    summary="The model being trained in the background for this API, if any",
)
async def training(settings: SettingsDep) -> dict:
    """What `nlpc run --train-in-background` (`make run`) is training into the models folder this API serves: its
    state, progress (step, total, elapsed time and ETA from its log), log file and, once it has ended, how."""
    status = await asyncio.to_thread(read_status, Path(settings.models_dir))
    return {**status, "description": describe(status)}
