"""What routes receive from the application, as typed FastAPI dependencies: the settings, the model manager, the
metrics registry and the moderation workflow (set on ``app.state`` by ``create_app``). Routes and the API-key
checks (``security``) declare them with these ``Annotated`` aliases instead of reading ``request.app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError

from .metrics import ServiceMetrics
from .model_manager import ModelManager
from .settings import ServeSettings
from .workflow import Workflow


def get_settings(request: Request) -> ServeSettings:
    return request.app.state.settings


def get_manager(request: Request) -> ModelManager:
    return request.app.state.manager


def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


def get_workflow(request: Request) -> Workflow:
    return request.app.state.workflow


def forbid_unknown_query_parameters(request: Request) -> None:
    """A 422 for a query parameter the route does not take, as bodies refuse unknown fields: the workflow's routes
    filter and delete by their parameters, and a misspelt one (``?chanel=forum``) would otherwise be ignored, so
    a delete meant for one channel would reach every channel. Added to those routers only: Perspective and
    OpenAI clients may send query parameters of their own (e.g. Perspective's ``?key=``)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        known.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"Extra inputs are not permitted (this route's query parameters: {expected})",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


SettingsDep = Annotated[ServeSettings, Depends(get_settings)]
ManagerDep = Annotated[ModelManager, Depends(get_manager)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
WorkflowDep = Annotated[Workflow, Depends(get_workflow)]
