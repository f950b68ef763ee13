"""Batch page: upload a CSV / TSV / JSONL / Parquet file, score one column through the API, download the result."""

from __future__ import annotations

import hashlib

import streamlit as st

from nlp_classifier.data.readers import table_format
from nlp_classifier.errors import DataError
from nlp_classifier.ui import charts, files, session
from nlp_classifier.ui.client import ApiError
from nlp_classifier.ui.models import ModelInfo
from nlp_classifier.ui.results import thresholds_for

RESULT_KEY = "batch_result"
CHUNK_SIZE = 64  # texts per request: well under the API's per-request limit, and a smooth progress bar


@st.cache_data(show_spinner=False, max_entries=4)
def read_upload(name: str, digest: str, _data: bytes):
    """The uploaded table, cached by name and content digest so reruns do not re-parse it."""
    return files.read_upload(name, _data)


def score(frame, column: str, source: str, model: str | None) -> dict | None:
    """Send the column's texts to the API in chunks, with a progress bar; None (and a message) on failure."""
    try:
        texts = files.texts_from_column(frame, column, source)
    except DataError as exc:
        st.error(str(exc))
        return None
    client = session.client()
    results: list[dict] = []
    progress = st.progress(0.0, text=f"Scoring {len(texts):,} rows…")
    for start in range(0, len(texts), CHUNK_SIZE):
        chunk = texts[start : start + CHUNK_SIZE]
        try:
            results += client.predict(chunk, model=model)
        except ApiError as exc:
            progress.empty()
            if exc.text_index is not None:  # one row the API will not take: name it, as a file problem is named
                row = start + exc.text_index + 1
                st.error(str(DataError(exc.text_problem or str(exc), path=source, row=row, column=column)))
            else:
                st.error(f"Rows {start + 1}-{start + len(chunk)} of {source} could not be scored: {exc}")
            return None
        progress.progress(len(results) / len(texts), text=f"Scored {len(results):,} of {len(texts):,} rows")
    scored = files.scored_frame(frame, results)
    outcome = {"source": source, "column": column, "model": model, "frame": scored}
    st.session_state[RESULT_KEY] = outcome
    return outcome


def show(outcome: dict, fmt: str, info: ModelInfo | None) -> None:
    """The scored table, the label distribution, a score histogram and the download button."""
    scored = outcome["frame"]
    st.subheader(f"Results: {len(scored):,} rows scored by {outcome['model'] or 'the API’s current model'}")
    st.dataframe(scored, hide_index=True, key="batch_table")
    left, right = st.columns(2)
    left.markdown("**Predicted labels**")
    left.altair_chart(charts.distribution_chart(scored["predicted_label"]), width="stretch")
    score_columns = [c for c in scored.columns if c.startswith("score_")]
    with right:
        st.markdown("**Score histogram**")
        default = 1 if len(score_columns) == 2 else 0
        column = st.selectbox("Score", score_columns, index=default, key="batch_hist_column")
        limits = thresholds_for([c.removeprefix("score_") for c in score_columns], info, None)
        st.altair_chart(
            charts.score_histogram(scored[column], column, limits.get(column.removeprefix("score_"))), width="stretch"
        )
    st.download_button(
        "Download the scored file",
        files.to_bytes(scored, fmt),
        file_name=files.download_name(outcome["source"]),
        mime=files.MIME.get(fmt),
        type="primary",
        key="batch_download",
        icon=":material/download:",
        on_click="ignore",
    )


st.title("Score a file")
st.caption(
    "Each row's text goes to the API; the result adds `score_<label>` columns, `predicted_label` and "
    "`confidence` and `flagged` (the harmful labels found; empty when nothing is flagged) to your file."
)
upload = st.file_uploader(
    "CSV, TSV, JSON Lines or Parquet file (optionally .gz)", type=files.UPLOAD_TYPES, key="batch_file"
)
if upload is None:
    st.session_state[RESULT_KEY] = None
    st.stop()
data = upload.getvalue()
try:
    frame = read_upload(upload.name, hashlib.sha256(data).hexdigest(), data)
except DataError as exc:
    st.error(str(exc))
    st.stop()
st.caption(f"{upload.name}: {len(frame):,} rows; columns {', '.join(frame.columns)}")
st.dataframe(frame.head(5), hide_index=True, key="batch_preview")

columns = list(frame.columns)
guess = files.guess_text_column(columns)
if guess is None:
    st.warning(
        f"{upload.name} has no column named 'text' (columns are: {', '.join(columns)}). "
        "Pick the column that holds the text."
    )
column = st.selectbox(
    "Text column",
    columns,
    index=columns.index(guess) if guess else None,
    placeholder="Pick the column that holds the text",
    key="batch_text_column",
)
view = session.models_view()
model = session.selected_model()
info = view.models.get(model) if view and model else None
st.write(f"Model: **{model or 'the API’s current model'}** (change it in the sidebar)")
previous = st.session_state.get(RESULT_KEY)
if previous and (previous["source"] != upload.name or previous["column"] != column or previous["model"] != model):
    st.session_state[RESULT_KEY] = previous = None
if st.button(f"Score {len(frame):,} rows", type="primary", key="batch_score", disabled=view is None):
    if column is None:
        st.error(f"Pick the column of {upload.name} that holds the text.")
    else:
        previous = score(frame, column, upload.name, model)
if previous:
    show(previous, table_format(upload.name), info)
