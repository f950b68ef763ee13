"""Operations: readiness for load balancers and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ..dependencies import ManagerDep, MetricsDep
from ..schemas import ReadyResponse

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
