"""Publishing a trained model: hashes in its card, the seed's training_info.json, MODEL_VERSION.json."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from .card import ModelCard
from .fileio import write_json
from .versioning import record_model

# The seed's training record beside (or inside) a model.
TRAINING_INFO_FILE = "training_info.json"


def training_info_path(card: ModelCard) -> Path:
    """``training_info.json`` inside a folder model, ``<stem>.training_info.json`` beside a file model."""
    artifact = card.artifact_path
    if artifact.is_dir():
        return artifact / TRAINING_INFO_FILE
    return artifact.with_name(artifact.name.split(".")[0] + "." + TRAINING_INFO_FILE)


def finalise_card(
    card: ModelCard, models_dir: Path, training_info: dict | None = None, version_part: str = "minor"
) -> ModelCard:
    """Give the model its version (recording the previous one), write training_info.json, hash every file and
    save the card last, so a model without a complete card is never listed."""
    card.version, card.previous_version = record_model(models_dir, card.name, version_part)
    extra_files = []
    if training_info is not None:
        info_path = training_info_path(card)
        write_json(info_path, {**training_info, "version": card.version})
        extra_files.append(info_path.relative_to(card.root).as_posix())
    files = card.default_files()
    card.hash_files(sorted(set(files) | set(extra_files)))
    card.save()
    return card


def publish_folder(staging: Path, final: Path) -> None:
    """Replace ``final`` with the finished ``staging`` folder: the old one is moved aside, then removed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
