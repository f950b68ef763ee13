"""HTTP routes, one module per API dialect: the legacy endpoints (the seed project's), operations (readiness,
metrics), OpenAI's moderation endpoint and Perspective's comments:analyze."""

from .legacy import router as legacy_router
from .openai import router as openai_router
from .ops import router as ops_router
from .perspective import router as perspective_router

ROUTERS = [legacy_router, ops_router, openai_router, perspective_router]
