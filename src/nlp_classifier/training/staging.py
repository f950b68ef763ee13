"""The hidden staging folder a transformer run writes into (``.<name>.training`` beside the output): the run's
saved settings, its training time per checkpoint, its ``checkpoint-*`` folders, and the checks before a
``--resume`` continues it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..fileio import read_json, write_json
from ..locks import held_by_another, take
from .transformer_settings import resume_free_keys

RUN_CONFIG_FILE = "run_config.json"
RUN_PROGRESS_FILE = "run_progress.json"


def staging_folder(final: Path) -> Path:
    """The staging folder of the model folder ``final``."""
    return final.parent / f".{final.name}.training"


@contextmanager
def staging_lock(staging: Path) -> Iterator[None]:
    """Hold the lock of ``staging`` (a ``.lock`` file beside it, removed afterwards) for the block: one run at a
    time trains into a staging folder. ``ConfigError`` when another process holds it."""
    lock = _lock_file(staging)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        if not take(handle):
            raise _training_elsewhere(staging)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def check_not_training(staging: Path) -> None:
    """``ConfigError`` when a run holds the lock of ``staging``: it may not be resumed or discarded under it.
    Writes nothing."""
    if held_by_another(_lock_file(staging)):
        raise _training_elsewhere(staging)


def _lock_file(staging: Path) -> Path:
    return staging.parent / f"{staging.name}.lock"


def _training_elsewhere(staging: Path) -> ConfigError:
    return ConfigError(
        f"another process is training into {staging} (it holds {_lock_file(staging)}): wait for it to end, "
        "or train under another --name or --output"
    )


def checkpoint_step(checkpoint: str | None) -> int | None:
    """The optimiser step a ``checkpoint-N`` folder was saved at (None for no checkpoint)."""
    return int(Path(checkpoint).name.split("-")[-1]) if checkpoint else None


def saved_settings(staging: Path) -> dict[str, Any]:
    """The settings the interrupted run in ``staging`` started with."""
    return read_json(staging / RUN_CONFIG_FILE)["config"]


def save_run_config(staging: Path, preset: str, settings: Mapping[str, Any], base_model: str) -> None:
    """Keep a new run's settings in its staging folder, for ``--resume``."""
    write_json(staging / RUN_CONFIG_FILE, {"preset": preset, "config": dict(settings), "base_model": base_model})


def record_elapsed(staging: Path, step: int, seconds: float) -> None:
    """Note the training time spent up to the checkpoint of ``step``."""
    path = staging / RUN_PROGRESS_FILE
    progress = read_json(path) if path.is_file() else {"elapsed_at_step": {}}
    progress["elapsed_at_step"][str(step)] = round(seconds, 2)
    write_json(path, progress)


def elapsed_before(staging: Path, resume_from: str | None) -> float:
    """Training time spent before the checkpoint a resumed run starts from (0 for a new run)."""
    path = staging / RUN_PROGRESS_FILE
    if not resume_from or not path.is_file():
        return 0.0
    return float(read_json(path)["elapsed_at_step"].get(str(checkpoint_step(resume_from)), 0.0))


def clear_run_files(staging: Path) -> None:
    """Remove the run's own bookkeeping before the folder is published as a model."""
    for name in (RUN_CONFIG_FILE, RUN_PROGRESS_FILE):
        (staging / name).unlink(missing_ok=True)


def _last_complete_checkpoint(staging: Path) -> tuple[str | None, list[Path]]:
    """The newest ``checkpoint-*`` folder the Trainer finished writing (its ``trainer_state.json``, written
    last, is there and whole), and the newer folders a kill interrupted mid-write."""
    if not staging.is_dir():
        return None, []
    folders = sorted(
        (p for p in staging.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()),
        key=lambda p: int(p.name.split("-")[-1]),
        reverse=True,
    )
    unfinished: list[Path] = []
    for folder in folders:
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
            return str(folder), unfinished
        except (OSError, ValueError):
            unfinished.append(folder)
    return None, unfinished


def check_staging(
    staging: Path, resume: bool, restart: bool, overrides: Mapping[str, Any], resume_if_interrupted: bool = False
) -> str | None:
    """The checkpoint to resume from, after checking the interrupted run matches; None to start afresh (with
    ``restart``, the caller removes the interrupted run once every other check has passed). With
    ``resume_if_interrupted``, an interrupted run that can be resumed is resumed as with ``resume``."""
    last, unfinished = _last_complete_checkpoint(staging)
    resumable = last is not None and (staging / RUN_CONFIG_FILE).is_file()
    if resume or (resume_if_interrupted and resumable):
        if not resumable:
            raise ConfigError(f"nothing to resume: no checkpoint of an interrupted run in {staging}")
        saved = saved_settings(staging)
        free = resume_free_keys()
        differ = [
            f"{k}: {overrides[k]!r} now, {saved.get(k)!r} in the interrupted run"
            for k in overrides
            if k not in free and saved.get(k) != overrides[k]
        ]
        if differ:
            raise ConfigError(
                "--resume continues the interrupted run with its own settings; these differ: " + "; ".join(differ)
            )
        for folder in unfinished:  # killed while being written: unusable, and in the way of the re-save
            shutil.rmtree(folder)
        return last
    if staging.exists() and not restart:
        raise ConfigError(
            f"an interrupted run left checkpoints in {staging}: pass --resume to continue it or "
            "--restart to discard them"
        )
    return None
