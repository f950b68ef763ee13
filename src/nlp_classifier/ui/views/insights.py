"""Insights page: what the review decisions say about the models (``GET /v1/reviews/stats``): the queue's size,
agreement of model and reviewers and the precision of flagged items over time, the labels reviewers overturn
most, and the same per model version. Needs a reviewer (or admin) API key in the sidebar."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nlp_classifier.ui import session
from nlp_classifier.ui.charts import agreement_chart, overturned_chart, queue_chart


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


st.title("Insights")
if not st.session_state.get(session.API_KEY_KEY):
    st.info("The review statistics need a reviewer API key: enter it in the sidebar.")
    st.stop()
stats = session.client().review_stats()
queue, overall = stats["queue"], stats["overall"]
cols = st.columns(5)
cols[0].metric("Pending", queue.get("pending", 0))
cols[1].metric("Claimed", queue.get("claimed", 0))
cols[2].metric("Decided", queue.get("decided", 0))
cols[3].metric("Agreement", share(overall["agreement"]), help="decisions equal to the model's label")
cols[4].metric(
    "Flagged precision", share(overall["flagged_precision"]), help="reviewed flagged items whose decision is flagged"
)

left, right = st.columns(2)
left.subheader("Queue")
left.altair_chart(queue_chart(queue), key="insights_queue")
right.subheader("Most overturned labels")
if stats["overturned"]:
    right.altair_chart(overturned_chart(stats["overturned"]), key="insights_overturned")
else:
    right.info("No decision has changed a model's label yet.")

st.subheader("Agreement over time")
if stats["by_day"]:
    st.altair_chart(agreement_chart(stats["by_day"]), key="insights_agreement")
else:
    st.info("No decisions yet: agreement appears here once reviewers decide items.")

st.subheader("Per model version")
if stats["by_model"]:
    table = pd.DataFrame(stats["by_model"])
    first = ["model", "model_version", "reviewed", "agreement", "flagged_precision"]
    st.dataframe(table[first + [c for c in table.columns if c not in first]], hide_index=True, key="insights_by_model")
