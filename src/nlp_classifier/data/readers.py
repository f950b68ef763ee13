"""Read CSV, JSONL and Parquet files (optionally gzip-compressed) into DataFrames with precise errors."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..text import replace_lone_surrogates

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")


def table_format(path: str | Path) -> str:
    """The file's format from its name: csv, tsv, jsonl or parquet (a trailing .gz is allowed)."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix in SUPPORTED_SUFFIXES:
        if name.endswith(suffix):
            return {".json": "jsonl"}.get(suffix, suffix[1:])
    raise DataError(
        f"unsupported file type; expected one of {', '.join(SUPPORTED_SUFFIXES)} (optionally .gz)", path=str(path)
    )


# Byte-order marks of the encodings a file saved as "Unicode" usually has (Excel's "Unicode Text" is UTF-16),
# longest first: UTF-32 LE starts with UTF-16 LE's mark.
BYTE_ORDER_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def check_not_unicode_bom(head: bytes, path: str) -> None:
    """Refuse a file that starts with a UTF-16 or UTF-32 byte-order mark, naming its encoding: read as UTF-8 it
    would fail on its first byte, with the header decoded into noise."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            raise DataError(f"the file is {encoding}, not UTF-8; re-save it as UTF-8", path=path)


OTHER_SEPARATORS = (";", "\t", "|", ",")


def missing_column_message(column: str, columns: Sequence[object]) -> str:
    """``missing column 'x' (columns are: ...)``; when the header was read as one column holding another separator
    (a CSV saved with ';', a TSV named .csv), also what the file seems to be separated by."""
    names = [str(c) for c in columns]
    message = f"missing column '{column}' (columns are: {', '.join(names)})"
    found = next((sep for sep in OTHER_SEPARATORS if len(names) == 1 and sep in names[0]), None)
    if found is not None:
        message += (
            f"; the header is one column: the file seems to be separated by {found!r}, but .csv files are read with "
            "',' and .tsv files with tabs"
        )
    return message


def readable_record(record: dict, line: str) -> dict:
    """A JSON Lines record with every lone surrogate its line escaped (``"\\ud800"``: valid JSON, not a
    character, and no UTF-8 output can hold it) read as U+FFFD, as the API reads one. Only a line with a
    ``\\u`` escape can hold one, so others are returned as they are."""
    if "\\u" not in line:
        return record
    return {
        replace_lone_surrogates(str(key)): replace_lone_surrogates(value) if isinstance(value, str) else value
        for key, value in record.items()
    }


def not_an_object_message(line: str) -> str:
    """Why a JSON Lines line that parsed is refused; a JSON array (a whole .json file as one array) says so."""
    message = "each line must be a JSON object"
    if line.lstrip().startswith("["):
        message += "; this line is a JSON array (.json and .jsonl files are read as JSON Lines: one object per line)"
    return message


def _decode(path: Path, raw: bytes, fmt: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        check_not_unicode_bom(raw[:4], str(path))
        line = raw[: exc.start].count(b"\n") + 1
        try:
            row, column = _undecodable_cell(raw, exc.start, fmt)
        except Exception:  # the file may be too broken to parse; the line number still locates the bytes
            row, column = None, None
        raise DataError(
            f"undecodable bytes {raw[exc.start : exc.end]!r} at line {line} (byte {exc.start}): the file "
            "is not UTF-8; re-save it as UTF-8",
            path=str(path),
            row=row,
            column=column,
        ) from None


def _undecodable_cell(raw: bytes, start: int, fmt: str) -> tuple[int | None, str | None]:
    """The data row (1-based, as in every other error) and column holding the first undecodable byte at
    ``start``. The bytes before it are valid UTF-8, so the bad byte is the (n+1)-th U+FFFD once the file is
    decoded with replacement characters, n being the count of genuine U+FFFD before it."""
    genuine = raw[:start].decode("utf-8-sig").count("\ufffd")
    text = raw.decode("utf-8-sig", errors="replace")
    if fmt == "jsonl":
        line_no = raw[:start].count(b"\n") + 1
        line = text.splitlines()[line_no - 1]
        record = json.loads(line)
        column = next((str(k) for k, v in record.items() if "\ufffd" in str(k) + str(v)), None)
        return line_no, column
    cells = pd.read_csv(
        io.StringIO(text), sep="\t" if fmt == "tsv" else ",", header=None, dtype=str, keep_default_na=False
    ).to_numpy()
    seen = 0
    for r, c in zip(*np.nonzero(np.char.count(cells.astype(str), "\ufffd"))):
        seen += cells[r, c].count("\ufffd")
        if seen > genuine:
            return (int(r) or None), str(cells[0, c])  # row 0 is the header
    return None, None


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a labelled file into a DataFrame of strings/numbers; raise DataError naming the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=str(path))
    fmt = table_format(path)
    if fmt == "parquet":
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types
            raise DataError(f"cannot read Parquet: {exc}", path=str(path)) from None
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise DataError(f"cannot decompress: {exc}", path=str(path)) from None
    text = _decode(path, raw, fmt)
    if fmt == "jsonl":
        return _read_jsonl(path, text)
    try:
        return pd.read_csv(io.StringIO(text), sep="\t" if fmt == "tsv" else ",", keep_default_na=False, dtype=str)
    except pd.errors.ParserError as exc:
        raise DataError(f"malformed CSV: {exc}", path=str(path)) from None
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", path=str(path)) from None


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON ({exc.msg})", path=str(path), row=line_no) from None
        if not isinstance(record, dict):
            raise DataError(not_an_object_message(line), path=str(path), row=line_no)
        records.append(readable_record(record, line))
    if not records:
        raise DataError("the file is empty", path=str(path))
    return pd.DataFrame.from_records(records)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a DataFrame as CSV, TSV, JSONL or Parquet (by suffix), atomically."""
    from ..fileio import atomic_path

    fmt = table_format(path)
    compression = "gzip" if str(path).lower().endswith(".gz") else None
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False, compression=compression)
        else:
            frame.to_csv(tmp, index=False, sep="\t" if fmt == "tsv" else ",", compression=compression)
