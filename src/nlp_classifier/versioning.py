"""``MODEL_VERSION.json``: the seed's semver record of the model set and each model in it."""

from __future__ import annotations

import fcntl
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigError, IntegrityError
from .fileio import read_json_object, write_json

VERSION_FILE = "MODEL_VERSION.json"
SEMVER_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
PARTS = ("major", "minor", "patch")


def version_key(version: str) -> tuple[int, int, int]:
    """``'1.10.0'`` as ``(1, 10, 0)``, for ordering versions."""
    match = SEMVER_RE.match(version)
    if not match:
        raise ConfigError(f"'{version}' is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def bump(version: str, part: str) -> str:
    """The next semver: ``bump('1.2.3', 'minor') == '1.3.0'``."""
    major, minor, patch = version_key(version)
    if part not in PARTS:
        raise ConfigError(f"unknown version part '{part}': use major, minor or patch")
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def read_versions(models_dir: Path) -> dict:
    """The version file's content, or an empty set at 1.0.0 when there is none."""
    path = Path(models_dir) / VERSION_FILE
    if not path.is_file():
        return {"version": "1.0.0", "models": {}}
    data = read_json_object(path, lambda problem: _unreadable(path, problem))
    if not isinstance(data.setdefault("models", {}), dict):
        raise _unreadable(path, 'its "models" is not an object {name: version}')
    return data


def _unreadable(path: Path, problem: str) -> IntegrityError:
    return IntegrityError(
        f"{path}: not a readable version file: {problem}; restore it (from a backup, or as `nlpc models pull` "
        "writes it) or fix it by hand: every model's version is also in its card"
    )


@contextmanager
def _locked(models_dir: Path) -> Iterator[None]:
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / f".{VERSION_FILE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def record_model(models_dir: Path, name: str, part: str = "minor") -> tuple[str, str | None]:
    """Give ``name`` its next version (1.0.0 when new; else bumped by ``part``) and return (new, previous).
    The set's own version is bumped by the same part whenever an existing model changes."""
    models_dir = Path(models_dir)
    with _locked(models_dir):
        data = read_versions(models_dir)
        previous = data["models"].get(name)
        new = bump(previous, part) if previous else "1.0.0"
        data["models"][name] = new
        if previous:
            data["version"] = bump(data.get("version", "1.0.0"), part)
        write_json(models_dir / VERSION_FILE, data)
    return new, previous


def update_versions(models_dir: Path, change: Callable[[dict], None]) -> dict:
    """Read the version file under its lock, let ``change`` edit the data in place, save and return it."""
    models_dir = Path(models_dir)
    with _locked(models_dir):
        data = read_versions(models_dir)
        change(data)
        write_json(models_dir / VERSION_FILE, data)
    return data
