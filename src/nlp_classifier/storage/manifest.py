"""The manifest of a published model set: every file with its sha256 and size, and every model with its version,
card and files. It is written last, so a set is published (visible to ``pull``) only once all its files are there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..card import CHECKPOINT_PREFIX, now_iso
from ..versioning import SEMVER_RE
from .errors import StorageError

FORMAT = "nlpc-model-set"
FORMAT_VERSION = 1
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def check_relpath(relpath: str, where: str) -> str:
    """``relpath`` if it is a safe relative POSIX path (no absolute path, '..', backslash or hidden part)."""
    parts = relpath.split("/")
    if (
        not relpath
        or relpath.startswith("/")
        or "\\" in relpath
        or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
    ):
        raise StorageError(f"{where}: unsafe file path '{relpath}' (must be relative, without '..' or hidden parts)")
    return relpath


def is_checkpoint(relpath: str) -> bool:
    """True for files inside a ``checkpoint-*`` folder."""
    return any(part.startswith(CHECKPOINT_PREFIX) for part in relpath.split("/")[:-1])


@dataclass
class Manifest:
    """``files``: {relpath: {sha256, size, model}} (``model`` None for set-level files such as
    MODEL_VERSION.json); ``models``: {name: {version, family, task, card, files}}; paths relative to the set's
    root, which mirrors the local models folder."""

    set_version: str
    models: dict[str, dict[str, Any]]
    files: dict[str, dict[str, Any]]
    created_at: str = field(default_factory=now_iso)
    created_by: str = f"nlp-classifier {__version__}"

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON-able data."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "set_version": self.set_version,
            "models": self.models,
            "files": self.files,
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=2) + "\n").encode("utf-8")

    def same_content(self, other: Manifest | None) -> bool:
        """True when ``other`` publishes the same models and bytes (creation time aside)."""
        return (
            other is not None
            and other.set_version == self.set_version
            and other.models == self.models
            and other.files == self.files
        )

    @property
    def versions(self) -> dict[str, Any]:
        """The set in MODEL_VERSION.json's format."""
        return {"version": self.set_version, "models": {n: m["version"] for n, m in sorted(self.models.items())}}

    def model_files(self, name: str, with_checkpoints: bool = False) -> list[str]:
        """The files of one model (checkpoint files only when asked for)."""
        return [rel for rel in self.models[name]["files"] if with_checkpoints or not is_checkpoint(rel)]

    def select(self, names: list[str] | None) -> list[str]:
        """The named models (all when ``names`` is None), refusing names the set does not hold."""
        if not names:
            return sorted(self.models)
        unknown = [n for n in names if n not in self.models]
        if unknown:
            raise StorageError(
                f"the model set has no model {', '.join(repr(n) for n in unknown)}; "
                f"it holds: {', '.join(sorted(self.models)) or 'nothing'}"
            )
        return list(dict.fromkeys(names))

    @classmethod
    def from_bytes(cls, payload: bytes, where: str) -> Manifest:
        """Parse and validate a manifest; ``where`` (its URL) is named in every error."""
        try:
            data = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StorageError(f"{where}: not a valid JSON manifest ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StorageError(f"{where}: not an nlp-classifier model set manifest (format != '{FORMAT}')")
        if not isinstance(data.get("format_version"), int) or data["format_version"] > FORMAT_VERSION:
            raise StorageError(
                f"{where}: manifest format_version {data.get('format_version')!r} is newer than "
                f"this nlp-classifier understands ({FORMAT_VERSION}); upgrade it"
            )
        set_version, models, files = data.get("set_version"), data.get("models"), data.get("files")
        if not isinstance(set_version, str) or not SEMVER_RE.match(set_version):
            raise StorageError(f"{where}: set_version {set_version!r} is not a semantic version")
        if not isinstance(models, dict) or not isinstance(files, dict):
            raise StorageError(f"{where}: 'models' and 'files' must be objects")
        for rel, entry in files.items():
            check_relpath(rel, where)
            if (
                not isinstance(entry, dict)
                or not _SHA256_RE.match(str(entry.get("sha256")))
                or not isinstance(entry.get("size"), int)
                or entry["size"] < 0
            ):
                raise StorageError(f"{where}: file '{rel}' needs a hex sha256 and a size in bytes")
        for name, model in models.items():
            if not isinstance(model, dict) or not isinstance(model.get("files"), list):
                raise StorageError(f"{where}: model '{name}' needs a list of files")
            if not SEMVER_RE.match(str(model.get("version"))):
                raise StorageError(f"{where}: model '{name}' has version {model.get('version')!r}, not semver")
            missing = [rel for rel in model["files"] if rel not in files]
            if model.get("card") not in model["files"] or missing:
                raise StorageError(
                    f"{where}: model '{name}' lists files the manifest does not pin: "
                    f"{', '.join(missing) or model.get('card')}"
                )
        return cls(
            set_version=set_version,
            models=models,
            files=files,
            created_at=str(data.get("created_at", "")),
            created_by=str(data.get("created_by", "")),
        )
