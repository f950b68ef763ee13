"""Model cards: the JSON file that describes a saved model and pins the sha256 of each of its files.

A model is either one file (``<dir>/<stem>.joblib`` with its card at ``<dir>/<stem>.card.json``) or a folder
(its card at ``<folder>/model_card.json``). File paths in a card are relative to the card's folder.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, IntegrityError, ModelNotFoundError
from .fileio import read_json_object, write_json

CARD_VERSION = 1
FOLDER_CARD_NAME = "model_card.json"
FILE_CARD_SUFFIX = ".card.json"
CHECKPOINT_PREFIX = "checkpoint-"


# A model's name becomes its file and folder names, here and in a published set: no path separators, no dots (a
# model file's card and training info are named after the part of its file name before the first dot), no spaces.
MODEL_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


def check_model_name(name: str, origin: str = "") -> str:
    """``name`` if it can name a model, else a ConfigError that says what a name may hold; ``origin`` says where a
    name the user did not give came from (e.g. ``the --output folder's name; choose one with --name``)."""
    if not MODEL_NAME_RE.fullmatch(name):
        raise ConfigError(
            f"model name '{name}'{f' ({origin})' if origin else ''} cannot be used: a name is 1-100 letters, digits, "
            "'_' and '-', starting with a letter or digit (it names the model's files and folder)"
        )
    return name


def name_part(file_name: str) -> str:
    """The part of a model name taken from a data file's name (``my posts.2024.csv`` -> ``my_posts``): its name
    before the first dot, with every run of characters a model name cannot hold replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(file_name).name.split(".")[0]).strip("_-") or "data"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def now_iso() -> str:
    """The current UTC time in ISO 8601, to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _unreadable(path: Path, problem: str) -> IntegrityError:
    """A card file that cannot be a model's card (cut short by a crash, edited by hand): every command that lists
    the models reads it, so the message says which file and how to go on."""
    return IntegrityError(
        f"{path}: not a readable model card: {problem}; restore it (nlpc models pull, or from a backup) or remove "
        "the model's files"
    )


@dataclass
class ModelCard:
    """Everything known about one saved model; ``path`` is where the card itself lives (not serialised)."""

    name: str
    family: str
    task: str
    labels: list[str]
    problem_type: str
    artifact: str
    thresholds: dict[str, float] | None = None
    description: str = ""
    base_model: str | None = None
    training_config: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str | None = None
    data_source: str | None = None
    splits: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    # Set by ``nlpc calibrate``: the calibrator file (pinned in ``files``) with how it was fitted and what it
    # changed (``calibrators``), and the operating point the thresholds were picked for (``operating_points``).
    calibration: dict[str, Any] | None = None
    operating_point: dict[str, Any] | None = None
    # The sha256 of the lexicon the model reads disguised words against before scoring (``obfuscation``);
    # None: texts are scored as written. Set by a training setting or ``nlpc models reading``.
    read_obfuscation: str | None = None
    version: str = "1.0.0"
    previous_version: str | None = None
    created_at: str = field(default_factory=now_iso)
    files: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    card_version: int = CARD_VERSION
    path: Path | None = field(default=None, compare=False, repr=False)

    # --- locations -------------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """The folder the card's file paths are relative to."""
        if self.path is None:
            raise ValueError("card has no path yet")
        return self.path.parent

    @property
    def artifact_path(self) -> Path:
        """The model's main file or folder."""
        return (self.root / self.artifact).resolve()

    @staticmethod
    def card_path_for(artifact: str | Path) -> Path:
        """Where the card of a model file or folder lives."""
        artifact = Path(artifact)
        if artifact.is_dir():
            return artifact / FOLDER_CARD_NAME
        return artifact.with_name(artifact.name.split(".")[0] + FILE_CARD_SUFFIX)

    # --- serialisation -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The card as plain JSON-able data."""
        data = asdict(self)
        data.pop("path")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> ModelCard:
        """Build a card from JSON data, keeping unknown keys in ``extra``."""
        known = set(cls.__dataclass_fields__) - {"path"}
        extra = {k: v for k, v in data.items() if k not in known}
        card = cls(**{k: v for k, v in data.items() if k in known}, path=path)
        card.extra.update(extra)
        return card

    @classmethod
    def read(cls, path: str | Path) -> ModelCard:
        """Read a card file."""
        path = Path(path).resolve()
        if not path.is_file():
            raise ModelNotFoundError(f"no model card at {path}")
        data = read_json_object(path, lambda problem: _unreadable(path, problem))
        missing = [name for name in REQUIRED_CARD_FIELDS if name not in data]
        if missing:
            raise _unreadable(path, f"missing {', '.join(missing)}")
        return cls.from_dict(data, path)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the card atomically (to ``path`` or where it was read from)."""
        if path is not None:
            self.path = Path(path).resolve()
        if self.path is None:
            raise ValueError("card has no path")
        write_json(self.path, self.to_dict())
        return self.path

    # --- integrity ---------------------------------------------------------------------------------------
    def hash_files(self, relpaths: Iterable[str] | None = None) -> None:
        """Record the sha256 of the given files (default: the artifact, or every file of a folder model except
        checkpoints and the card itself)."""
        if relpaths is None:
            relpaths = self.default_files()
        self.files = {rel: sha256_file(self.root / rel) for rel in sorted(relpaths)}

    def default_files(self) -> list[str]:
        """The files a card pins: the artifact file, or every file in a folder model but checkpoints/cards."""
        target = self.artifact_path
        if target.is_file():
            return [self.artifact]
        out = []
        for p in sorted(target.rglob("*")):
            rel = p.relative_to(self.root)
            if not p.is_file() or p.name == FOLDER_CARD_NAME or p.name.startswith("."):
                continue
            if any(part.startswith(CHECKPOINT_PREFIX) for part in rel.parts):
                continue
            out.append(rel.as_posix())
        return out

    def verify(self) -> list[str]:
        """Problems found re-hashing every file: an empty list means the model is intact."""
        problems = []
        if not self.files:
            problems.append(f"{self.path}: the card lists no files")
        for rel, expected in self.files.items():
            file = self.root / rel
            if not file.is_file():
                problems.append(f"{file}: missing")
            elif sha256_file(file) != expected:
                problems.append(f"{file}: sha256 does not match the model card (file changed or tampered)")
        return problems

    def verify_or_raise(self) -> None:
        """Raise IntegrityError naming each bad file, before anything is unpickled."""
        problems = self.verify()
        if problems:
            raise IntegrityError(
                f"model '{self.name}' failed its integrity check, refusing to load:\n  " + "\n  ".join(problems)
            )


# The fields every card file holds (no default): a card without one is not readable (``ModelCard.read``).
REQUIRED_CARD_FIELDS = tuple(
    name
    for name, spec in ModelCard.__dataclass_fields__.items()
    if name != "path" and spec.default is MISSING and spec.default_factory is MISSING
)
