"""The resume manifest of a streaming run: kept in ``<output>.partial/manifest.json`` beside the output with the
finished chunks' parts. It records the run's settings, the input files (URL and size) and, for each completed chunk,
the input range it covers (file, chunk, first row, row count), the rows it wrote and skipped, and its part files.
A chunk is recorded only after its parts are written, so every recorded chunk is complete."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ConfigError
from .sources import InputFile, filesystem, is_local

FORMAT = "nlpc-batch-manifest"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PARTIAL_SUFFIX = ".partial"


@dataclass
class ChunkRecord:
    """One completed chunk: sequence number over the whole run, input range, counts and part files."""

    seq: int
    file: int
    chunk: int
    first_row: int
    n_rows: int
    rows_written: int
    rows_skipped: int
    part: str
    errors: str | None = None

    def same_range(self, file: int, chunk: int, first_row: int, n_rows: int) -> bool:
        return (self.file, self.chunk, self.first_row, self.n_rows) == (file, chunk, first_row, n_rows)


class Staging:
    """The ``<output>.partial`` folder (local or in a bucket) holding the manifest and the finished parts."""

    def __init__(self, output: str):
        self.url = output.rstrip("/") + PARTIAL_SUFFIX
        self.fs, self.root = filesystem(self.url)
        self.local = is_local(self.fs)

    def path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def url_of(self, name: str) -> str:
        return f"{self.url}/{name}"

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path(MANIFEST_NAME)))

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write one file of the folder; locally through a temporary file and a rename, in a bucket as one object
        (which appears only once complete)."""
        if self.local:
            from ..fileio import atomic_path

            with atomic_path(self.path(name)) as tmp:
                tmp.write_bytes(data)
        else:
            self.fs.pipe_file(self.path(name), data)

    def read_bytes(self, name: str) -> bytes:
        return bytes(self.fs.cat_file(self.path(name)))

    def remove(self) -> None:
        if self.fs.exists(self.root):
            self.fs.rm(self.root, recursive=True)


class Manifest:
    """The run's settings, inputs and completed chunks; ``save`` rewrites it after each chunk."""

    def __init__(self, staging: Staging, settings: dict[str, Any], inputs: list[InputFile]):
        self.staging = staging
        self.settings = settings
        self.inputs = [{"url": f.url, "size": f.size} for f in inputs]
        self.chunks: dict[int, ChunkRecord] = {}
        self.columns: list[str] | None = None

    @classmethod
    def start(cls, staging: Staging, settings: dict[str, Any], inputs: list[InputFile], resume: bool) -> Manifest:
        """A new manifest, or with ``resume`` the one of the partial run there (checked against this run's
        settings and inputs: ConfigError when they differ)."""
        fresh = cls(staging, settings, inputs)
        if not resume or not staging.exists():
            return fresh
        try:
            payload = json.loads(staging.read_bytes(MANIFEST_NAME))
        except (ValueError, OSError) as exc:
            raise ConfigError(f"cannot read {staging.url_of(MANIFEST_NAME)} ({exc}): delete {staging.url}") from None
        if payload.get("format") != FORMAT or payload.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"{staging.url_of(MANIFEST_NAME)} is not a manifest this version reads")
        changed = [
            k for k in sorted(set(settings) | set(payload["settings"])) if settings.get(k) != payload["settings"].get(k)
        ]
        if changed:
            raise ConfigError(
                f"--resume: the partial run at {staging.url} used other settings ({', '.join(changed)}); "
                "run again with the same ones, or without --resume to start over"
            )
        if payload["inputs"] != fresh.inputs:
            raise ConfigError(
                f"--resume: the input files changed since the partial run at {staging.url} (names or sizes); "
                "run without --resume to start over"
            )
        fresh.columns = payload.get("columns")
        fresh.chunks = {c["seq"]: ChunkRecord(**c) for c in payload["chunks"]}
        return fresh

    def record(self, chunk: ChunkRecord) -> None:
        self.chunks[chunk.seq] = chunk
        self.save()

    def save(self) -> None:
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "settings": self.settings,
            "inputs": self.inputs,
            "columns": self.columns,
            "chunks": [asdict(self.chunks[s]) for s in sorted(self.chunks)],
        }
        self.staging.write_bytes(MANIFEST_NAME, (json.dumps(payload, indent=1) + "\n").encode())

    def ordered(self) -> list[ChunkRecord]:
        return [self.chunks[s] for s in sorted(self.chunks)]
