"""``push``: publish local models to a Location. Files whose remote copy already has the same sha256 are skipped
(so an interrupted push resumes and a repeated one uploads nothing); the manifest is written last."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..card import CHECKPOINT_PREFIX, ModelCard, sha256_file
from ..errors import IntegrityError, NlpcError
from ..paths import models_dir as default_models_dir
from ..registry import list_cards
from ..training.preview import is_preview
from ..versioning import VERSION_FILE, read_versions
from .errors import StorageError
from .location import MANIFEST_NAME, Location, push_location
from .manifest import Manifest, check_relpath
from .transfer import byte_progress, remote_info, remote_sha256, sigterm_as_interrupt, upload


@dataclass
class PushResult:
    """What a push did: the set's URL and version, each model's version, the files uploaded and skipped."""

    url: str
    set_version: str
    models: dict[str, str]
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # training previews, pushed only when named
    bytes_uploaded: int = 0
    manifest_written: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def select_cards(models_dir: Path, names: list[str] | None) -> tuple[list[ModelCard], list[str]]:
    """The registry's cards, or the named ones, and the names of those left out; unknown or duplicated names are
    refused. Without names, training previews are left out: a preview is a checkpoint of a run still going,
    replaced every few minutes and removed when the run ends, and a machine that pulled one would serve it as the
    set's model."""
    cards = list_cards(models_dir)
    by_name: dict[str, ModelCard] = {}
    for card in cards:
        if card.name in by_name:
            raise StorageError(
                f"two models are named '{card.name}': {by_name[card.name].path} and {card.path}; "
                "rename or remove one before pushing"
            )
        by_name[card.name] = card
    if not names:
        finished = [card for card in cards if not is_preview(card)]
        previews = sorted(card.name for card in cards if is_preview(card))
        if not finished:
            raise StorageError(
                f"no models in {models_dir} to push"
                + (
                    f" (only training previews: {', '.join(previews)}; name one with --models)"
                    if previews
                    else " (train some with `nlpc train baseline`)"
                )
            )
        return finished, previews
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise StorageError(
            f"no model named {', '.join(repr(n) for n in unknown)} in {models_dir}; "
            f"available: {', '.join(sorted(by_name)) or 'none'}"
        )
    return [by_name[n] for n in dict.fromkeys(names)], []


def model_files(card: ModelCard, models_dir: Path, with_checkpoints: bool) -> dict[str, Path]:
    """{path relative to the models folder: local path} for a model: the files its card pins, the card itself,
    and (when asked) every file in its ``checkpoint-*`` folders."""
    assert card.path is not None  # a registry card, read from its file
    paths = [card.root / rel for rel in card.files] + [card.path]
    if with_checkpoints and card.artifact_path.is_dir():
        paths += [
            p
            for d in card.artifact_path.glob(f"{CHECKPOINT_PREFIX}*")
            if d.is_dir()
            for p in d.rglob("*")
            if p.is_file()
        ]
    out = {}
    for path in paths:
        try:
            rel = path.resolve().relative_to(models_dir).as_posix()
        except ValueError:
            raise StorageError(f"{path} (model '{card.name}') is outside the models folder {models_dir}") from None
        out[check_relpath(rel, f"model '{card.name}'")] = path
    return out


def build_manifest(
    cards: list[ModelCard], models_dir: Path, with_checkpoints: bool
) -> tuple[Manifest, dict[str, Path | bytes]]:
    """The manifest of ``cards`` and where each of its files' bytes come from. Every model is verified against
    its card first: a model whose files changed is never published."""
    sources: dict[str, Path | bytes] = {}
    files: dict[str, dict] = {}
    models: dict[str, dict] = {}
    for card in cards:
        problems = card.verify()
        if problems:
            raise IntegrityError(
                f"model '{card.name}' does not match its card, refusing to push it:\n  " + "\n  ".join(problems)
            )
        pinned = {(card.root / rel).resolve(): sha for rel, sha in card.files.items()}
        local = model_files(card, models_dir, with_checkpoints)
        for rel, path in local.items():
            sha = pinned.get(path.resolve()) or sha256_file(path)
            files[rel] = {"sha256": sha, "size": path.stat().st_size, "model": card.name}
            sources[rel] = path
        assert card.path is not None  # a registry card, read from its file
        card_rel = card.path.resolve().relative_to(models_dir).as_posix()
        models[card.name] = {
            "version": card.version,
            "family": card.family,
            "task": card.task,
            "card": card_rel,
            "files": sorted(local),
        }
    if MANIFEST_NAME in files or VERSION_FILE in files:
        raise StorageError(
            f"a model file is named {MANIFEST_NAME} or {VERSION_FILE} at the top of {models_dir}; "
            "those names are reserved for the set"
        )
    manifest = Manifest(set_version=read_versions(models_dir).get("version", "1.0.0"), models=models, files=files)
    versions = (json.dumps(manifest.versions, indent=2) + "\n").encode("utf-8")
    files[VERSION_FILE] = {"sha256": hashlib.sha256(versions).hexdigest(), "size": len(versions), "model": None}
    sources[VERSION_FILE] = versions
    manifest.files = dict(sorted(files.items()))
    return manifest, sources


def read_manifest(location: Location) -> Manifest | None:
    """The set published at ``location``, or None when nothing is published there."""
    try:
        payload = location.fs.cat_file(location.path(MANIFEST_NAME))
    except FileNotFoundError:
        return None
    return Manifest.from_bytes(payload, location.url_of(MANIFEST_NAME))


def _check_outside_models_folder(location: Location, models_dir: Path) -> None:
    """Refuse a local destination that is the models folder or lies inside it: the pushed cards would be read back
    as models of that folder (each listed twice, and the next push refused for the duplicate names)."""
    if not location.is_local:
        return
    destination = Path(location.root).resolve()
    if destination == models_dir or models_dir in destination.parents:
        raise StorageError(
            f"{location.url} is inside the models folder {models_dir}: the pushed copies would be read as models "
            "of that folder (each listed twice); push to a folder outside it"
        )


def push(
    url: str | None = None,
    models_dir: str | Path | None = None,
    models: list[str] | None = None,
    with_checkpoints: bool = False,
) -> PushResult:
    """Publish the models (all, or those named) to ``url`` (default: ``gs://nlp-classifier-models/<user
    prefix>/<set version>``). Checkpoints stay behind unless ``with_checkpoints``, training previews unless
    named."""
    models_dir = Path(models_dir or default_models_dir()).resolve()
    cards, left_out = select_cards(models_dir, models)
    manifest, sources = build_manifest(cards, models_dir, with_checkpoints)
    location = push_location(url, models_dir)
    _check_outside_models_folder(location, models_dir)
    result = PushResult(
        url=location.url,
        set_version=manifest.set_version,
        models={n: m["version"] for n, m in manifest.models.items()},
        left_out=left_out,
    )
    current = MANIFEST_NAME
    try:
        with sigterm_as_interrupt():
            try:
                previous = read_manifest(location)
            except StorageError:
                previous = None  # an unreadable manifest is replaced by this push's
            todo = []
            for rel, entry in manifest.files.items():
                current = rel
                info = remote_info(location, rel)
                if (
                    info is not None
                    and info.get("size") == entry["size"]
                    and remote_sha256(location, rel, info) == entry["sha256"]
                ):
                    result.skipped.append(rel)
                else:
                    todo.append(rel)
            with byte_progress(sum(manifest.files[rel]["size"] for rel in todo)) as bar:
                for rel in todo:
                    current = rel
                    bar.file(rel)
                    upload(location, rel, sources[rel], manifest.files[rel]["sha256"], bar)
                    result.uploaded.append(rel)
                    result.bytes_uploaded += manifest.files[rel]["size"]
                if result.uploaded or not manifest.same_content(previous):
                    current = MANIFEST_NAME
                    payload = manifest.to_bytes()
                    upload(location, MANIFEST_NAME, payload, hashlib.sha256(payload).hexdigest(), bar)
                    result.manifest_written = True
    except KeyboardInterrupt:
        raise StorageError(
            f"push interrupted while uploading {location.url_of(current)}; the set was not "
            f"published (no new {MANIFEST_NAME}); run the same push again to resume"
        ) from None
    except NlpcError:
        raise
    except Exception as exc:  # network, permissions, missing bucket: name the file and the cause
        cause = (
            "not found (does the bucket exist?)"
            if isinstance(exc, FileNotFoundError)
            else f"{type(exc).__name__}: {exc}"
        )
        raise StorageError(
            f"{location.url_of(current)}: {cause}; the set was not published (no new {MANIFEST_NAME})"
        ) from exc
    return result
