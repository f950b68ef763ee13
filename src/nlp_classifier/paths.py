"""Where the project keeps its models and bundled data (overridable from the environment)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent.parent


def models_dir() -> Path:
    """The models folder: $NLPC_MODELS_DIR, else ./models of the project checkout."""
    return Path(os.environ.get("NLPC_MODELS_DIR", PROJECT_ROOT / "models")).resolve()


def data_dir() -> Path:
    """The bundled datasets: $NLPC_DATA_DIR, else ./data of the project checkout."""
    return Path(os.environ.get("NLPC_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def database_path() -> Path:
    """The embedded workflow database (SQLite) used when $NLPC_DATABASE_URL is not set: nlpc.db in the data
    folder."""
    return data_dir() / "nlpc.db"
