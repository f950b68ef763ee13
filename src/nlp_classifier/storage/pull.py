"""``pull``: fetch a published model set into the local models folder. Only a published manifest is read; every
file is downloaded into a hidden staging folder and its sha256 checked against the manifest (and each model
against its own card) before anything local is touched; then each model is moved into place with renames. An
interrupted or tampered pull leaves the models folder as it was and names the file that failed."""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from ..artifacts import publish_folder
from ..card import FOLDER_CARD_NAME, ModelCard, sha256_file
from ..errors import IntegrityError, NlpcError
from ..locks import take
from ..paths import models_dir as default_models_dir
from ..registry import list_cards
from ..versioning import VERSION_FILE, read_versions, update_versions, version_key
from .errors import StorageError
from .location import MANIFEST_NAME, Location, pull_location
from .manifest import Manifest, is_checkpoint
from .push import read_manifest
from .transfer import byte_progress, download, signals_deferred, sigterm_as_interrupt

# Inside the models folder (so the final renames never cross filesystems) and hidden (so the registry skips it).
STAGING_NAME = ".nlpc-pull"


@dataclass
class PullResult:
    """What a pull did: the set's URL and version, each model's status (new, updated or unchanged), the files
    downloaded and those taken from local copies with the same sha256."""

    url: str
    set_version: str
    models: dict[str, dict] = field(default_factory=dict)
    downloaded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _matches(path: Path, entry: dict) -> bool:
    return path.is_file() and path.stat().st_size == entry["size"] and sha256_file(path) == entry["sha256"]


def _listing_problems(card: ModelCard, card_rel: str, files: list[str], name: str) -> list[str]:
    """Why the manifest's file list for a model is not exactly its card, the files the card pins and (for a folder
    model) checkpoint files inside its folder; so a manifest can never place a file outside its model."""
    if card.name != name:
        return [f"the card names the model '{card.name}'"]
    folder = PurePosixPath(card_rel).parent
    pinned = {card_rel} | {(folder / rel).as_posix() for rel in card.files}
    listed = set(files)
    stray = sorted(
        rel
        for rel in listed - pinned
        if not (
            card_rel.endswith(f"/{FOLDER_CARD_NAME}") and is_checkpoint(rel) and rel.startswith(f"{folder.as_posix()}/")
        )
    )
    unlisted = sorted(pinned - listed)
    return [f"{rel}: in the manifest but not pinned by the model's card" for rel in stray] + [
        f"{rel}: pinned by the model's card but not in the manifest" for rel in unlisted
    ]


def _check_places(manifest: Manifest, names: list[str], models_dir: Path, local: dict[str, ModelCard]) -> None:
    """Refuse a model of the set whose folder would be the models folder itself, and one whose name is among the
    ``local`` cards but kept somewhere else."""
    for name in names:
        card_rel = manifest.models[name]["card"]
        if Path(card_rel).name == FOLDER_CARD_NAME and "/" not in card_rel:
            raise StorageError(f"model '{name}': its folder would be the models folder itself ({card_rel})")
        if name in local and local[name].path != models_dir / card_rel:
            raise StorageError(
                f"model '{name}' is at {local[name].path} here but at {card_rel} in the set; move "
                "or remove the local one first"
            )


def _lock(staging: Path) -> int:
    """Hold an exclusive lock on the staging folder, so two pulls into one models folder never mix files."""
    fd = os.open(staging, os.O_RDONLY)
    if not take(fd):
        os.close(fd)
        raise StorageError(f"another pull into {staging.parent} is running (it holds {staging})")
    return fd


@dataclass
class _Stager:
    """Puts the files of the models being pulled under the staging folder, remembering the file in flight."""

    location: Location
    manifest: Manifest
    models_dir: Path
    staging: Path
    result: PullResult
    current: str | None = None

    def stage(self, todo: dict[str, list[str]]) -> None:
        """Every file of the models in ``todo``, each checked against the manifest: left over from an earlier pull
        that was killed, copied from the same local file, or downloaded; then each model against its card."""
        manifest, result = self.manifest, self.result
        needed = []
        for rel in (rel for files in todo.values() for rel in files):
            entry, target = manifest.files[rel], self.staging / rel
            if _matches(target, entry):
                result.reused.append(rel)
            elif _matches(self.models_dir / rel, entry):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.models_dir / rel, target)
                result.reused.append(rel)
            else:
                needed.append(rel)
        with byte_progress(sum(manifest.files[rel]["size"] for rel in needed)) as bar:
            for rel in needed:
                self.current = rel
                bar.file(rel)
                self._download(rel, bar)
        self.current = None
        for name, files in todo.items():
            card_rel = manifest.models[name]["card"]
            card = ModelCard.read(self.staging / card_rel)
            problems = _listing_problems(card, card_rel, files, name) or card.verify()
            if problems:
                raise IntegrityError(
                    f"model '{name}' from {self.location.url} does not match its own card; nothing "
                    f"in {self.models_dir} was changed:\n  " + "\n  ".join(problems)
                )

    def _download(self, rel: str, bar) -> None:
        entry, target = self.manifest.files[rel], self.staging / rel
        sha = download(self.location, rel, target, bar)
        size = target.stat().st_size
        if sha != entry["sha256"] or size != entry["size"]:
            raise IntegrityError(
                f"{self.location.url_of(rel)}: sha256 {sha[:16]}... ({size} bytes) does not match the manifest's "
                f"{entry['sha256'][:16]}... ({entry['size']} bytes): the object was changed or tampered with; "
                f"nothing in {self.models_dir} was changed"
            )
        self.result.downloaded.append(rel)
        self.result.bytes_downloaded += size


def _install(
    manifest: Manifest, name: str, files: list[str], models_dir: Path, staging: Path, local: ModelCard | None
) -> None:
    """Move one staged model into the models folder: a folder model is swapped whole (keeping local files its
    old card did not own, such as checkpoints); a file model's files are replaced one by one, the card last."""
    card_rel = manifest.models[name]["card"]
    if Path(card_rel).name == FOLDER_CARD_NAME:
        folder = Path(card_rel).parent
        staged, final = staging / folder, models_dir / folder
        if final.is_dir():
            owned = {FOLDER_CARD_NAME} | ({rel.split("/")[0] for rel in local.files} if local else set())
            for entry in final.iterdir():
                if entry.name not in owned and not (staged / entry.name).exists():
                    os.replace(entry, staged / entry.name)
        publish_folder(staged, final)
        return
    for rel in sorted(files, key=lambda r: r == card_rel):
        (models_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, models_dir / rel)


def pull(
    url: str | None = None,
    models_dir: str | Path | None = None,
    models: list[str] | None = None,
    with_checkpoints: bool = False,
    missing_only: bool = False,
) -> PullResult:
    """Fetch the models (all, or those named) of the set published at ``url`` (default: the newest set under
    ``gs://nlp-classifier-models/<user prefix>/``) into the models folder, verified; record their versions in
    MODEL_VERSION.json. Models whose files already match are left alone; with ``missing_only``, so is every model
    the folder already has, whatever its version (status ``kept``)."""
    models_dir = Path(models_dir or default_models_dir()).resolve()
    location = pull_location(url, models_dir)
    try:
        manifest = read_manifest(location)
    except NlpcError:
        raise
    except Exception as exc:
        raise StorageError(f"{location.url_of(MANIFEST_NAME)}: {type(exc).__name__}: {exc}") from exc
    if manifest is None:
        raise StorageError(f"nothing published at {location.url}: no {MANIFEST_NAME} (a push may be unfinished)")
    names = manifest.select(models)
    result = PullResult(url=location.url, set_version=manifest.set_version)
    local = {card.name: card for card in list_cards(models_dir)} if models_dir.is_dir() else {}
    if missing_only:
        for name in names:
            if name in local:
                result.models[name] = {"version": local[name].version, "status": "kept"}
        names = [name for name in names if name not in local]
    _check_places(manifest, names, models_dir, local)
    todo: dict[str, list[str]] = {}
    for name in names:
        files = manifest.model_files(name, with_checkpoints)
        unchanged = all(_matches(models_dir / rel, manifest.files[rel]) for rel in files)
        status = "unchanged" if unchanged else ("updated" if name in local else "new")
        result.models[name] = {"version": manifest.models[name]["version"], "status": status}
        if not unchanged:
            todo[name] = files
    if todo:
        _fetch_and_install(location, manifest, todo, models_dir, local, result)
    if names:  # a pull that kept every model changes nothing here, MODEL_VERSION.json included
        _record_versions(manifest, names, models_dir)
    return result


def _fetch_and_install(
    location: Location,
    manifest: Manifest,
    todo: dict[str, list[str]],
    models_dir: Path,
    local: dict[str, ModelCard],
    result: PullResult,
) -> None:
    created = not models_dir.exists()
    staging = models_dir / STAGING_NAME
    staging.mkdir(parents=True, exist_ok=True)
    lock = _lock(staging)
    stager = _Stager(location, manifest, models_dir, staging, result)
    try:
        try:
            with sigterm_as_interrupt():
                stager.stage(todo)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if created:
                shutil.rmtree(models_dir, ignore_errors=True)  # made by this pull; held only the staging folder
            where = location.url_of(stager.current) if stager.current else location.url
            if isinstance(exc, KeyboardInterrupt):
                raise StorageError(
                    f"pull interrupted while downloading {where}; nothing in {models_dir} was changed"
                ) from None
            if isinstance(exc, Exception) and not isinstance(exc, NlpcError):
                raise StorageError(
                    f"{where}: {type(exc).__name__}: {exc}; nothing in {models_dir} was changed"
                ) from exc
            raise
        with signals_deferred():
            for name, files in todo.items():
                _install(manifest, name, files, models_dir, staging, local.get(name))
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        os.close(lock)


def _record_versions(manifest: Manifest, names: list[str], models_dir: Path) -> None:
    """Write the pulled models' versions (and the set's, when newer) into MODEL_VERSION.json."""
    current = read_versions(models_dir)

    def merge(data: dict) -> None:
        for name in names:
            data["models"][name] = manifest.models[name]["version"]
        if version_key(manifest.set_version) > version_key(data.get("version", "1.0.0")):
            data["version"] = manifest.set_version

    wanted = {"version": current.get("version"), "models": dict(current["models"])}
    merge(wanted)
    if (
        wanted != {"version": current.get("version"), "models": current["models"]}
        or not (models_dir / VERSION_FILE).is_file()
    ):
        update_versions(models_dir, merge)
