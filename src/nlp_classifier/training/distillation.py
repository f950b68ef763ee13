"""Knowledge distillation (Hinton et al. 2015, "Distilling the Knowledge in a Neural Network"): a model learns
from a trained teacher's scores as well as from the labels.

A larger model (all-mpnet-base-v2, say) can rank unseen sources better than MiniLM, but costs about six times as
much per text to serve (docs/data.md). Distilling it gives MiniLM the teacher's graded judgement of each training
text instead of a hard 0 or 1: ``teacher_model`` names any trained model with the student's labels (registry name
or folder), the teacher scores every training text once, and each text's target becomes

    (1 - distillation_weight) x its label + distillation_weight x the teacher's probabilities

(single-label: soft cross-entropy; multi-label: binary cross-entropy on the blended targets). Validation keeps
the hard labels, so checkpoints are still chosen on what the data says.

Scoring 40,000 texts with all-mpnet-base-v2 takes about 38 minutes on 2 cores, so the scores are kept under the
models folder (``.cache/teacher_scores/``), one store per teacher (its file hashes), backend and label order,
holding each text's scores by the text's sha256: a resumed run, or a second student trained on the same texts or
on a mixture that shares some of them, scores only the texts the teacher has not seen. The store is saved after
every chunk, so an interrupted scoring continues where it stopped.

A store can be written out as a standalone score file (``nlpc export teacher-scores``, ``write_score_file``) and
given to a later run as ``teacher_scores`` instead of ``teacher_model``: the student then learns from the
teacher's scores without the teacher, on another machine or from a fresh checkout. The file must hold a score for
every training text of the run; it is refused, naming how many it lacks, otherwise.

A transformer teacher runs in PyTorch unless ``teacher_backend`` says otherwise, even when it has an ONNX export:
its int8 export is about three times faster but its scores are not the same (all-mpnet-base-v2: mean absolute
difference 0.05 in the hateful probability, docs/transformers.md), and the student learns whatever it is given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..backends.onnx_files import ONNX_BACKENDS
from ..card import ModelCard, sha256_file
from ..errors import ConfigError
from ..fileio import atomic_path
from ..paths import data_dir
from ..progress import RowProgress, console
from ..registry import resolve
from ..tasks import MULTI_LABEL

CACHE_FOLDER = Path(".cache") / "teacher_scores"
CHUNK = 1024  # texts scored between progress lines
DIGEST_BYTES = 32  # sha256
SCORE_FILE_FORMAT = 1  # the layout of a standalone score file (write_score_file)


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


def store_key(card: ModelCard, backend: str | None, labels: Sequence[str]) -> str:
    """What the teacher's scores of a text depend on besides the text: its files (weights, calibrator, ...),
    the backend that runs it and the order of the score columns."""
    h = hashlib.sha256(files_digest(card).encode())
    h.update(f"\x00backend={backend}\x00labels={json.dumps(list(labels))}".encode())
    return h.hexdigest()


def text_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _read_rows(path: Path, n_labels: int | None) -> tuple[dict[bytes, np.ndarray], dict]:
    """The scores saved at ``path`` by text digest, and the file's description (empty for a cache store);
    OSError, ValueError or KeyError when it is not such a file or its arrays do not fit ``n_labels`` columns
    (None: as many as the description names labels, which it then must)."""
    with np.load(path) as saved:
        digests, scores = saved["digests"], saved["scores"]
        meta = json.loads(str(saved["meta"])) if "meta" in saved.files else {}
    if n_labels is None:
        n_labels = len(meta["labels"])
    if digests.shape != (len(scores), DIGEST_BYTES) or scores.ndim != 2 or scores.shape[1] != n_labels:
        raise ValueError(
            f"scores of shape {scores.shape} and digests of shape {digests.shape}, "
            f"not N x {n_labels} scores and N x {DIGEST_BYTES} digests"
        )
    keys = [row.tobytes() for row in digests.astype(np.uint8)]
    return dict(zip(keys, scores.astype(np.float32), strict=True)), meta


class ScoreStore:
    """The scores one teacher, run with one backend, has given, by text (the sha256 of each text): one ``.npz``
    file under the cache folder, rewritten atomically when texts are added. A run on other texts that share some
    with an earlier one (another ``mixed_train_size`` or seed, an interrupted scoring) scores only the new ones."""

    def __init__(self, path: Path, n_labels: int, rows: dict[bytes, np.ndarray] | None = None):
        self.path = path
        self.n_labels = n_labels
        self.rows: dict[bytes, np.ndarray] = {}
        if rows is not None:
            self.rows = rows
        elif path.is_file():
            try:
                self.rows, _ = _read_rows(path, n_labels)
            except (OSError, ValueError, KeyError, TypeError):  # unreadable: scored again, then rewritten
                pass

    def __contains__(self, text: str) -> bool:
        return text_digest(text) in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The digests (raw bytes, not a numpy "S32" string array: that would drop a digest's trailing zero bytes,
        1 in 256) and the scores, row for row."""
        digests = np.frombuffer(b"".join(self.rows), dtype=np.uint8).reshape(len(self.rows), DIGEST_BYTES)
        stacked = np.stack(list(self.rows.values())) if self.rows else np.zeros((0, self.n_labels), np.float32)
        return digests, stacked

    def add(self, texts: Sequence[str], scores: np.ndarray) -> None:
        """Keep ``scores`` (one row per text) and save the store."""
        for text, row in zip(texts, np.asarray(scores, dtype=np.float32), strict=True):
            self.rows[text_digest(text)] = row
        with atomic_path(self.path) as tmp, open(tmp, "wb") as handle:
            digests, scores = self.arrays()
            np.savez(handle, digests=digests, scores=scores)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray([self.rows[text_digest(text)] for text in texts], dtype=np.float32).reshape(
            len(texts), self.n_labels
        )


def store_path(card: ModelCard, backend: str | None, labels: Sequence[str], models_dir: Path) -> Path:
    return models_dir / CACHE_FOLDER / f"{store_key(card, backend, labels)}.npz"


def teacher_scores(
    card: ModelCard, texts: Sequence[str], labels: Sequence[str], models_dir: Path, *, backend: str | None
) -> np.ndarray:
    """The teacher's probabilities for ``texts`` (one row per text, columns in the student's ``labels`` order),
    run with ``backend`` as ``teacher_backend`` chose it (None would let an ONNX export run it). Texts the
    teacher's store already holds are read from it; each other distinct text is scored once, in chunks with
    progress, and the store is saved after every chunk, so an interrupted scoring goes on from there."""
    store = ScoreStore(store_path(card, backend, labels, models_dir), len(labels))
    unique = [text for text in dict.fromkeys(texts) if text not in store]  # a mixture repeats small sources' texts
    if not unique:
        console.print(f"teacher scores of {len(texts):,} texts read from {store.path}")
        return store.scores(texts)
    from ..backends import load_card

    card.verify_or_raise()  # the files are the ones the card (and so the store's key) pins
    teacher = load_card(card, backend=backend)
    order = [teacher.labels.index(label) for label in labels]
    if len(store):
        console.print(f"{len(store):,} texts already scored by this teacher ({store.path}); {len(unique):,} to go")
    with RowProgress(f"Scoring with the teacher {card.name}") as progress:
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start : start + CHUNK]
            store.add(chunk, teacher.predict_proba(chunk)[:, order])
            done = start + len(chunk)
            line = f"{done:,}/{len(unique):,} distinct texts scored by the teacher {card.name}"
            progress.advance(len(chunk), done / len(unique), line, rows_left=len(unique) - done)
    return store.scores(texts)


def blended_targets(y: np.ndarray, scores: np.ndarray, weight: float, problem_type: str) -> np.ndarray:
    """Each text's training target: ``1 - weight`` of its label (one-hot for single-label, the 0/1 row for
    multi-label) plus ``weight`` of the teacher's probabilities."""
    hard = y.astype(np.float32) if problem_type == MULTI_LABEL else np.eye(scores.shape[1], dtype=np.float32)[y]
    return ((1 - weight) * hard + weight * scores).astype(np.float32)


def teacher_identity(card: ModelCard, backend: str | None) -> dict:
    """Which teacher, run how: what a student's card and a score file say about it."""
    return {
        "name": card.name,
        "version": card.version,
        "family": card.family,
        "base_model": card.base_model,
        "backend": backend,
        "files_sha256": files_digest(card),
    }


def teacher_record(identity: dict, weight: float, n_texts: int, seconds: float) -> dict:
    """What the student's card says about its teacher: ``identity`` (``teacher_identity``, or a score file's) and
    how it was used."""
    return {
        **identity,
        "distillation_weight": weight,
        "texts_scored": n_texts,
        "scoring_seconds": round(seconds, 2),
    }


def write_score_file(
    card: ModelCard, backend: str | None, labels: Sequence[str], models_dir: Path, output: Path
) -> dict:
    """Write what the teacher's store holds (the texts it has scored for students with ``labels``, run with
    ``backend``) to ``output`` as one compressed file a later run can take as ``teacher_scores``; returns the
    file's description. Refused, naming the store, when the teacher has scored nothing that way yet."""
    store = ScoreStore(store_path(card, backend, labels, models_dir), len(labels))
    if not len(store):
        raise ConfigError(
            f"{card.name} has scored no texts for labels {list(labels)} with backend {backend or 'default'} "
            f"(no store at {store.path}): train a student with --set teacher_model={card.name} first"
        )
    meta = {
        "format": SCORE_FILE_FORMAT,
        "labels": list(labels),
        "texts": len(store),
        "teacher": teacher_identity(card, backend),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    digests, scores = store.arrays()
    with atomic_path(output) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, digests=digests, scores=scores, meta=np.array(json.dumps(meta)))
    return meta


@dataclass
class ScoreFile:
    """A teacher's scores read from a file written by ``write_score_file``, columns in the student's order."""

    path: Path
    store: ScoreStore
    meta: dict

    def record(self, weight: float, n_texts: int) -> dict:
        """What the student's card says about its teacher: the teacher as the file names it, and the file."""
        identity = {
            **self.meta["teacher"],
            "scores_file": self.path.name,
            "scores_file_sha256": sha256_file(self.path),
        }
        return teacher_record(identity, weight, n_texts, 0.0)


def score_file_path(value: str) -> Path:
    """Where setting ``teacher_scores`` points: the path as given (from the current folder), else the same
    relative path in the bundled data folder, so a preset can name a file shipped in ``data/``."""
    path = Path(value).expanduser()
    if path.is_file() or path.is_absolute():
        return path
    bundled = data_dir() / path
    return bundled if bundled.is_file() else path


def read_score_file(value: str, texts: Sequence[str], labels: Sequence[str]) -> ScoreFile:
    """The score file setting ``teacher_scores`` names, checked to hold the student's labels and a score for
    every one of ``texts``; a ConfigError naming the file and what is wrong otherwise."""
    path = score_file_path(value)
    where = f"setting 'teacher_scores': {path}"
    if not path.is_file():
        raise ConfigError(f"{where} is not a file; write one with `nlpc export teacher-scores --model TEACHER`")
    try:
        rows, meta = _read_rows(path, None)
        file_labels = list(meta["labels"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{where} is not a score file written by `nlpc export teacher-scores` ({exc})") from exc
    if sorted(file_labels) != sorted(labels):
        raise ConfigError(f"{where} holds scores for the labels {file_labels}; the student has {list(labels)}")
    order = [file_labels.index(label) for label in labels]
    store = ScoreStore(path, len(labels), {digest: row[order] for digest, row in rows.items()})
    distinct = list(dict.fromkeys(texts))
    missing = [text for text in distinct if text not in store]
    if missing:
        raise ConfigError(
            f"{where} has no score for {len(missing):,} of the run's {len(distinct):,} distinct training texts "
            f"(the first: {missing[0][:80]!r}); it covers the texts of the runs its teacher scored, so train with "
            "the same task, preset and seed, or name the teacher itself with teacher_model"
        )
    return ScoreFile(path, store, meta)
