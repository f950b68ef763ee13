"""Analyse page: one text through the chosen model, with every label's probability and the toxicity breakdown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nlp_classifier.defaults import EXAMPLE_TEXTS
from nlp_classifier.explain.html import explanation_html
from nlp_classifier.ui import charts, session
from nlp_classifier.ui.client import ApiError
from nlp_classifier.ui.results import highlighted, scores_of, thresholds_for, toxicity_scores_of
from nlp_classifier.ui.widgets import threshold_control

TEXT_KEY = "analyse_text"
RESULT_KEY = "analyse_result"


def use_example() -> None:
    choice = st.session_state.get("analyse_example")
    if choice:
        st.session_state[TEXT_KEY] = choice


def analyse(text: str, model: str | None, threshold: float | None, explain: bool = True) -> dict | None:
    """Ask the API for the prediction (with its word-level explanation when ``explain``) and the toxicity
    breakdown; store and return the outcome. A text over the API's explanation limits is still classified."""
    client = session.client()
    st.session_state[RESULT_KEY] = None
    explain_error = None
    try:
        try:
            result = client.predict([text], model=model, threshold=threshold, explain=explain)[0]
        except ApiError as exc:
            if not (explain and "NLPC_EXPLAIN" in str(exc)):
                raise
            explain_error = str(exc)
            result = client.predict([text], model=model, threshold=threshold)[0]
    except ApiError as exc:
        st.error(str(exc))
        return None
    view = session.models_view()
    answered_by = result.get("model") or model
    info = view.models.get(answered_by) if view and answered_by else None
    toxicity, toxicity_error = None, None
    toxicity_model = answered_by if info is not None and info.multi_label else None
    try:
        toxicity = client.predict_toxicity(
            [text], model=toxicity_model, threshold=threshold if toxicity_model else None
        )[0]
    except ApiError as exc:
        toxicity_error = str(exc)
    outcome = {
        "text": text,
        "model": answered_by,
        "threshold": threshold,
        "result": result,
        "toxicity": toxicity,
        "toxicity_error": toxicity_error,
        "toxicity_threshold": threshold if toxicity_model else None,
        "explain_error": explain_error,
    }
    st.session_state[RESULT_KEY] = outcome
    session.add_history(text, answered_by, result, toxicity)
    return outcome


def show(outcome: dict) -> None:
    """Label, confidence, inference time, the probability chart and the toxicity breakdown."""
    result, model = outcome["result"], outcome["model"]
    view = session.models_view()
    info = view.models.get(model) if view and model else None
    st.subheader("Result")
    cols = st.columns(3)
    cols[0].metric("Predicted label", result.get("predicted_label") or "nothing flagged")
    cols[1].metric("Confidence", f"{float(result.get('confidence', 0.0)):.1%}")
    cols[2].metric("Inference time", f"{float(result.get('inference_time_ms', 0.0)):.2f} ms")
    threshold = outcome["threshold"]
    st.caption(
        f"Model **{model or 'the API’s current'}** · "
        + (f"custom threshold {threshold:.2f}" if threshold is not None else "the model’s own thresholds")
    )
    scores = scores_of(result)
    limits = thresholds_for(list(scores), info, outcome["threshold"])
    flagged_labels = highlighted(result)
    st.altair_chart(charts.probability_chart(scores, limits, flagged_labels), width="stretch")
    st.caption(f"Flagged: **{', '.join(flagged_labels)}**" if flagged_labels else "Nothing flagged.")
    if limits:
        st.caption(
            "Black ticks: the decision threshold of each label "
            f"({'custom' if outcome['threshold'] is not None else 'the model’s own'})."
        )
    else:
        st.caption("Multi-class model: the most probable label wins; there is no threshold.")
    show_explanation(result.get("explanation"), outcome.get("explain_error"))

    st.subheader("Toxicity breakdown")
    toxicity = outcome["toxicity"]
    if toxicity is None:
        st.info(f"No toxicity breakdown: {outcome['toxicity_error']}")
        return
    flagged = list(toxicity.get("flagged_categories", []))
    source = f" (model {toxicity['model']})" if toxicity.get("model") else ""
    if toxicity.get("is_toxic"):
        st.error(f"Toxic{source}: flagged {', '.join(flagged)}")
    else:
        st.success(f"Not toxic{source}: no category flagged")
    tox_scores = toxicity_scores_of(toxicity)
    tox_info = view.models.get(toxicity.get("model")) if view and toxicity.get("model") else None
    tox_limits = thresholds_for(list(tox_scores), tox_info, outcome["toxicity_threshold"]) if tox_info else {}
    left, right = st.columns([2, 3])
    table = pd.DataFrame(
        [
            {
                "category": s["category"],
                "score": round(float(s["score"]), 4),
                "flagged": "yes" if s.get("flagged") else "",
            }
            for s in toxicity.get("toxicity_scores", [])
        ]
    )
    styled = table.style.format({"score": "{:.3f}"}).apply(
        lambda row: ["background-color: #f8d7da; font-weight: bold" if row["flagged"] else "" for _ in row], axis=1
    )
    left.dataframe(styled, hide_index=True, key="toxicity_table")
    right.altair_chart(charts.probability_chart(tox_scores, tox_limits, flagged), width="stretch")


def show_explanation(explanation: dict | None, error: str | None) -> None:
    """The text with its words coloured by how they moved the explained label's score."""
    if error:
        st.info(f"No explanation: {error}")
    if not explanation:
        return
    st.subheader("Why")
    st.markdown(explanation_html(explanation), unsafe_allow_html=True)
    st.caption(
        f"Words in red push towards **{explanation['label']}** (score {float(explanation['score']):.3f}), words "
        f"in green push against it; stronger colour, larger effect. Method: {explanation['method']} "
        "(docs/explanations.md). Hover a word for its score."
    )


st.title("Analyse a text")
st.selectbox(
    "Example texts",
    EXAMPLE_TEXTS,
    index=None,
    placeholder="Try an example…",
    key="analyse_example",
    on_change=use_example,
)
text = st.text_area("Text", key=TEXT_KEY, height=120, placeholder="Paste or type a text to classify")
threshold = threshold_control("analyse")
explain = st.toggle("Explain", value=True, key="analyse_explain", help="colour the words by how they moved the score")
if st.button("Analyse", type="primary", key="analyse_button"):
    if not text.strip():
        st.warning("Type or paste a text first (or pick an example).")
    else:
        analyse(text, session.selected_model(), threshold, explain)
if st.session_state.get(RESULT_KEY):
    show(st.session_state[RESULT_KEY])
