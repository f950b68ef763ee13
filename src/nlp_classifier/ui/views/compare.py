"""Compare page: the same text through several models side by side (each request names its model)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nlp_classifier.defaults import EXAMPLE_TEXTS
from nlp_classifier.ui import charts, session
from nlp_classifier.ui.client import ApiError
from nlp_classifier.ui.results import highlighted, scores_of
from nlp_classifier.ui.widgets import models_table, threshold_control

RESULT_KEY = "compare_result"
MAX_DEFAULT_MODELS = 4


def compare(text: str, models: list[str], threshold: float | None) -> dict:
    """One ``/predict`` per model; a model that fails is reported and the others still answer."""
    client = session.client()
    answers, errors = {}, {}
    progress = st.progress(0.0, text="Asking the models…")
    for i, name in enumerate(models, start=1):
        try:
            answers[name] = client.predict([text], model=name, threshold=threshold)[0]
        except ApiError as exc:
            errors[name] = str(exc)
            if exc.unreachable:
                break
        progress.progress(i / len(models), text=f"{i} of {len(models)} models answered")
    progress.empty()
    outcome = {"text": text, "threshold": threshold, "answers": answers, "errors": errors}
    st.session_state[RESULT_KEY] = outcome
    return outcome


def show(outcome: dict) -> None:
    """A table (one row per model) and a grouped bar chart of every label's probability."""
    view = session.models_view()
    for name, message in outcome["errors"].items():
        st.error(f"{name}: {message}")
    if not outcome["answers"]:
        return
    rows, long_rows = [], []
    for name, result in outcome["answers"].items():
        info = view.models.get(name) if view else None
        rows.append(
            {
                "model": name,
                "family": info.family if info else "?",
                "task": info.task if info else "?",
                "predicted label": result.get("predicted_label") or "(nothing flagged)",
                "confidence": round(float(result.get("confidence", 0.0)), 4),
                "flagged": ", ".join(highlighted(result)),
                "inference ms": round(float(result.get("inference_time_ms", 0.0)), 2),
            }
        )
        long_rows += [{"model": name, "label": label, "probability": p} for label, p in scores_of(result).items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="compare_table")
    st.altair_chart(charts.compare_chart(pd.DataFrame(long_rows)), width="stretch")


st.title("Compare models")
view = session.models_view()
if view is None or not view.models:
    st.info("No models to compare until the API lists some (see the message above or in the sidebar).")
    st.stop()
st.session_state.setdefault("compare_text", st.session_state.get("analyse_text") or EXAMPLE_TEXTS[2])
text = st.text_area("Text", key="compare_text", height=100)
chosen_model = session.selected_model()
default = ([chosen_model] if chosen_model in view.models else []) + [n for n in view.names if n != chosen_model]
if "compare_models" in st.session_state:  # keep the user's choice, less models the API no longer serves
    st.session_state["compare_models"] = [n for n in st.session_state["compare_models"] if n in view.models]
else:
    st.session_state["compare_models"] = default[:MAX_DEFAULT_MODELS]
models = st.multiselect("Models", view.names, key="compare_models")
threshold = threshold_control("compare")
if st.button("Compare", type="primary", key="compare_button"):
    if not text.strip():
        st.warning("Type or paste a text first.")
    elif not models:
        st.warning("Pick at least one model.")
    else:
        compare(text, models, threshold)
if st.session_state.get(RESULT_KEY):
    show(st.session_state[RESULT_KEY])
st.subheader("Models the API serves")
models_table(view)
