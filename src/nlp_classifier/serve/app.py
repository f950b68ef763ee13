"""The FastAPI application: ``create_app(settings)`` wires settings, the model manager, middleware, error
handlers and routes; the lifespan loads the models before the first request and stops the inference threads
after the last."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .. import __version__
from .errors import install_error_handlers
from .logs import log
from .metrics import ServiceMetrics
from .middleware import REQUEST_ID_HEADER, BodySizeLimit, RequestLog
from .model_manager import ModelManager, freeze_long_lived
from .routes import ROUTERS
from .schemas import publish_schema
from .settings import ServeSettings, load_settings
from .workflow import Workflow

DESCRIPTION = """Hate-speech and toxicity classification with your own models.

* Seed-compatible: `/predict`, `/predict/toxicity`, `/models`, `/models/switch`, `/health`.
* OpenAI-compatible moderation: `POST /v1/moderations` (point the `openai` client's `base_url` at `/v1`).
* Perspective-compatible: `POST /v1alpha1/comments:analyze`.
* Operations: `/ready`, `/metrics` (Prometheus).
* Moderation workflow: the review queue `/v1/reviews`, feedback `/v1/feedback` and Perspective's
  `comments:suggestscore`, `DELETE /v1/items/{external_id}`.

API keys go in `X-API-Key` or `Authorization: Bearer`; their roles are client (predictions), reviewer (queue,
feedback) and admin (switching models, deleting data). Every response carries `X-Request-ID`."""


def create_app(settings: ServeSettings | None = None, manager: ModelManager | None = None) -> FastAPI:
    """The API for ``settings`` (default: from the environment). Pass a started ``manager`` to skip loading in
    the lifespan (``nlpc serve`` does, so a bad model stops it before it listens)."""
    settings = settings or load_settings()
    manager = manager or ModelManager(settings, ServiceMetrics())
    workflow = Workflow(settings, manager.metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not manager.started:
            await asyncio.to_thread(manager.start)
        await asyncio.to_thread(workflow.start)
        freeze_long_lived()  # what start-up created lives as long as the server
        log.info(
            "api started",
            extra={
                "version": __version__,
                "current_model": manager.current_name,
                "toxicity_model": manager.toxicity_name,
            },
        )
        yield
        await asyncio.to_thread(workflow.close)
        manager.close()
        log.info("api stopped")

    app = FastAPI(title="nlp-classifier API", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.manager = manager
    app.state.metrics = manager.metrics
    app.state.workflow = workflow
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=[REQUEST_ID_HEADER],
        )
    app.add_middleware(RequestLog, metrics=manager.metrics)
    for router in ROUTERS:
        app.include_router(router)

    default_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = publish_schema(default_openapi(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
    return app
