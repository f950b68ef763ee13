"""Knowledge distillation (Hinton et al. 2015, "Distilling the Knowledge in a Neural Network"): a model learns
from a trained teacher's scores as well as from the labels.

A larger model (all-mpnet-base-v2, say) can rank unseen sources better than MiniLM, but costs about six times as
much per text to serve (docs/data.md). Distilling it gives MiniLM the teacher's graded judgement of each training
text instead of a hard 0 or 1: ``teacher_model`` names any trained model with the student's labels (registry name
or folder), the teacher scores every training text once, and each text's target becomes

    (1 - distillation_weight) x its label + distillation_weight x the teacher's probabilities

(single-label: soft cross-entropy; multi-label: binary cross-entropy on the blended targets). Validation keeps
the hard labels, so checkpoints are still chosen on what the data says.

Scoring 40,000 texts with all-mpnet-base-v2 takes about 38 minutes on 2 cores, so the scores are cached under the
models folder (``.cache/teacher_scores/``), keyed by the teacher's file hashes, the backend that ran it and the
texts: a resumed run, or a second student trained on the same texts, does not score them again. The scores so far
are saved after every chunk, so an interrupted scoring continues where it stopped.

A transformer teacher runs in PyTorch unless ``teacher_backend`` says otherwise, even when it has an ONNX export:
its int8 export is about three times faster but its scores are not the same (all-mpnet-base-v2: mean absolute
difference 0.05 in the hateful probability, docs/transformers.md), and the student learns whatever it is given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..backends.onnx_files import ONNX_BACKENDS
from ..card import ModelCard
from ..errors import ConfigError
from ..fileio import atomic_path
from ..progress import RowProgress, console
from ..registry import resolve
from ..tasks import MULTI_LABEL

CACHE_FOLDER = Path(".cache") / "teacher_scores"
CHUNK = 1024  # texts scored between progress lines


def teacher_card(teacher: str, labels: Sequence[str], problem_type: str, models_dir: Path) -> ModelCard:
    """The teacher's card, refused (naming the teacher) unless it has the student's labels and problem type."""
    card = resolve(teacher, models_dir)
    if card.problem_type != problem_type or sorted(card.labels) != sorted(labels):
        raise ConfigError(
            f"setting 'teacher_model': {teacher} is a {card.problem_type} model with labels {list(card.labels)}; "
            f"the student needs a {problem_type} teacher with labels {list(labels)}"
        )
    return card


def teacher_backend(card: ModelCard, backend: str | None) -> str | None:
    """The backend the teacher runs with: ``backend`` when that family has it (and, for ONNX, the card pins its
    export), refused with a ConfigError naming the choices otherwise; by default PyTorch for a transformer (its
    exact scores, not an int8 export's) and the family's default for the others."""
    from ..backends import backend_module

    choices = backend_module(card.family).BACKENDS
    if backend is None:
        return "torch" if "torch" in choices else None
    if backend not in choices:
        raise ConfigError(
            f"setting 'teacher_backend': {card.name} is a {card.family} model; its backends are {', '.join(choices)}, "
            f"not '{backend}'"
        )
    if backend in ONNX_BACKENDS:
        from ..backends.onnx_backend import resolve_backend

        resolve_backend(card, backend)  # the export is there and pinned, or the error names the export command
    return backend


def files_digest(card: ModelCard) -> str:
    """One sha256 over the sha256 of each of the teacher's files, as its card pins them."""
    return hashlib.sha256(json.dumps(card.files, sort_keys=True).encode()).hexdigest()


def cache_key(card: ModelCard, backend: str | None, texts: Sequence[str]) -> str:
    """What the teacher's scores depend on: its files (weights, calibrator, ...), the backend that runs it and
    the texts, in order."""
    h = hashlib.sha256(files_digest(card).encode())
    h.update(f"\x00backend={backend}\x00".encode())
    for text in texts:
        h.update(hashlib.sha256(text.encode("utf-8")).digest())
    return h.hexdigest()


def teacher_scores(
    card: ModelCard, texts: Sequence[str], labels: Sequence[str], models_dir: Path, *, backend: str | None
) -> np.ndarray:
    """The teacher's probabilities for ``texts`` (one row per text, columns in the student's ``labels`` order),
    run with ``backend`` as ``teacher_backend`` chose it (None would let an ONNX export run it), from the cache
    when it has scored these texts before. Else each distinct text is scored once, in chunks with progress; the
    scores so far are saved after every chunk (``<key>.partial.npy``, written atomically) and an interrupted
    scoring picks up from them."""
    key = cache_key(card, backend, texts)
    path = models_dir / CACHE_FOLDER / f"{key}.npy"
    if path.is_file():
        scores = np.load(path)
        if scores.shape == (len(texts), len(labels)):
            console.print(f"teacher scores of {len(texts):,} texts read from {path}")
            return scores
    from ..backends import load_card

    card.verify_or_raise()  # the files are the ones the card (and so the cache key) pins
    teacher = load_card(card, backend=backend)
    order = [teacher.labels.index(label) for label in labels]
    unique = list(dict.fromkeys(texts))  # a mixture repeats the texts of small sources: score each once
    partial = path.with_name(f"{key}.partial.npy")
    done_scores = _partial_scores(partial, len(unique), len(labels))
    parts = [done_scores] if len(done_scores) else []
    if parts:
        console.print(f"{len(done_scores):,} of {len(unique):,} distinct texts already scored ({partial}); going on")
    with RowProgress(f"Scoring with the teacher {card.name}") as progress:
        for start in range(len(done_scores), len(unique), CHUNK):
            parts.append(teacher.predict_proba(unique[start : start + CHUNK])[:, order].astype(np.float32))
            done = min(start + CHUNK, len(unique))
            with atomic_path(partial) as tmp, open(tmp, "wb") as handle:
                np.save(handle, np.concatenate(parts))
            line = f"{done:,}/{len(unique):,} distinct texts scored by the teacher {card.name}"
            progress.advance(len(parts[-1]), done / len(unique), line, rows_left=len(unique) - done)
    by_text = dict(zip(unique, np.concatenate(parts) if parts else [], strict=True))
    scores = np.asarray([by_text[text] for text in texts], dtype=np.float32).reshape(len(texts), len(labels))
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, scores)
    partial.unlink(missing_ok=True)
    return scores


def _partial_scores(partial: Path, n_unique: int, n_labels: int) -> np.ndarray:
    """The scores an interrupted scoring of the same teacher, backend and texts saved (empty when there are
    none, or when the file is not a prefix of the right shape)."""
    empty = np.zeros((0, n_labels), dtype=np.float32)
    if not partial.is_file():
        return empty
    try:
        saved = np.load(partial)
    except (OSError, ValueError):
        return empty
    if saved.ndim != 2 or saved.shape[1] != n_labels or len(saved) > n_unique:
        return empty
    return saved.astype(np.float32)


def blended_targets(y: np.ndarray, scores: np.ndarray, weight: float, problem_type: str) -> np.ndarray:
    """Each text's training target: ``1 - weight`` of its label (one-hot for single-label, the 0/1 row for
    multi-label) plus ``weight`` of the teacher's probabilities."""
    hard = y.astype(np.float32) if problem_type == MULTI_LABEL else np.eye(scores.shape[1], dtype=np.float32)[y]
    return ((1 - weight) * hard + weight * scores).astype(np.float32)


def teacher_record(card: ModelCard, backend: str | None, weight: float, n_texts: int, seconds: float) -> dict:
    """What the student's card says about its teacher."""
    return {
        "name": card.name,
        "version": card.version,
        "family": card.family,
        "base_model": card.base_model,
        "backend": backend,
        "files_sha256": files_digest(card),
        "distillation_weight": weight,
        "texts_scored": n_texts,
        "scoring_seconds": round(seconds, 2),
    }
