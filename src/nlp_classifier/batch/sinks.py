"""Writers of a streaming run's output: each chunk's rows become one part file in the staging folder as soon as
the chunk is scored; at the end the parts are joined in order into the output, which appears only then (a local
file through a temporary file and a rename, an object in a bucket on completion of its upload).

CSV/TSV/JSONL parts are byte pieces of the final file (the header only in the first; gzip parts are gzip members,
which concatenate into one valid gzip file); Parquet parts are Parquet files whose row groups are copied into the
output under one schema."""

from __future__ import annotations

import gzip
import io
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

import pandas as pd

from ..data.readers import table_format
from ..errors import DataError
from .frame import SKIPPED_COLUMNS
from .manifest import Staging
from .sources import filesystem, is_local

COPY_BUFFER = 1 << 20


def output_suffix(output: str) -> str:
    """The output's format suffix, with ``.gz`` when compressed (``.csv.gz``)."""
    fmt = table_format(output)
    return f".{fmt}" + (".gz" if output.lower().endswith(".gz") else "")


def errors_url(output: str) -> str:
    """Where a run with ``--on-error skip`` lists its skipped rows: ``scored.csv`` -> ``scored.errors.csv``."""
    name = output.rstrip("/")
    lower = name.lower()
    for suffix in (".gz", ".csv", ".tsv", ".jsonl", ".json", ".parquet"):
        if lower.endswith(suffix):
            name, lower = name[: -len(suffix)], lower[: -len(suffix)]
    return name + ".errors.csv"


@contextmanager
def open_output(url: str) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``url`` only when the block succeeds."""
    fs, path = filesystem(url)
    if is_local(fs):
        from ..fileio import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            yield handle
    else:
        with fs.open(path, "wb") as handle:
            yield handle


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)  # mtime 0: the same rows give the same bytes


class PartSink:
    """Writes the parts of one output (CSV, TSV, JSONL, optionally gzip, or Parquet) and joins them at the end."""

    def __init__(self, output: str, staging: Staging):
        self.output = output
        self.staging = staging
        self.format = table_format(output)
        self.compressed = output.lower().endswith(".gz")
        if self.format == "parquet" and self.compressed:
            raise DataError("a Parquet output is compressed inside the file; drop the .gz suffix", path=output)
        self.suffix = output_suffix(output)

    def part_name(self, seq: int) -> str:
        return f"part-{seq:06d}{self.suffix}"

    def encode(self, frame: pd.DataFrame, first: bool) -> bytes:
        """The bytes of one part; ``first`` carries the CSV/TSV header."""
        if self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            buffer = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
            return buffer.getvalue()
        if self.format == "jsonl":
            text = frame.to_json(orient="records", lines=True, force_ascii=False) if len(frame) else ""
        else:
            text = frame.to_csv(index=False, header=first, sep="\t" if self.format == "tsv" else ",")
        data = text.encode("utf-8")
        return _gzip(data) if self.compressed else data

    def write_part(self, seq: int, frame: pd.DataFrame) -> str:
        name = self.part_name(seq)
        self.staging.write_bytes(name, self.encode(frame, first=seq == 0))
        return name

    def publish(self, parts: Sequence[str]) -> None:
        """Join ``parts`` (in order) into the output."""
        with open_output(self.output) as out:
            if self.format == "parquet":
                self._join_parquet(parts, out)
                return
            for name in parts:
                with self.staging.fs.open(self.staging.path(name), "rb") as part:
                    shutil.copyfileobj(part, out, COPY_BUFFER)

    def _join_parquet(self, parts: Sequence[str], out: IO[bytes]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        fs = self.staging.fs
        schemas = []
        for name in parts:
            with fs.open(self.staging.path(name), "rb") as handle:
                schemas.append(pq.read_schema(handle))
        schema = pa.unify_schemas(schemas, promote_options="permissive").with_metadata(schemas[0].metadata)
        with pq.ParquetWriter(out, schema) as writer:
            for name in parts:
                with fs.open(self.staging.path(name), "rb") as handle:
                    parquet = pq.ParquetFile(handle)
                    for group in range(parquet.num_row_groups):
                        table = parquet.read_row_group(group).select(schema.names)
                        writer.write_table(table.cast(schema))


class ErrorsSink:
    """The skipped rows of a run (``--on-error skip``): one CSV part per chunk that skipped any, joined under one
    header into ``errors_url(output)`` at the end."""

    def __init__(self, output: str, staging: Staging):
        self.url = errors_url(output)
        self.staging = staging

    @staticmethod
    def part_name(seq: int) -> str:
        return f"errors-{seq:06d}.csv"

    def write_part(self, seq: int, skipped: pd.DataFrame) -> str | None:
        if skipped.empty:
            return None
        name = self.part_name(seq)
        self.staging.write_bytes(name, skipped[SKIPPED_COLUMNS].to_csv(index=False, header=False).encode("utf-8"))
        return name

    def publish(self, parts: Sequence[str | None]) -> None:
        with open_output(self.url) as out:
            out.write((",".join(SKIPPED_COLUMNS) + "\n").encode())
            for name in parts:
                if name:
                    with self.staging.fs.open(self.staging.path(name), "rb") as part:
                        shutil.copyfileobj(part, out, COPY_BUFFER)
