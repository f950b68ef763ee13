"""Controls shared by several pages."""

from __future__ import annotations

import string

import pandas as pd
import streamlit as st

from ..decision import DEFAULT_THRESHOLD
from .models import ModelsView


def threshold_control(prefix: str) -> float | None:
    """A toggle and a slider; returns None to keep each model's own thresholds, else the chosen threshold."""
    left, right = st.columns([1, 3])
    override = left.toggle(
        "Custom threshold",
        key=f"{prefix}_override",
        help="Off: each model's own (tuned) thresholds. On: one threshold for every label.",
    )
    st.session_state.setdefault(f"{prefix}_threshold", DEFAULT_THRESHOLD)
    value = right.slider("Threshold", 0.0, 1.0, step=0.01, key=f"{prefix}_threshold", disabled=not override)
    return float(value) if override else None


def models_table(view: ModelsView) -> None:
    """Every model the API serves: family, task, base model, version, headline test metrics, latency."""
    st.dataframe(
        pd.DataFrame([info.summary_row() for info in view.models.values()]), hide_index=True, key="models_table"
    )


def literal_markdown(text: str) -> str:
    """``text`` escaped for ``st.markdown``, so that a user's text shows as typed: every ASCII punctuation mark
    gets a backslash (no links, headings, emphasis, ``$`` maths or ``:emoji:`` codes), and line breaks stay."""
    escaped = "".join(f"\\{c}" if c in string.punctuation else c for c in text)
    return escaped.replace("\n", "  \n")
