"""Batch files in the UI: read an upload, pick its texts, turn API results into score columns, write the
download. Reading reuses the project's readers (same formats and the same precise errors as the CLI)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pandas as pd

from ..data.readers import missing_column_message, read_table, table_format
from ..errors import DataError

UPLOAD_TYPES = ["csv", "tsv", "jsonl", "json", "parquet", "gz"]
TEXT_COLUMN_GUESSES = ("text", "comment_text", "tweet", "comment", "content", "message")
MIME = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "jsonl": "application/jsonl",
    "parquet": "application/vnd.apache.parquet",
}


def read_upload(name: str, data: bytes) -> pd.DataFrame:
    """Read an uploaded file's bytes as a table; errors name the uploaded file, not a temporary path."""
    safe_name = Path(name).name or "upload.csv"
    table_format(safe_name)  # unsupported type: a clear error before writing anything
    with tempfile.TemporaryDirectory(prefix="nlpc-ui-") as tmp:
        path = Path(tmp) / safe_name
        path.write_bytes(data)
        try:
            frame = read_table(path)
        except DataError as exc:
            raise DataError(str(exc).replace(str(path), safe_name)) from None
    if frame.empty:
        raise DataError("the file has no rows", path=safe_name)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def guess_text_column(columns: list[str]) -> str | None:
    """The column most likely to hold the text ('text', 'comment_text', ...), or None."""
    lowered = {c.lower(): c for c in columns}
    return next((lowered[g] for g in TEXT_COLUMN_GUESSES if g in lowered), None)


def texts_from_column(frame: pd.DataFrame, column: str, source: str) -> list[str]:
    """The column's texts; a missing column or an empty row is a DataError naming file, row and column."""
    if column not in frame.columns:
        raise DataError(missing_column_message(column, list(frame.columns)), path=source, column=column)
    texts = []
    for row, value in enumerate(frame[column].tolist(), start=1):
        if value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip():
            raise DataError("empty text", path=source, row=row, column=column)
        texts.append(str(value))
    return texts


def scored_frame(frame: pd.DataFrame, results: list[dict]) -> pd.DataFrame:
    """A copy of ``frame`` with the API's answers: ``score_<label>`` per label, ``flagged`` (the API's
    ``flagged_labels``, comma-separated; empty when nothing harmful was found), ``predicted_label`` and
    ``confidence`` (the columns ``nlpc predict --input`` writes, plus the confidence)."""
    out = frame.copy()
    labels = [s["label"] for s in results[0]["scores"]] if results else []
    for label in labels:
        out[f"score_{label}"] = [next(s["score"] for s in r["scores"] if s["label"] == label) for r in results]
    out["flagged"] = [",".join(r.get("flagged_labels") or []) for r in results]
    out["predicted_label"] = [r.get("predicted_label") or "" for r in results]
    out["confidence"] = [float(r.get("confidence", 0.0)) for r in results]
    return out


def download_name(source: str) -> str:
    """'comments.csv' -> 'comments.scored.csv' (JSON Lines stays JSON Lines, .gz is dropped)."""
    name = Path(source).name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    fmt = table_format(name)
    return f"{name.rsplit('.', 1)[0]}.scored.{fmt}"


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The scored table in the given format (csv, tsv, jsonl or parquet)."""
    if fmt == "parquet":
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
    return frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",").encode("utf-8")
