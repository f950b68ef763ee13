"""Chunked readers: the input files named by a path, a directory or a glob (local or any fsspec URL such as
``gs://``), read ``chunk_rows`` rows at a time so memory stays flat whatever the file size.

CSV and TSV go through pandas' chunked C parser (quoted newlines stay inside their row), JSONL line by line,
Parquet by record batches; a ``.gz`` suffix means gzip. Row numbers are 1-based data rows within each file, as in
every other error message."""

from __future__ import annotations

import glob as globlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..data.readers import (
    SUPPORTED_SUFFIXES,
    check_not_unicode_bom,
    not_an_object_message,
    readable_record,
    table_format,
)
from ..errors import ConfigError, DataError


@dataclass(frozen=True)
class InputFile:
    """One input file: its URL (as given, or as found in a directory or glob), format and size in bytes."""

    url: str
    format: str
    size: int
    compressed: bool


@dataclass
class Chunk:
    """Up to ``chunk_rows`` consecutive rows of one file. ``frame`` holds the rows that parsed; ``rows`` their
    1-based row numbers in the file; ``bad`` the rows that did not parse (row number, reason), collected only
    when the run skips bad rows. ``fraction`` is how far through the file the reader is after this chunk."""

    file: InputFile
    index: int
    first_row: int
    n_rows: int
    frame: pd.DataFrame
    rows: list[int]
    bad: list[tuple[int, str]] = field(default_factory=list)
    fraction: float = 1.0


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and the path inside it for ``url`` (a plain path is local)."""
    import fsspec

    from ..storage.location import storage_options

    try:
        fs, path = fsspec.core.url_to_fs(url, **storage_options(url))
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"cannot open '{url}': {exc}") from None
    except OSError as exc:  # a filesystem that connects when it is opened (ftp://) to a host it cannot reach
        raise ConfigError(f"cannot open '{url}': {type(exc).__name__}: {exc}") from None
    return fs, path


def is_local(fs: Any) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def _url_of(fs: Any, path: str, original: str) -> str:
    """A found path as a URL of the same filesystem as ``original``."""
    if is_local(fs):
        return path
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    scheme = original.split("://", 1)[0] if "://" in original else protocol
    return f"{scheme}://{path}"


def _is_table(path: str) -> bool:
    name = path.lower()
    name = name[:-3] if name.endswith(".gz") else name
    return name.endswith(SUPPORTED_SUFFIXES)


def _is_staging(relpath: str) -> bool:
    """A hidden file, or a part of a streaming run's staging folder (``<output>.partial/``): never an input."""
    parts = [p for p in relpath.split("/") if p]
    return any(p.startswith(".") for p in parts) or any(p.endswith(".partial") for p in parts[:-1])


def expand_inputs(spec: str) -> list[InputFile]:
    """The files named by ``spec``: one file, every table file in a directory (recursively, leaving out hidden
    files and staging folders), or a glob's matches (but hidden files, as in a shell); sorted by name so the output
    order is stable. Raises DataError when nothing matches."""
    fs, path = filesystem(spec)
    if globlib.has_magic(path):
        found = sorted(p for p in fs.glob(path) if fs.isfile(p) and not _is_staging(p.rsplit("/", 1)[-1]))
        if not found:
            raise DataError("no file matches this pattern", path=spec)
    elif fs.isdir(path):
        found = sorted(p for p in fs.find(path) if _is_table(p) and not _is_staging(p[len(path) :]))
        if not found:
            raise DataError(
                f"no CSV/TSV/JSONL/Parquet file in this directory (suffixes {', '.join(SUPPORTED_SUFFIXES)})",
                path=spec,
            )
    elif fs.isfile(path):
        found = [path]
    else:
        raise DataError("file not found", path=spec)
    files = []
    for p in found:
        url = _url_of(fs, p, spec)
        files.append(InputFile(url, table_format(url), int(fs.size(p) or 0), p.lower().endswith(".gz")))
    return files


def check_outputs_are_not_inputs(files: list[InputFile], outputs: Mapping[str, str]) -> None:
    """Refuse an output that is one of the input ``files``, or a folder that holds one (it is replaced at the
    end), however each is spelt: a relative and an absolute path, a symlink, ``./``, a trailing slash.
    ``outputs`` maps how each output is named in the message (``--output OUTPUT``) to its URL. Each input's
    location is worked out once, however many outputs there are."""
    inputs = [(_location_key(file.url), file.url) for file in files]
    for what, output in outputs.items():
        out_key = _location_key(output)
        for key, url in inputs:
            if key == out_key:
                raise ConfigError(f"{what} is also an input file")
            if key[0] == out_key[0] and key[1].startswith(out_key[1].rstrip("/") + "/"):
                raise ConfigError(f"{what} holds the input file {url}; it would be replaced")


def _location_key(url: str) -> tuple[str, str]:
    """(filesystem protocol, normalised path) of ``url``: local paths resolved (symlinks followed)."""
    import os

    fs, path = filesystem(url)
    if is_local(fs):
        return "file", os.path.realpath(path)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol, path.rstrip("/")


def read_chunks(file: InputFile, chunk_rows: int, *, skip_bad: bool = False) -> Iterator[Chunk]:
    """The file's rows, ``chunk_rows`` at a time (the last chunk may be shorter; a file with no data rows yields
    one empty chunk holding its columns). With ``skip_bad``, JSONL lines that are not JSON objects are reported
    in ``Chunk.bad`` instead of failing the run."""
    if chunk_rows < 1:
        raise ConfigError("--chunk-rows must be at least 1")
    fs, path = filesystem(file.url)
    with fs.open(path, "rb") as raw:
        if file.format == "parquet":
            yield from _parquet_chunks(file, raw, chunk_rows)
            return
        stream: Any = raw
        if file.compressed:
            import gzip

            stream = gzip.GzipFile(fileobj=raw, mode="rb")
        stream = io.BufferedReader(stream)  # peek() at the first bytes without consuming them
        try:
            check_not_unicode_bom(stream.peek(4)[:4], file.url)
        except (OSError, EOFError) as exc:
            raise DataError(f"cannot read: {exc}", path=file.url) from None

        def fraction() -> float:
            return min(1.0, raw.tell() / file.size) if file.size else 1.0

        if file.format == "jsonl":
            yield from _jsonl_chunks(
                file, io.TextIOWrapper(stream, encoding="utf-8-sig"), chunk_rows, skip_bad, fraction
            )
        else:
            yield from _csv_chunks(file, stream, chunk_rows, fraction)


def _csv_chunks(file: InputFile, stream: Any, chunk_rows: int, fraction) -> Iterator[Chunk]:
    sep = "\t" if file.format == "tsv" else ","
    first = 1
    index = 0
    try:
        # Bytes that are not UTF-8 are kept as lone surrogates (in plain Python strings, which Arrow-backed ones
        # cannot hold) so that check_utf8 can name their row and column; checked chunks become strings as usual.
        reader = pd.read_csv(
            stream,
            sep=sep,
            dtype=object,
            keep_default_na=False,
            chunksize=chunk_rows,
            encoding="utf-8-sig",
            encoding_errors="surrogateescape",
        )
        with reader:
            for frame in reader:
                n = len(frame)
                if n == 0 and index > 0:
                    continue
                frame = frame.reset_index(drop=True)
                check_utf8(frame, file.url, first)
                frame = frame.astype(str)
                yield Chunk(file, index, first, n, frame, list(range(first, first + n)), fraction=fraction())
                first += n
                index += 1
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", path=file.url) from None
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed {file.format.upper()} after row {first - 1}: {exc}", path=file.url) from None
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read: {exc}", path=file.url) from None
    if index == 0:
        raise DataError("the file is empty", path=file.url)


def check_utf8(frame: pd.DataFrame, source: str, first_row: int) -> None:
    """Refuse a chunk read with ``surrogateescape`` that holds bytes which are not UTF-8, naming the first one's row
    and column (encoding a whole column at once finds whether there is one at all cheaply)."""
    for column in frame.columns:
        values = frame[column].tolist()
        try:
            "\n".join([str(column), *map(str, values)]).encode("utf-8")
        except UnicodeEncodeError:
            if _escaped(str(column)):
                raise _undecodable(str(column), source, None, str(column)) from None
            row = next(i for i, value in enumerate(values) if _escaped(str(value)))
            raise _undecodable(str(values[row]), source, first_row + row, str(column)) from None


def _escaped(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _undecodable(value: str, source: str, row: int | None, column: str) -> DataError:
    bad = bytes(ord(ch) - 0xDC00 for ch in value if "\udc80" <= ch <= "\udcff")
    return DataError(
        f"undecodable bytes {bad!r}: the file is not UTF-8; re-save it as UTF-8", path=source, row=row, column=column
    )


def _jsonl_chunks(
    file: InputFile, text: io.TextIOWrapper, chunk_rows: int, skip_bad: bool, fraction
) -> Iterator[Chunk]:
    records: list[dict] = []
    rows: list[int] = []
    bad: list[tuple[int, str]] = []
    index = 0
    first = 1
    line_no = 0

    def chunk() -> Chunk:
        frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        return Chunk(file, index, first, line_no - first + 1, frame, list(rows), list(bad), fraction())

    try:
        for line_no, line in enumerate(text, start=1):  # noqa: B007 (line_no is read by chunk())
            if line.strip():
                try:
                    record = json.loads(line)
                    problem = None if isinstance(record, dict) else not_an_object_message(line)
                except json.JSONDecodeError as exc:
                    problem = f"invalid JSON ({exc.msg})"
                if problem is None:
                    records.append(readable_record(record, line))
                    rows.append(line_no)
                elif skip_bad:
                    bad.append((line_no, problem))
                else:
                    raise DataError(problem, path=file.url, row=line_no)
            if line_no - first + 1 == chunk_rows:
                yield chunk()
                records, rows, bad = [], [], []
                first = line_no + 1
                index += 1
    except UnicodeDecodeError as exc:
        raise DataError(
            f"undecodable bytes {exc.object[exc.start : exc.end]!r} after line {line_no}: the file is not UTF-8; "
            "re-save it as UTF-8",
            path=file.url,
            row=line_no + 1,
        ) from None
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read: {exc}", path=file.url) from None
    if line_no >= first:
        yield chunk()
    elif index == 0:
        raise DataError("the file is empty", path=file.url)


def _parquet_chunks(file: InputFile, raw: Any, chunk_rows: int) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(raw)
        total = parquet.metadata.num_rows
        first = 1
        index = 0
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            n = batch.num_rows
            if n == 0:
                continue
            frame = batch.to_pandas()
            yield Chunk(file, index, first, n, frame, list(range(first, first + n)), fraction=(first + n - 1) / total)
            first += n
            index += 1
        if index == 0:
            frame = parquet.schema_arrow.empty_table().to_pandas()
            yield Chunk(file, 0, 1, 0, frame, [])
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises many types
        raise DataError(f"cannot read Parquet: {exc}", path=file.url) from None
