"""The multi-source ``hate`` task: every source's rows under one binary label (not_hateful / hateful), each row
keeping its source, with fixed parts and no text shared between a test or validation part and training.

Parts: the authors' split where a source has one (Gab train/test, HatemojiBuild train/validation/test, with
validation carved from Gab's train); Davidson and Jigsaw rows keep the part they have in the ``davidson3`` and
``jigsaw`` tasks (so no test tweet or comment of those tasks is trained on here); the other sources are split
80/10/10, seeded and stratified per source. Then exact and near-duplicate texts (equal after ``dedup_key``) are
removed across all sources: of each group the copy in the most held-out part is kept (test, then validation,
then train), so no test text appears in a training split.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from ..tasks import HATE_LABELS, MULTI_LABEL, SINGLE_LABEL
from ..text import MENTION_RE, URL_RE
from .datasets import Dataset
from .hate_sources import SOURCES, read_source
from .splits import FRACTIONS, PARTS, SEED, split_assignment

PART_IDS = {name: i for i, name in enumerate(PARTS)}
_RETWEET = re.compile(r"^(?:rt\s+)+")
_PUNCT = re.compile(r"[!-/:-@\[-`{-~\s\u2018\u2019\u201c\u201d\u2026]+")  # ASCII punctuation, quotes, spaces
_REPEAT = re.compile(r"(.)\1{2,}")


def dedup_key(text: str) -> str:
    """The form two texts must share to count as (near-)duplicates: HTML entities undone, lower-cased, URLs,
    @mentions and a leading "RT" removed, ASCII punctuation dropped, runs of 3+ equal characters cut to 2, spaces
    squeezed. Emoji and letters outside ASCII are kept (HatemojiBuild pairs differ only in an emoji)."""
    text = html.unescape(html.unescape(text)).lower()
    text = MENTION_RE.sub(" ", URL_RE.sub(" ", text))
    text = _PUNCT.sub(" ", text).strip()
    text = _RETWEET.sub("", text)
    return _REPEAT.sub(r"\1\1", text)


def _own_task_parts(name: str, frame: pd.DataFrame) -> np.ndarray:
    """Davidson and Jigsaw rows take the part they have in their own tasks' splits."""
    from .datasets import load_dataset

    task = "davidson3" if name == "davidson" else "jigsaw"
    own = load_dataset(task)
    if len(own) != len(frame):
        raise AssertionError(f"{name}: {len(frame)} rows here, {len(own)} in task {task}")
    return split_assignment(own.y, MULTI_LABEL if task == "jigsaw" else SINGLE_LABEL, SEED)


def assign_parts(name: str, frame: pd.DataFrame, seed: int = SEED) -> np.ndarray:
    """Each row's part (0 train, 1 validation, 2 test) for one source's rows."""
    if name in ("davidson", "jigsaw"):
        return _own_task_parts(name, frame)
    y = frame["hateful"].to_numpy()
    given = frame["part"].to_numpy()
    if not (given != "").any():
        return split_assignment(y, SINGLE_LABEL, seed)
    parts = np.array([PART_IDS.get(p, 0) for p in given])
    if name == "gab":  # no validation file: carve 1/8 of the authors' train (10% of the whole) from it
        train = np.flatnonzero(parts == 0)
        share = FRACTIONS[1] / FRACTIONS[0]
        carved = split_assignment(y[train], SINGLE_LABEL, seed, (1 - share, share))
        parts[train[carved == 1]] = PART_IDS["validation"]
    return parts


def build_hate_frame(sources: list[str] | None = None, root=None, seed: int = SEED) -> pd.DataFrame:
    """All rows of the chosen sources (default: all) with ``source``, ``text``, ``hateful``, ``part`` (0/1/2),
    ``pair`` and ``key`` columns, duplicates across and within sources removed."""
    frames = []
    for name in sources or list(SOURCES):
        frame = read_source(name, root)
        frame["part"] = assign_parts(name, frame, seed)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame["key"] = [dedup_key(t) for t in frame["text"]]
    frame = frame[frame["key"] != ""]
    # keep the most held-out copy of each text: test (2) before validation (1) before train (0), then file order
    order = frame.assign(_rank=-frame["part"], _row=np.arange(len(frame))).sort_values(["_rank", "_row"], kind="stable")
    kept = order.drop_duplicates("key", keep="first").sort_values("_row").drop(columns=["_rank", "_row"])
    return kept.reset_index(drop=True)


def load_hate(sources: list[str] | None = None, root=None) -> Dataset:
    """The ``hate`` task as a Dataset whose rows carry their source and fixed part."""
    frame = build_hate_frame(sources, root)
    return Dataset(
        "hate",
        frame["text"].tolist(),
        frame["hateful"].to_numpy(dtype=int),
        list(HATE_LABELS),
        SINGLE_LABEL,
        "bundled: " + ", ".join(dict.fromkeys(frame["source"])),
        sources=frame["source"].tolist(),
        parts=frame["part"].to_numpy(dtype=int),
    )
