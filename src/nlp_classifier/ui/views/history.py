"""History page: every text analysed in this browser session, newest first; clearable and downloadable."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from nlp_classifier.ui import files, session

st.title("History")
entries = session.history()
if not entries:
    st.info("Nothing analysed yet in this session. Texts you analyse appear here with their results.")
    st.stop()
table = pd.DataFrame(entries[::-1])
st.caption(
    f"{len(entries)} text{'s' if len(entries) != 1 else ''} analysed in this session (kept only in this "
    "browser tab, newest first)."
)
st.dataframe(
    table, hide_index=True, key="history_table", column_config={"text": st.column_config.TextColumn(width="large")}
)
left, right = st.columns([1, 4])
left.button("Clear history", key="clear_history", on_click=session.clear_history, icon=":material/delete:")
right.download_button(
    "Download as CSV",
    files.to_bytes(table, "csv"),
    file_name="nlpc-history.csv",
    mime="text/csv",
    key="history_download",
    on_click="ignore",
)
