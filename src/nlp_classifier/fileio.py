"""Atomic file writes: write to a temporary sibling, then rename, so nothing is half-written; and the checks that
refuse an output path that cannot be written before a command does its work."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_json_object(path: str | Path, unreadable: Callable[[str], Exception]) -> dict[str, Any]:
    """Read a JSON file that must hold an object; anything else raises ``unreadable(problem)`` (the caller's
    error, naming the file and how to go on), e.g. ``not valid JSON (line 1, column 2)``."""
    try:
        data = read_json(path)
    except json.JSONDecodeError as exc:
        raise unreadable(f"not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise unreadable("not UTF-8 text") from None
    if not isinstance(data, dict):
        raise unreadable("not a JSON object")
    return data


def check_writable_file(path: str | Path, option: str, inputs: Mapping[str, str | None] | None = None) -> None:
    """Refuse an output file that cannot be written, before any work: its folder must exist (or be creatable
    under an existing writable folder), the path must not be a folder, nor the same file as one of the command's
    ``inputs`` (flag -> path; a relative path, ``./`` or a symlink of it is the same file). A URL (gs://...) is
    left to its store."""
    if is_url(str(path)):
        return
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a folder; give a file name")
    for flag, given in (inputs or {}).items():
        if given and not is_url(str(given)) and os.path.realpath(given) == os.path.realpath(path):
            raise ConfigError(f"{option} {path}: is also the {flag} file, which it would overwrite")
    _check_writable_folder(path.parent, option, path)


def check_writable_folder(path: str | Path, option: str) -> None:
    """Refuse an output folder that cannot be written (or created), before any work. A URL is left to its store."""
    if is_url(str(path)):
        return
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: is a file; give a folder")
    _check_writable_folder(path, option, path)


def is_url(path: str) -> bool:
    """A URL with a scheme other than file:// (a Windows drive letter is not a scheme)."""
    scheme = urlsplit(path).scheme
    return len(scheme) > 1 and scheme != "file"


def nearest_existing(path: Path) -> Path | None:
    """``path`` or its nearest ancestor that exists (what a ``mkdir -p`` of it would start from); None when a
    folder on the way cannot be looked into (the command that uses the path will say why)."""
    existing = path if str(path) else Path(".")
    try:
        while not existing.exists():
            existing = existing.parent
    except OSError:
        return None
    return existing


def _check_writable_folder(folder: Path, option: str, shown: Path) -> None:
    existing = nearest_existing(folder)
    if existing is None:
        return
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {shown}: cannot write into {existing} (not a writable folder)")
