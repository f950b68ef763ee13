"""Batch scoring of a CSV/JSONL/Parquet file: one score column per label, the flagged labels and the predicted
label."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..classifier import Classifier
from ..data.readers import read_table, write_table
from ..decision import decide
from ..errors import DataError
from ..evaluation import predict_proba_batched


def score_frame(
    classifier: Classifier,
    frame: pd.DataFrame,
    text_column: str,
    *,
    source: str = "input",
    threshold: float | None = None,
    batch_size: int = 256,
) -> pd.DataFrame:
    """A copy of ``frame`` with ``score_<label>`` columns, ``flagged`` (the harmful labels decided for each row,
    comma-separated; empty when nothing is flagged, e.g. a not_hateful prediction) and ``predicted_label``, by
    the same rule as ``Classifier.predict`` (``decision.decide``)."""
    if text_column not in frame.columns:
        raise DataError(
            f"missing column '{text_column}' (columns are: {', '.join(map(str, frame.columns))})",
            path=source,
            column=text_column,
        )
    texts = []
    for row, value in enumerate(frame[text_column].tolist(), start=1):
        if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
            raise DataError("empty text", path=source, row=row, column=text_column)
        texts.append(str(value))
    proba = predict_proba_batched(classifier, texts, batch_size, description=f"Scoring with {classifier.name}")
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
