"""The web UI's entry script: ``nlpc ui`` runs ``streamlit run`` on this file.

Every page reaches models only through the HTTP API (``nlp_classifier.ui.client``); nothing here loads a model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from nlp_classifier.errors import NlpcError
from nlp_classifier.ui import session, sidebar
from nlp_classifier.ui.client import default_api_key, default_api_url

VIEWS = Path(__file__).resolve().parent / "views"
log = logging.getLogger("nlp_classifier.ui")

st.set_page_config(page_title="nlpc · text moderation", page_icon=":material/shield:", layout="wide")
st.session_state.setdefault(session.API_URL_KEY, default_api_url())
st.session_state.setdefault(session.API_KEY_KEY, default_api_key())
session.keep_page_inputs()

page = st.navigation(
    [
        st.Page(VIEWS / "analyse.py", title="Analyse", icon=":material/search:", default=True),
        st.Page(VIEWS / "compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page(VIEWS / "batch.py", title="Batch", icon=":material/table_view:"),
        st.Page(VIEWS / "history.py", title="History", icon=":material/history:"),
        st.Page(VIEWS / "review.py", title="Review", icon=":material/fact_check:"),
        st.Page(VIEWS / "insights.py", title="Insights", icon=":material/insights:"),
    ]
)
session.refresh_models()
sidebar.render()
if session.models_error() is not None:
    st.error(str(session.models_error()), icon=":material/cloud_off:")
try:
    page.run()
except NlpcError as exc:  # our own errors carry a message a person can act on
    st.error(str(exc))
except Exception as exc:  # the UI never shows a stack trace; the log keeps it for whoever runs the server
    log.exception("UI page %s failed", page.title)
    st.error(
        f"Something went wrong on this page ({type(exc).__name__}: {exc}). The details are in the log of `nlpc ui`."
    )
