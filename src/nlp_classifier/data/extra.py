"""Extra labelled rows for the training split only: reviewed items exported from the moderation workflow
(``nlpc feedback export``), or any file of corrections in the task's schema.

The file has a ``text`` column and either a ``label`` column whose values are the task's labels (single-label)
or one 0/1 column per label (multi-label). Its rows join the *training* split and nothing else:

- a row whose text (after ``dedup_key`` normalisation) is in the validation or test split is dropped and counted,
  so the measured metrics stay comparable with the model trained without it;
- a row whose text is already in the training split replaces that row (the reviewed label is the correction);
- a text repeated in the file keeps its last row (the latest decision wins).

For multi-source tasks the rows get the source ``extra`` and are mixed like any other source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..tasks import MULTI_LABEL
from .datasets import Dataset, load_file
from .hate import dedup_key
from .splits import Splits

EXTRA_SOURCE = "extra"


@dataclass(frozen=True)
class ExtraRows:
    """What one extra-data file brought to a training split (the model card keeps it)."""

    path: str
    fingerprint: str
    rows: int  # rows in the file
    added: int  # rows that joined the training split
    replaced: int  # training rows with the same text, replaced by the file's row
    held_out: int  # rows dropped because their text is in the validation or test split
    repeated: int  # rows dropped because a later row of the file has the same text

    def record(self) -> dict:
        """The card's ``extra_data`` entry."""
        return dict(self.__dict__)


def read_extra(path: str | Path, like: Dataset) -> Dataset:
    """The file as a Dataset with ``like``'s labels, checked: its label columns and values must be the task's."""
    path = Path(path)
    if not path.is_file():
        raise DataError("extra training data not found", path=str(path))
    if like.problem_type == MULTI_LABEL:
        return load_file(path, text_column="text", label_columns=like.labels, name=EXTRA_SOURCE)
    return load_file(path, text_column="text", label_columns=["label"], labels=like.labels, name=EXTRA_SOURCE)


def add_extra_rows(splits: Splits, path: str | Path) -> tuple[Splits, ExtraRows]:
    """``splits`` with the file's rows in the training split (see the module docstring); validation and test are
    returned unchanged."""
    train = splits.train
    extra = read_extra(path, train)
    held = {dedup_key(t) for t in splits.validation.texts} | {dedup_key(t) for t in splits.test.texts}
    keys = [dedup_key(t) for t in extra.texts]
    last = {k: i for i, k in enumerate(keys)}
    keep = [i for i, k in enumerate(keys) if k not in held and last[k] == i]
    held_out = sum(k in held for k in keys)
    kept_keys = {keys[i] for i in keep}
    train_keep = [i for i, t in enumerate(train.texts) if dedup_key(t) not in kept_keys]
    idx = np.asarray(train_keep, dtype=int)
    new_idx = np.asarray(keep, dtype=int)
    sources = None
    if train.sources is not None:
        sources = [train.sources[i] for i in train_keep] + [EXTRA_SOURCE] * len(keep)
    merged = Dataset(
        train.name,
        [train.texts[i] for i in train_keep] + [extra.texts[i] for i in keep],
        np.concatenate([train.y[idx], extra.y[new_idx]]),
        list(train.labels),
        train.problem_type,
        train.source,
        sources=sources,
    )
    report = ExtraRows(
        path=str(path),
        fingerprint=extra.fingerprint,
        rows=len(extra),
        added=len(keep),
        replaced=len(train) - len(train_keep),
        held_out=held_out,
        repeated=len(extra) - len(keep) - held_out,
    )
    return Splits(merged, splits.validation, splits.test), report
