"""The HTTP API: ``create_app(settings)`` builds it, ``nlpc serve`` runs it with uvicorn."""

from .app import create_app
from .settings import ServeSettings, load_settings

__all__ = ["create_app", "ServeSettings", "load_settings"]
