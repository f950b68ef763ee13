"""What routes receive from the application, as typed FastAPI dependencies: the settings, the model manager, the
metrics registry and the moderation workflow (set on ``app.state`` by ``create_app``). Routes and the API-key
checks (``security``) declare them with these ``Annotated`` aliases instead of reading ``request.app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

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


SettingsDep = Annotated[ServeSettings, Depends(get_settings)]
ManagerDep = Annotated[ModelManager, Depends(get_manager)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
WorkflowDep = Annotated[Workflow, Depends(get_workflow)]
