"""One reader per source of the ``hate`` task: each turns its bundled files into rows of (text, hateful 0/1,
part, pair) with the label mapping written down in docs/data.md.

``part`` is the authors' split where a source has one ("train", "validation", "test"), else "" (the task splits
those rows itself, seeded and stratified). ``pair`` links the two sides of a HatemojiBuild contrast pair (the
same non-empty value), so that both land in the same part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..paths import data_dir
from .readers import read_table

COLUMNS = ["text", "hateful", "part", "pair"]


@dataclass(frozen=True)
class Source:
    """A bundled source of the ``hate`` task: its files (relative to the data folder), reader and licence."""

    name: str
    files: tuple[str, ...]
    read: Callable[[list[Path]], pd.DataFrame]
    licence: str
    mapping: str


def _frame(text, hateful, part="", pair="") -> pd.DataFrame:
    frame = pd.DataFrame({"text": text, "hateful": np.asarray(hateful, dtype=int)})
    frame["part"] = part
    frame["pair"] = pair
    return frame[COLUMNS]


def _require(frame: pd.DataFrame, path: Path, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing column '{missing[0]}' (columns are: {', '.join(map(str, frame.columns))})",
            path=str(path),
            column=missing[0],
        )


def _mapped(frame: pd.DataFrame, path: Path, column: str, mapping: dict[str, int | None]) -> pd.Series:
    """Map a label column through ``mapping`` (None drops the row); an unknown value names the row."""
    values = frame[column].astype(str).str.strip()
    unknown = ~values.isin(list(mapping))
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(
            f"unknown label '{values.iloc[row]}' (expected one of: {', '.join(mapping)})",
            path=str(path),
            row=row + 1,
            column=column,
        )
    return values.map(mapping)


def _binary(frame: pd.DataFrame, path: Path, column: str) -> np.ndarray:
    return _mapped(frame, path, column, {"0": 0, "1": 1, "0.0": 0, "1.0": 1}).to_numpy(dtype=int)


def _read_mapped(path: Path, text: str, label: str, mapping: dict[str, int | None]) -> pd.DataFrame:
    """One file whose ``label`` column maps to hateful 0/1 through ``mapping`` (None drops the row)."""
    frame = read_table(path)
    _require(frame, path, [text, label])
    hateful = _mapped(frame, path, label, mapping)
    keep = hateful.notna().to_numpy()
    return _frame(frame[text][keep], hateful[keep].astype(int))


def read_davidson(paths: list[Path]) -> pd.DataFrame:
    """Davidson: class 0 (hate speech) -> hateful; 1 (offensive) and 2 (neither) -> not hateful."""
    return _read_mapped(paths[0], "tweet", "class", {"0": 1, "1": 0, "2": 0})


def read_jigsaw(paths: list[Path]) -> pd.DataFrame:
    """Jigsaw: identity_hate -> hateful; every other row (toxic, obscene, insults included) -> not hateful."""
    return _read_mapped(paths[0], "comment_text", "identity_hate", {"0": 0, "1": 1})


def read_implicit_hate(paths: list[Path]) -> pd.DataFrame:
    """Implicit Hate (stage 1): explicit_hate and implicit_hate -> hateful; not_hate -> not hateful."""
    return _read_mapped(paths[0], "post", "class", {"explicit_hate": 1, "implicit_hate": 1, "not_hate": 0})


def read_gab(paths: list[Path]) -> pd.DataFrame:
    """Gab Hate Corpus: hd (assault on human dignity) or cv (call for violence) -> hateful; vo (vulgarity) alone
    and unlabelled posts -> not hateful. The authors' train/test files are kept."""
    parts = []
    for path, part in zip(paths, ("train", "test")):
        frame = read_table(path)
        _require(frame, path, ["text", "hd", "cv"])
        hateful = _binary(frame, path, "hd") | _binary(frame, path, "cv")
        parts.append(_frame(frame["text"], hateful, part))
    return pd.concat(parts, ignore_index=True)


def read_stormfront(paths: list[Path]) -> pd.DataFrame:
    """Stormfront: hate -> hateful, noHate -> not hateful; ``relation`` (hateful only together with its
    neighbouring sentences) and ``idk/skip`` are dropped."""
    return _read_mapped(paths[0], "text", "label", {"hate": 1, "noHate": 0, "relation": None, "idk/skip": None})


def read_hatemoji(paths: list[Path]) -> pd.DataFrame:
    """HatemojiBuild: ``label_gold`` as given. Each contrast pair (an original and its perturbation, linked by
    ``matched_id``) takes the authors' split of its original, so the two sides never straddle two parts."""
    frames = []
    for path, part in zip(paths, ("train", "validation", "test")):
        frame = read_table(path)
        _require(frame, path, ["entry_id", "text", "set", "label_gold", "matched_id"])
        frame = frame.assign(part=part, hateful=_binary(frame, path, "label_gold"))
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    ids, matched = frame["entry_id"].astype(str), frame["matched_id"].astype(str)
    pair = [f"hatemoji:{min(int(a), int(b))}" for a, b in zip(ids, matched)]
    original_part = {p: part for p, part, s in zip(pair, frame["part"], frame["set"]) if s == "original"}
    split = [original_part.get(p, own) for p, own in zip(pair, frame["part"])]
    return _frame(frame["text"], frame["hateful"], split, pair)


def read_toxigen(paths: list[Path]) -> pd.DataFrame:
    """ToxiGen seed sentences: hate -> hateful, neutral -> not hateful."""
    return _read_mapped(paths[0], "text", "label", {"hate": 1, "neutral": 0})


SOURCES: dict[str, Source] = {
    s.name: s
    for s in [
        Source(
            "davidson",
            ("davidson/labeled_data.csv.gz",),
            read_davidson,
            "MIT",
            "class 0 hate -> hateful; offensive, neither -> not hateful",
        ),
        Source(
            "jigsaw",
            ("jigsaw/train.csv.gz",),
            read_jigsaw,
            "CC0 labels, CC BY-SA 3.0 text",
            "identity_hate -> hateful; all other rows -> not hateful",
        ),
        Source(
            "implicit_hate",
            ("implicit_hate/implicit_hate_v1_stg1_posts.tsv.gz",),
            read_implicit_hate,
            "CC BY 4.0",
            "explicit_hate, implicit_hate -> hateful; not_hate -> not hateful",
        ),
        Source(
            "gab",
            ("gab_hate_corpus/ghc_train.tsv.gz", "gab_hate_corpus/ghc_test.tsv.gz"),
            read_gab,
            "CC BY 4.0",
            "hd or cv -> hateful; otherwise not hateful (authors' train/test)",
        ),
        Source(
            "stormfront",
            ("stormfront/stormfront.csv.gz",),
            read_stormfront,
            "CC BY-SA 3.0 ES (share-alike)",
            "hate -> hateful; noHate -> not hateful; relation, idk/skip dropped",
        ),
        Source(
            "hatemoji",
            ("hatemoji_build/train.csv.gz", "hatemoji_build/validation.csv.gz", "hatemoji_build/test.csv.gz"),
            read_hatemoji,
            "CC BY 4.0",
            "label_gold (authors' train/validation/test; contrast pairs follow their original)",
        ),
        Source(
            "toxigen",
            ("toxigen_seeds/toxigen_seed_sentences.csv.gz",),
            read_toxigen,
            "MIT",
            "hate -> hateful; neutral -> not hateful",
        ),
    ]
}


def read_source(name: str, root: str | Path | None = None) -> pd.DataFrame:
    """The rows of one source, read from the bundled data folder (or ``root``), with a ``source`` column."""
    source = SOURCES[name]
    base = Path(root) if root else data_dir()
    frame = source.read([base / f for f in source.files])
    frame["text"] = frame["text"].astype(str)
    empty = frame["text"].str.strip() == ""
    frame = frame[~empty].reset_index(drop=True)
    frame.insert(0, "source", name)
    return frame
