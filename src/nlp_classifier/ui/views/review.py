"""Review page: the review queue one item at a time (the most uncertain pending one, claimed through the API),
with the model's scores and the words that made them (coloured as on the Analyse page); decide with a button per
label or its number key (1, 2, 3, ...), take the last decision back with Undo or the U key. Needs a reviewer (or
admin) API key in the sidebar."""

from __future__ import annotations

import streamlit as st

from nlp_classifier.explain.html import explanation_html
from nlp_classifier.ui import reviewing, session
from nlp_classifier.ui.charts import probability_chart
from nlp_classifier.ui.client import ApiError
from nlp_classifier.ui.results import thresholds_for
from nlp_classifier.ui.widgets import literal_markdown

NOTE_KEY = "review_note"
EXPLANATIONS_KEY = "_review_explanations"
MESSAGE_KEY = "_review_message"
MAX_SHORTCUT_LABELS = 9  # labels 1-9 get a number key; more labels still get a button


def say(kind: str, message: str) -> None:
    """Show ``message`` on the next run of this page."""
    st.session_state[MESSAGE_KEY] = (kind, message)


def on_decide(review_id: int, label: str) -> None:
    try:
        reviewing.decide(session.client(), review_id, label, st.session_state.get(NOTE_KEY) or None)
    except ApiError as exc:
        say("error", str(exc))
        return
    st.session_state[NOTE_KEY] = ""
    say("success", f"Review {review_id} decided: {label}.")


def explanation_of(review_id: int) -> dict | str:
    """The API's explanation of a review's text, or why there is none; asked once per review."""
    known = st.session_state.setdefault(EXPLANATIONS_KEY, {})
    if review_id not in known:
        try:
            known[review_id] = session.client().review_explanation(review_id)
        except ApiError as exc:
            known[review_id] = str(exc)
    return known[review_id]


def on_undo() -> None:
    try:
        review = reviewing.undo(session.client())
    except ApiError as exc:
        say("warning" if exc.status == 404 else "error", str(exc))
        return
    say("info", f"Decision on review {review['id']} undone; it is back in the queue and shown again.")


st.title("Review")
if not st.session_state.get(session.API_KEY_KEY):
    st.info(
        "The review queue needs a reviewer API key: enter it in the sidebar. An admin makes one with "
        "`nlpc db add-key --role reviewer --name YOUR_NAME`."
    )
    st.stop()
if MESSAGE_KEY in st.session_state:
    kind, message = st.session_state.pop(MESSAGE_KEY)
    getattr(st, kind)(message)

review = reviewing.current(session.client())
last = reviewing.last_decision()
st.button(
    "Undo last decision" + (f" (review {last})" if last is not None else ""),
    key="review_undo",
    on_click=on_undo,
    disabled=last is None,
    shortcut="U",
    icon=":material/undo:",
    help="Put your last decision back in the queue (key U).",
)
if review is None:
    st.success("The queue is empty: nothing is waiting for review.")
    st.stop()

item = review["item"]
# asked before anything of this item is drawn, so the page never shows the new text beside the last item's buttons
explained = explanation_of(review["id"]) if item["text"] is not None else None
st.caption(
    f"Review {review['id']} · model **{review['model']}** {review['model_version'] or ''} · "
    f"{'asked for by the client' if review['reason'] == 'requested' else 'score in the uncertainty band'} · "
    f"priority {review['priority']:.2f}" + (f" · external id `{item['external_id']}`" if item["external_id"] else "")
)
with st.container(border=True, key="review_text"):
    if item["text"] is None:
        st.warning(f"This item was stored without its text (SHA-256 {item['text_hash'][:16]}...).")
    else:
        st.markdown(f"#### {literal_markdown(item['text'])}")
if explained is not None:
    if isinstance(explained, dict):
        st.markdown(explanation_html(explained), unsafe_allow_html=True)
        st.caption(
            f"Why the model said **{explained['label']}**: words coloured by what they did to that score "
            f"({explained['method']}), red towards it, green against."
        )
    else:
        st.caption(f"No word highlighting: {explained}")
left, right = st.columns([2, 3])
left.metric("The model says", review["predicted_label"] or "-")
left.write("Flagged: " + (", ".join(review["flagged"]) if review["flagged"] else "nothing"))
scores = review.get("scores")
if scores:
    view = session.models_view()
    info = view.models.get(review["model"]) if view is not None else None
    chart = probability_chart(scores, thresholds_for(list(scores), info, None), review["flagged"])
    right.altair_chart(chart, key="review_scores")

st.text_input("Note (optional)", key=NOTE_KEY, placeholder="why, for other reviewers")
st.write("**Your decision** (or press the label's number):")
labels = review["labels"]
columns = st.columns(len(labels))
for number, (column, label) in enumerate(zip(columns, labels), start=1):
    column.button(
        f"{number} · {label}" if number <= MAX_SHORTCUT_LABELS else label,
        key=f"review_decide_{number}",
        on_click=on_decide,
        args=(review["id"], label),
        shortcut=str(number) if number <= MAX_SHORTCUT_LABELS else None,
        type="primary" if label == review["predicted_label"] else "secondary",
        width="stretch",
    )
