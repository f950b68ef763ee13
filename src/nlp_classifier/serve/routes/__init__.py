"""HTTP routes, one module per API dialect: the legacy endpoints (the seed project's), operations (readiness,
metrics), OpenAI's moderation endpoint, Perspective's comments:analyze and comments:suggestscore, and the
moderation workflow (review queue, feedback, deleting an external id's data)."""

from .feedback import router as feedback_router
from .items import router as items_router
from .legacy import router as legacy_router
from .openai import router as openai_router
from .ops import router as ops_router
from .perspective import router as perspective_router
from .reviews import router as reviews_router

ROUTERS = [
    legacy_router,
    ops_router,
    openai_router,
    perspective_router,
    reviews_router,
    feedback_router,
    items_router,
]
