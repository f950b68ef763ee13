"""The settings of a batch scoring run (the flags of ``nlpc predict --input``), light enough for the CLI to import
at start-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError

DEFAULT_CHUNK_ROWS = 50_000
ON_ERROR = ("fail", "skip")


@dataclass
class StreamOptions:
    """How a run reads, scores and writes: the text, id and kept columns, what a bad row does (``fail`` or
    ``skip``), the decision threshold, texts per model call, rows per chunk, and whether to resume."""

    text_column: str = "text"
    id_column: str | None = None
    columns: Sequence[str] | None = None
    on_error: str = "fail"
    threshold: float | None = None
    batch_size: int = 256
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    resume: bool = False

    def check(self) -> None:
        """ConfigError for a setting no run can use."""
        if self.chunk_rows < 1:
            raise ConfigError("--chunk-rows must be at least 1")
        if self.batch_size < 1:
            raise ConfigError("--batch-size must be at least 1")
        if self.on_error not in ON_ERROR:
            raise ConfigError(f"--on-error must be one of {', '.join(ON_ERROR)}, not '{self.on_error}'")
        if self.columns is not None and not self.columns:
            raise ConfigError("--columns needs at least one column name")
