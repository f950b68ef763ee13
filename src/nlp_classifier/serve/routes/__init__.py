"""HTTP routes, one module per API dialect: the seed's endpoints, operations (readiness, metrics), OpenAI's
moderation endpoint and Perspective's comments:analyze."""
from .openai import router as openai_router
from .ops import router as ops_router
from .perspective import router as perspective_router
from .seed import router as seed_router

ROUTERS = [seed_router, ops_router, openai_router, perspective_router]
