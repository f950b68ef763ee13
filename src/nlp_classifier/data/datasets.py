"""Built-in tasks and user files turned into one ``Dataset`` shape: texts, integer targets, label names."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ..paths import data_dir
from ..tasks import MULTI_LABEL, SINGLE_LABEL, TASKS
from .readers import missing_column_message, read_table

DAVIDSON_FILE = "davidson/labeled_data.csv.gz"
JIGSAW_FILE = "jigsaw/train.csv.gz"


@dataclass
class Dataset:
    """Texts with targets: ``y`` is (n,) class ids for single-label, (n, k) 0/1 for multi-label."""

    name: str
    texts: list[str]
    y: np.ndarray
    labels: list[str]
    problem_type: str
    source: str
    fingerprint: str = field(default="")
    # Multi-source tasks: the source of each row, and the part (0 train, 1 validation, 2 test) fixed for each
    # row by the data itself (authors' splits, de-duplication); None where the usual seeded split applies.
    sources: list[str] | None = None
    parts: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.texts, self.y, self.labels)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int] | np.ndarray, part: str) -> Dataset:
        """The rows at ``indices`` as a new Dataset named ``<name>:<part>``."""
        idx = np.asarray(indices, dtype=int)
        return Dataset(
            f"{self.name}:{part}",
            [self.texts[i] for i in idx],
            self.y[idx],
            list(self.labels),
            self.problem_type,
            self.source,
            sources=[self.sources[i] for i in idx] if self.sources is not None else None,
            parts=self.parts[idx] if self.parts is not None else None,
        )

    def source_names(self) -> list[str]:
        """The distinct sources in first-seen order ([] for a single-source dataset)."""
        return list(dict.fromkeys(self.sources)) if self.sources is not None else []

    def by_source(self) -> dict[str, Dataset]:
        """One Dataset per source (empty for a single-source dataset)."""
        if self.sources is None:
            return {}
        names = np.asarray(self.sources)
        return {s: self.subset(np.flatnonzero(names == s), s) for s in self.source_names()}

    def label_counts(self) -> dict[str, int]:
        """Number of texts per label."""
        if self.problem_type == MULTI_LABEL:
            return {lab: int(c) for lab, c in zip(self.labels, self.y.sum(axis=0))}
        counts = np.bincount(self.y, minlength=len(self.labels))
        return {lab: int(c) for lab, c in zip(self.labels, counts)}


def fingerprint(texts: Sequence[str], y: np.ndarray, labels: Sequence[str]) -> str:
    """sha256 over the texts, targets and label names: equal data gives an equal fingerprint."""
    h = hashlib.sha256()
    h.update("\x1f".join(labels).encode())
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    h.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return "sha256:" + h.hexdigest()


def has_own_file_format(task: str) -> bool:
    """Whether a built-in task reads a file of its own format (Davidson's, Jigsaw's columns) as ``load_dataset(task,
    path)``; the multi-source ``hate`` task has none, so a file labelled for it is read like any labelled file."""
    return task in TASKS and task != "hate"


def load_dataset(
    task: str,
    path: str | Path | None = None,
    *,
    text_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> Dataset:
    """Load a built-in task (``davidson``, ``davidson3``, ``jigsaw``, ``hate``), optionally from another file with
    the same columns (e.g. the full Kaggle train.csv), or any labelled file when ``task`` is a path."""
    if task == "hate":
        from .hate import load_hate

        if path is not None:
            raise ConfigError(
                "task 'hate' is built from the bundled sources; to train on your own file pass it "
                "as the task (--task FILE) with its --text-column/--label-column"
            )
        return load_hate()
    if task in TASKS:
        try:
            if task.startswith("davidson"):
                return _load_davidson(
                    task,
                    Path(path) if path else data_dir() / DAVIDSON_FILE,
                    text_column or "tweet",
                    (label_columns or ["class"])[0],
                )
            return load_file(
                Path(path) if path else data_dir() / JIGSAW_FILE,
                text_column=text_column or "comment_text",
                label_columns=list(label_columns or TASKS["jigsaw"].labels),
                name="jigsaw",
            )
        except DataError as exc:
            if path is None or not exc.message.startswith("missing column"):
                raise
            raise DataError(  # a user's own file given with --data, read in the task's bundled format
                f"{exc.message}; a file given for task '{task}' is read in that task's own format: name its columns "
                "with --text-column/--label-column (to train on labels of the file's own, pass it as the task: "
                "--task FILE)",
                path=exc.path,
                column=exc.column,
            ) from None
    if path is None and (Path(task).suffix or Path(task).exists()):
        return load_file(task, text_column=text_column, label_columns=label_columns, labels=labels)
    raise ConfigError(f"unknown task '{task}': use one of {', '.join(TASKS)} or the path of a labelled file")


def _require_columns(frame: pd.DataFrame, path: Path, columns: Sequence[str]) -> None:
    for col in columns:
        if col not in frame.columns:
            raise DataError(
                missing_column_message(col, list(frame.columns)),
                path=str(path),
                column=col,
            )


def _texts(frame: pd.DataFrame, path: Path, column: str) -> list[str]:
    texts = []
    for row, value in enumerate(frame[column].tolist(), start=1):
        if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
            raise DataError("empty text", path=str(path), row=row, column=column)
        texts.append(str(value))
    return texts


def _load_davidson(task: str, path: Path, text_column: str = "tweet", label_column: str = "class") -> Dataset:
    frame = read_table(path)
    _require_columns(frame, path, [text_column, label_column])
    texts = _texts(frame, path, text_column)
    y = _class_ids(frame[label_column].tolist(), ["0", "1", "2"], path, label_column)
    if task == "davidson":  # the seed's binary mapping: hate or offensive -> Hate Speech (1)
        y = (y != 2).astype(int)
    return Dataset(task, texts, y, list(TASKS[task].labels), SINGLE_LABEL, str(path))


def _class_ids(values: list, labels: Sequence[str], path: Path, column: str) -> np.ndarray:
    index = {str(lab): i for i, lab in enumerate(labels)}
    ids = np.empty(len(values), dtype=int)
    for row, value in enumerate(values, start=1):
        key = _label_key(value)
        if key == "":
            raise DataError("empty label", path=str(path), row=row, column=column)
        if key not in index:
            raise DataError(
                f"unknown label '{value}' (expected one of: {', '.join(map(str, labels))})",
                path=str(path),
                row=row,
                column=column,
            )
        ids[row - 1] = index[key]
    return ids


def _label_key(value) -> str:
    """Labels compare as strings; 1.0 and 1 are the same label; a missing value is the empty string."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def load_file(
    path: str | Path,
    *,
    text_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    name: str | None = None,
) -> Dataset:
    """Any labelled CSV/TSV/JSONL/Parquet: one label column (single-label, class names as values) or several
    0/1 columns (multi-label, one per label)."""
    path = Path(path)
    frame = read_table(path)
    text_column = text_column or "text"
    label_columns = list(label_columns or ["label"])
    _require_columns(frame, path, [text_column, *label_columns])
    if len(frame) == 0:
        raise DataError("the file has no rows", path=str(path))
    texts = _texts(frame, path, text_column)
    name = name or path.name.split(".")[0]
    if len(label_columns) > 1:
        y = np.column_stack([_class_ids(frame[c].tolist(), ["0", "1"], path, c) for c in label_columns])
        return Dataset(name, texts, y, label_columns, MULTI_LABEL, str(path))
    column = label_columns[0]
    values = frame[column].tolist()
    if labels is None:
        labels = sorted({_label_key(v) for v in values} - {""})
        if len(labels) < 2:
            raise DataError(f"needs at least two distinct labels, found {labels}", path=str(path), column=column)
    return Dataset(
        name,
        texts,
        _class_ids(values, [str(x) for x in labels], path, column),
        list(map(str, labels)),
        SINGLE_LABEL,
        str(path),
    )
