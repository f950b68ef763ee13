"""The Streamlit web UI. It holds no model logic: every model fact and prediction comes from the HTTP API
(``client.ApiClient``); ``app.py`` is the script ``nlpc ui`` hands to ``streamlit run``."""

from __future__ import annotations

from pathlib import Path

APP_PATH = Path(__file__).resolve().parent / "app.py"
