"""Batch scoring of a CSV/JSONL/Parquet file: one score column per label, the flagged labels and the predicted
label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..classifier import Classifier
from ..data.readers import missing_column_message, read_table, write_table
from ..decision import decide
from ..errors import ConfigError, DataError
from ..evaluation import predict_proba_batched
from .options import ON_ERROR

SKIPPED_COLUMNS = ["file", "row", "id", "column", "reason"]


@dataclass
class PreparedChunk:
    """``rows``: the rows to score (the kept columns and the text column, in input order); ``skipped``: the rows
    left out and why (columns ``SKIPPED_COLUMNS``)."""

    rows: pd.DataFrame
    skipped: pd.DataFrame


@dataclass
class ScoredChunk:
    """``scored``: the kept columns plus the score columns, ``flagged`` and ``predicted_label``, in input order;
    ``skipped``: the rows left out and why (columns ``SKIPPED_COLUMNS``)."""

    scored: pd.DataFrame
    skipped: pd.DataFrame


def kept_columns(
    available: Sequence[str],
    text_column: str,
    id_column: str | None = None,
    columns: Sequence[str] | None = None,
    *,
    source: str = "input",
) -> list[str]:
    """The input columns the output keeps: ``columns`` (all when None), with ``id_column`` first when it is not
    among them. Raises DataError naming the file and the first missing column (the text column included)."""
    available = [str(c) for c in available]
    for name in [text_column, *([id_column] if id_column else []), *(columns or [])]:
        if name not in available:
            raise DataError(missing_column_message(name, available), path=source, column=name)
    if columns is None:
        return available
    keep = [id_column] if id_column and id_column not in columns else []
    for name in columns:
        if name not in keep:
            keep.append(name)
    return keep


def prepare_chunk(
    frame: pd.DataFrame,
    text_column: str,
    id_column: str | None = None,
    columns: Sequence[str] | None = None,
    on_error: str = "fail",
    *,
    source: str = "input",
    rows: Sequence[int] | None = None,
) -> PreparedChunk:
    """Select the kept columns (``kept_columns``) and find the rows whose text cannot be scored
    (``text_problem``). With ``on_error="fail"`` the first such row raises DataError naming ``source``, its row and
    the text column; with ``"skip"`` it goes to ``skipped``. ``rows`` are the 1-based row numbers of ``frame``'s
    rows in ``source`` (default 1, 2, ...)."""
    if on_error not in ON_ERROR:
        raise ConfigError(f"--on-error must be one of {', '.join(ON_ERROR)}, not '{on_error}'")
    keep = kept_columns(frame.columns, text_column, id_column, columns, source=source)
    numbers = list(rows) if rows is not None else list(range(1, len(frame) + 1))
    problems = [(i, text_problem(v)) for i, v in enumerate(frame[text_column].tolist())]
    bad = [(i, p) for i, p in problems if p]
    if bad and on_error == "fail":
        i, problem = bad[0]
        raise DataError(str(problem), path=source, row=numbers[i], column=text_column)
    selected = frame[keep + ([text_column] if text_column not in keep else [])]
    ids = frame[id_column].tolist() if id_column else None
    skipped = pd.DataFrame(
        {
            "file": [source] * len(bad),
            "row": [numbers[i] for i, _ in bad],
            "id": [ids[i] if ids is not None else None for i, _ in bad],
            "column": [text_column] * len(bad),
            "reason": [p for _, p in bad],
        },
        columns=SKIPPED_COLUMNS,
    )
    if bad:
        good = np.ones(len(frame), dtype=bool)
        good[[i for i, _ in bad]] = False
        selected = selected[good]
    return PreparedChunk(selected.reset_index(drop=True), skipped)


def score_chunk(
    classifier: Classifier,
    frame: pd.DataFrame,
    text_column: str,
    id_column: str | None = None,
    columns: Sequence[str] | None = None,
    on_error: str = "fail",
    *,
    source: str = "input",
    rows: Sequence[int] | None = None,
    threshold: float | None = None,
    batch_size: int = 256,
) -> ScoredChunk:
    """``prepare_chunk`` then ``score_frame`` on the rows kept; the text column leaves the output when
    ``columns`` does not keep it. Every engine scores each chunk (or batch) of its input with this."""
    prepared = prepare_chunk(frame, text_column, id_column, columns, on_error, source=source, rows=rows)
    scored = score_frame(
        classifier,
        prepared.rows,
        text_column,
        source=source,
        threshold=threshold,
        batch_size=batch_size,
        show_progress=False,
    )
    keep = kept_columns(frame.columns, text_column, id_column, columns, source=source)
    if text_column not in keep:
        scored = scored.drop(columns=[text_column])
    return ScoredChunk(scored, prepared.skipped)


def text_problem(value: object) -> str | None:
    """Why ``value`` cannot be scored as a text (None when it can): missing, blank, or a list/object."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return "empty text"
    if isinstance(value, (dict, list, tuple, np.ndarray)):
        return f"text is a {type(value).__name__}, not a string"
    return None


def score_frame(
    classifier: Classifier,
    frame: pd.DataFrame,
    text_column: str,
    *,
    source: str = "input",
    threshold: float | None = None,
    batch_size: int = 256,
    show_progress: bool = True,
) -> pd.DataFrame:
    """A copy of ``frame`` with ``score_<label>`` columns, ``flagged`` (the harmful labels decided for each row,
    comma-separated; empty when nothing is flagged, e.g. a not_hateful prediction) and ``predicted_label``, by
    the same rule as ``Classifier.predict`` (``decision.decide``). ``show_progress=False`` draws no bar (an engine
    that shows its own progress calls it so)."""
    if text_column not in frame.columns:
        raise DataError(
            missing_column_message(text_column, list(frame.columns)),
            path=source,
            column=text_column,
        )
    texts = []
    for row, value in enumerate(frame[text_column].tolist(), start=1):
        problem = text_problem(value)
        if problem:
            raise DataError(problem, path=source, row=row, column=text_column)
        texts.append(str(value))
    if show_progress:
        proba = predict_proba_batched(classifier, texts, batch_size, description=f"Scoring with {classifier.name}")
    else:
        parts = [classifier.predict_proba(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        proba = np.vstack(parts) if parts else np.zeros((0, len(classifier.labels)))
    limits = classifier.resolve_thresholds(threshold)
    out = frame.copy()
    for i, label in enumerate(classifier.labels):
        out[f"score_{label}"] = proba[:, i]
    made = decide(proba, classifier.labels, classifier.problem_type, limits, classifier.harmless_labels)
    out["flagged"] = [",".join(flagged) for flagged in made.flagged_labels(classifier.labels)]
    out["predicted_label"] = made.predicted_labels(classifier.labels, nothing="")
    return out


def score_file(
    classifier: Classifier,
    input_path: str | Path,
    output_path: str | Path,
    text_column: str = "text",
    threshold: float | None = None,
    batch_size: int = 256,
) -> int:
    """Score every row of ``input_path`` and write ``output_path`` atomically; returns the row count."""
    frame = read_table(input_path)
    scored = score_frame(
        classifier, frame, text_column, source=str(input_path), threshold=threshold, batch_size=batch_size
    )
    write_table(scored, output_path)
    return len(scored)
