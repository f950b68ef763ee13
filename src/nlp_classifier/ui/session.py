"""Per-browser-session state of the UI: the API client, the chosen model, the history of analysed texts."""

from __future__ import annotations

import datetime as _dt
from typing import Any

import streamlit as st

from .client import ApiClient, ApiError, default_api_url
from .models import ModelsView

API_URL_KEY = "api_url"
API_KEY_KEY = "api_key"
MODEL_KEY = "model"
HISTORY_KEY = "history"
MODELS_KEY = "_models"
MODELS_ERROR_KEY = "_models_error"


def client() -> ApiClient:
    """A client for the API URL and key entered in the sidebar."""
    return ApiClient(st.session_state.get(API_URL_KEY) or default_api_url(), st.session_state.get(API_KEY_KEY))


def refresh_models() -> ModelsView | None:
    """Ask the API for its models (once per script run, from ``app.py``); remember the answer or the error."""
    try:
        st.session_state[MODELS_KEY] = ModelsView.from_api(client().models())
        st.session_state[MODELS_ERROR_KEY] = None
    except ApiError as exc:
        st.session_state[MODELS_KEY] = None
        st.session_state[MODELS_ERROR_KEY] = exc
    return st.session_state[MODELS_KEY]


def models_view() -> ModelsView | None:
    """The API's models as fetched at the start of this run; None when the API could not say."""
    return st.session_state.get(MODELS_KEY)


def models_error() -> ApiError | None:
    """Why the models could not be fetched in this run, if they could not."""
    return st.session_state.get(MODELS_ERROR_KEY)


# Inputs of one page that should survive a visit to another page (Streamlit forgets the state of widgets
# that a run does not draw, unless the state is re-assigned).
PAGE_INPUT_KEYS = (
    "analyse_text",
    "analyse_override",
    "analyse_threshold",
    "compare_text",
    "compare_models",
    "compare_override",
    "compare_threshold",
)


def keep_page_inputs() -> None:
    """Keep the text, models and thresholds typed on each page while the user looks at another one."""
    for key in PAGE_INPUT_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def selected_model() -> str | None:
    """The model picked in the sidebar (None until the API has answered)."""
    return st.session_state.get(MODEL_KEY)


def add_history(text: str, model: str | None, result: dict, toxicity: dict | None = None) -> None:
    """Record one analysed text and its result in this session's history."""
    flagged = ", ".join(toxicity.get("flagged_categories", [])) if toxicity else ""
    entry: dict[str, Any] = {
        "time": _dt.datetime.now().strftime("%H:%M:%S"),
        "text": text,
        "model": result.get("model") or model or "",
        "label": result.get("predicted_label") or "",
        "confidence": round(float(result.get("confidence", 0.0)), 4),
        "toxic": ("yes" if toxicity.get("is_toxic") else "no") if toxicity else "-",
        "flagged categories": flagged,
        "inference ms": round(float(result.get("inference_time_ms", 0.0)), 2),
    }
    st.session_state.setdefault(HISTORY_KEY, []).append(entry)


def history() -> list[dict]:
    """This session's analysed texts, oldest first."""
    return list(st.session_state.get(HISTORY_KEY, []))


def clear_history() -> None:
    """Forget every analysed text of this session."""
    st.session_state[HISTORY_KEY] = []
