"""The registry is the models folder: every model card under it, found by name or by path."""

from __future__ import annotations

import os
from pathlib import Path

from .card import CHECKPOINT_PREFIX, FILE_CARD_SUFFIX, FOLDER_CARD_NAME, ModelCard, sha256_file
from .errors import IntegrityError, ModelNotFoundError
from .fileio import read_json, write_json
from .paths import models_dir as default_models_dir


def _card_files(root: Path) -> list[Path]:
    """Every card file under ``root``, outside hidden folders (a training's staging folder, a folder being
    replaced) and checkpoints. ``os.walk`` passes over a folder that goes away while it is walked, as a folder
    replaced by ``publish_folder`` does (``Path.rglob`` raised)."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith((".", CHECKPOINT_PREFIX))]
        found += [
            Path(folder, name)
            for name in files
            if not name.startswith(".") and (name.endswith(FILE_CARD_SUFFIX) or name == FOLDER_CARD_NAME)
        ]
    return sorted(found)


def list_cards(models_dir: str | Path | None = None) -> list[ModelCard]:
    """Every model card under the models folder, sorted by name. A card that is gone by the time it is read (its
    folder was replaced or removed meanwhile, as publishing a model does) is left out."""
    root = Path(models_dir) if models_dir else default_models_dir()
    if not root.is_dir():
        return []
    cards = [card for card in map(_read_card_if_there, _card_files(root)) if card is not None]
    return sorted(cards, key=lambda c: c.name)


def _read_card_if_there(path: Path, tries: int = 3) -> ModelCard | None:
    """The card at ``path``; None when it went away after it was listed. Its folder may have been replaced in the
    meantime (``publish_folder``): then the card now there is read."""
    for attempt in range(tries):
        try:
            return ModelCard.read(path)
        except (ModelNotFoundError, FileNotFoundError):
            if not path.exists():
                return None
            if attempt == tries - 1:
                raise
    return None


def model_names(models_dir: str | Path | None = None) -> list[str]:
    """The names of every registered model."""
    return [c.name for c in list_cards(models_dir)]


def resolve(name_or_path: str | Path, models_dir: str | Path | None = None) -> ModelCard:
    """The card of a model given by registry name, by its file or folder, or by its card file."""
    candidate = Path(name_or_path)
    if candidate.exists():
        return _card_for_path(candidate.resolve())
    cards = [c for c in list_cards(models_dir) if c.name == str(name_or_path)]
    if not cards:
        available = ", ".join(model_names(models_dir)) or "none (train one with `nlpc train baseline`)"
        raise ModelNotFoundError(
            f"no model named '{name_or_path}' in {Path(models_dir or default_models_dir())}; available: {available}"
        )
    return cards[0]


def _card_for_path(path: Path) -> ModelCard:
    if path.is_file() and (path.name.endswith(FILE_CARD_SUFFIX) or path.name == FOLDER_CARD_NAME):
        return ModelCard.read(path)
    card_path = ModelCard.card_path_for(path)
    if card_path.is_file():
        return ModelCard.read(card_path)
    if path.is_file():  # a card named after its model (``linear_svm.card.json`` beside ``linear_svm_tfidf.joblib``)
        for sibling in sorted(path.parent.glob(f"*{FILE_CARD_SUFFIX}")):
            card = ModelCard.read(sibling)
            if card.artifact_path == path:
                return card
    from .backends import card_for_uncarded

    uncarded = card_for_uncarded(path)
    if uncarded is None:
        raise ModelNotFoundError(
            f"{path}: no model card beside it ({card_path.name}); refusing to load an unverified model file"
        )
    return uncarded


def bump_model(name_or_path: str | Path, part: str, models_dir: str | Path | None = None) -> ModelCard:
    """Move a model to its next version (``major``, ``minor`` or ``patch``) in its card and in MODEL_VERSION.json,
    recording the previous version in the card; the set's version moves by the same part. The card is re-saved
    (and the version inside training_info.json re-stamped and re-pinned), so only an intact model is bumped."""
    root = Path(models_dir) if models_dir else default_models_dir()
    card = resolve(name_or_path, root)
    problems = card.verify()
    if problems:
        raise IntegrityError(
            f"model '{card.name}' failed its integrity check, refusing to bump it:\n  " + "\n  ".join(problems)
        )
    return bump_card(card, part, root)


def bump_card(card: ModelCard, part: str, models_dir: str | Path | None = None) -> ModelCard:
    """Give a changed model (its files re-pinned in ``card``) its next version, as ``bump_model`` does, and save
    its card: the card is written last, under the version file's lock."""
    from .versioning import bump, update_versions

    root = Path(models_dir) if models_dir else default_models_dir()

    def change(data: dict) -> None:
        current = data["models"].get(card.name) or card.version
        new = bump(current, part)
        data["models"][card.name] = new
        data["version"] = bump(data.get("version", "1.0.0"), part)
        card.previous_version, card.version = current, new
        _restamp_training_info(card)
        card.save()

    update_versions(root, change)
    return card


def _restamp_training_info(card: ModelCard) -> None:
    from .artifacts import training_info_path

    path = training_info_path(card)
    rel = path.relative_to(card.root).as_posix()
    if rel not in card.files or not path.is_file():
        return
    info = read_json(path)
    if isinstance(info, dict) and "version" in info:
        info["version"] = card.version
        write_json(path, info)
        card.files[rel] = sha256_file(path)
