"""Distributed batch scoring on Ray (``nlpc predict --engine ray``): Ray Data reads the input (CSV, TSV, JSONL or
Parquet; a file, a folder or a glob; a local path or any fsspec URL such as ``gs://``), a pool of actors scores it (each
actor loads the model once, verified against its card, and applies ``score_frame`` to each batch, the same rule as
the local engine), and the result is written as a folder of Parquet parts, published at the end.

Order: the run asks Ray Data to keep the input order (``preserve_order``) and the parts are named in output order,
so reading the folder (pandas, pyarrow) usually gives the rows in input order; Ray does not promise it (a lost
worker's batch, or a folder's files on a loaded machine, have come out later), so match rows by an id column
(``id_column`` carries it through).

A killed actor is restarted by Ray (``max_restarts``) and the batch it was scoring is run again
(``max_task_retries``); a batch's rows are written only once its scoring has finished, so each row is scored and
written exactly once."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..data.readers import table_format
from ..errors import ConfigError, DataError, IntegrityError, NlpcError
from ..fileio import is_url
from .sources import check_outputs_are_not_inputs, expand_inputs

# Rows handed to an actor per call (``score_frame`` then predicts in ``batch_size`` slices): big enough that the
# per-call overhead of Ray is small next to the scoring, small enough that two workers share a 100k-row file.
ROWS_PER_CALL = 4096
# Read blocks of at most this many bytes, so that even a single input file is split between the workers.
BLOCK_BYTES = 4 * 1024 * 1024
SUCCESS_NAME = "_SUCCESS"
_EXTENSIONS = {
    "csv": ["csv", "csv.gz"],
    "tsv": ["tsv", "tsv.gz"],
    "jsonl": ["jsonl", "json", "jsonl.gz", "json.gz"],
    "parquet": ["parquet"],
}


@dataclass(frozen=True)
class ModelSource:
    """Where each actor finds the model: ``card_path``, a card every Ray node can read (the registry path, on a
    shared volume or baked into the image), or ``url``, a model set published with ``nlpc models push`` that each
    node pulls once (``nlpc models pull``, every file checked against the manifest and the card)."""

    name: str
    card_path: str | None = None
    url: str | None = None
    backend: str | None = None


@dataclass
class RayRunResult:
    """What a Ray run did: the published output folder, its row and part counts, the workers, the seconds in all
    and the seconds spent starting or connecting to Ray."""

    output: str
    rows: int
    parts: int
    workers: int
    seconds: float
    startup_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_ray() -> Any:
    """The ``ray`` module, or a ConfigError saying how to install it (Ray Data needs pyarrow and pandas too)."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'nlp-classifier[distributed]'") from None
    return ray


def model_source(
    model: str, *, models_dir: str | None = None, models_url: str | None = None, backend: str | None = None
) -> ModelSource:
    """The ModelSource for ``model`` (a registry name or path). Without ``models_url`` the model is resolved and
    verified here, before any worker starts, and the workers read its card path; with it, the workers pull the
    model named ``model`` from that published set."""
    if models_url:
        if Path(model).exists() or "/" in model:
            raise ConfigError(f"with --models-url, --model is a model name in the published set, not a path ({model})")
        return ModelSource(name=model, url=models_url, backend=backend)
    from ..registry import resolve

    card = resolve(model, models_dir)
    problems = card.verify()
    if problems:
        raise IntegrityError(f"model '{card.name}' does not match its card:\n  " + "\n  ".join(problems))
    return ModelSource(name=card.name, card_path=str(card.path), backend=backend)


def check_output(output: str) -> None:
    """The Ray engine writes a folder of Parquet parts: refuse an output named like a single CSV/JSONL file."""
    name = PurePosixPath(urlsplit(output).path if _is_url(output) else output).name
    try:
        fmt = table_format(name)
    except DataError:
        return
    if fmt != "parquet":
        raise ConfigError(
            f"--engine ray writes a folder of Parquet parts; give --output a folder such as "
            f"{name.split('.')[0]}.parquet or {name.split('.')[0]}/ (not {name})"
        )


# --- rows -------------------------------------------------------------------------------------------------------


def first_bad_row(skipped: pd.DataFrame, text_column: str, id_column: str | None, source: str) -> DataError:
    """The error for the first row ``score_chunk`` set aside: named by its id, since a row's position inside one
    batch of a distributed run means nothing to the user."""
    first = skipped.iloc[0]
    where = f"id {first['id']!r}" if id_column else "a row (pass --id-column to name it)"
    return DataError(f"{first['reason']} at {where}", path=source, column=text_column)


# --- the actor --------------------------------------------------------------------------------------------------


class BatchScorer:
    """The callable class Ray Data runs in each actor: loads the model once (verified by ``nlp_classifier.load``),
    then scores each batch with ``score_chunk`` (the local engine's rule)."""

    def __init__(
        self,
        source: ModelSource,
        text_column: str,
        threshold: float | None,
        batch_size: int,
        id_column: str | None,
        columns: list[str] | None,
        input_label: str,
        threads: int = 1,
    ) -> None:
        from .. import load

        card_path = source.card_path or _pulled_card_path(source)
        # as many compute threads as the cores the actor is meant to have: ONNX Runtime and PyTorch otherwise take
        # one per core of the node each, and actors sharing a node fight over the cores (TF-IDF ignores it)
        self.classifier = load(card_path, backend=source.backend, num_threads=threads)
        self.text_column, self.threshold, self.batch_size = text_column, threshold, batch_size
        self.id_column, self.columns, self.input_label = id_column, columns, input_label

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from .frame import score_chunk

        # The local engine's per-chunk rule; bad rows are collected, then the first one fails the run.
        chunk = score_chunk(
            self.classifier,
            batch,
            self.text_column,
            self.id_column,
            self.columns,
            "skip",
            source=self.input_label,
            threshold=self.threshold,
            batch_size=self.batch_size,
        )
        if len(chunk.skipped):
            raise first_bad_row(chunk.skipped, self.text_column, self.id_column, self.input_label)
        return chunk.scored


def actor_threads(actors: int, *, local: bool) -> int:
    """Compute threads per actor: on a local Ray this machine's cores shared by its ``actors``; on a cluster one,
    the CPU each actor holds (the nodes' core counts are not known here)."""
    return max(1, (os.cpu_count() or 1) // actors) if local else 1


def models_cache_dir() -> Path:
    """Where a node keeps the models its actors pulled: ``$NLPC_RAY_MODELS_CACHE``, else a folder in the temp dir."""
    import tempfile

    return Path(os.environ.get("NLPC_RAY_MODELS_CACHE") or Path(tempfile.gettempdir()) / "nlpc-ray-models")


def _pulled_card_path(source: ModelSource) -> str:
    """Pull ``source.name`` from ``source.url`` into this node's cache, once per node: the actors of a node take
    turns on a lock, and a model already there with matching hashes is not downloaded again."""
    import fcntl
    import hashlib

    from ..registry import resolve
    from ..storage import pull

    assert source.url is not None
    cache = models_cache_dir() / hashlib.sha256(source.url.encode()).hexdigest()[:16]
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f".{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pull(source.url, cache, [source.name])
    return str(resolve(source.name, cache).path)


# --- input and output -------------------------------------------------------------------------------------------


def _is_url(path: str) -> bool:
    return len(urlsplit(path).scheme) > 1  # a Windows drive letter is not a scheme


def _filesystem(path: str) -> tuple[Any, str]:
    """A pyarrow filesystem and the path inside it: ``None`` and the absolute path for a local path (Ray's workers
    do not share the driver's working directory); for a URL, its fsspec filesystem, opened with the same options
    (credentials, the GCS emulator) as ``nlpc models push``."""
    if not is_url(path):
        local = urlsplit(path).path if urlsplit(path).scheme == "file" else path
        return None, str(Path(local).resolve())
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs, root = _fsspec_filesystem(path)
    return PyFileSystem(FSSpecHandler(fs)), root


def _input_files(path: str) -> tuple[Any, list[str], str]:
    """The input's pyarrow filesystem, files (inside it) and format: the files the local engine would read
    (``sources.expand_inputs``: the file, the table files of a folder, or a glob's matches), all of one format."""
    found = expand_inputs(path)
    formats = {f.format for f in found}
    if len(formats) > 1:
        raise DataError(
            f"the input mixes formats ({', '.join(sorted(formats))}); score one format at a time", path=path
        )
    filesystem, _ = _filesystem(found[0].url)
    return filesystem, [_filesystem(f.url)[1] for f in found], formats.pop()


def _csv_header(filesystem: Any, path: str, fmt: str) -> list[str]:
    """The column names of a CSV/TSV file (its first record), read without scanning the file."""
    import pyarrow.csv as pcsv
    from pyarrow.fs import LocalFileSystem

    fs = filesystem or LocalFileSystem()
    compression = "gzip" if path.lower().endswith(".gz") else None
    with fs.open_input_stream(path, compression=compression) as stream:
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(block_size=1 << 16),
            parse_options=pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True),
        )
        return list(reader.schema.names)


def read_input(ray: Any, path: str) -> Any:
    """A Ray Dataset over ``path`` (a file or a folder of one format). CSV/TSV columns are read as strings, as
    the local engine reads them (``"007"`` stays ``"007"``, ``NA`` stays ``NA``)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    filesystem, files, fmt = _input_files(path)
    common: dict[str, Any] = {"filesystem": filesystem, "file_extensions": _EXTENSIONS[fmt], "num_cpus": 0}
    try:
        if fmt == "parquet":
            return ray.data.read_parquet(files, **common)
        if fmt == "jsonl":
            return ray.data.read_json(files, **common)  # Arrow's reader: newline-delimited, strings kept as strings
        header = _csv_header(filesystem, files[0], fmt)
        return ray.data.read_csv(
            files,
            parse_options=pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=False
            ),
            **common,
        )
    except NlpcError:
        raise
    except Exception as exc:
        raise _local_reading_error(path) or DataError(f"cannot read: {type(exc).__name__}: {exc}", path=path) from None


def _staging_path(output: str) -> str:
    """A hidden sibling of ``output`` to write the parts into before publishing."""
    parent, name = output.rstrip("/").rsplit("/", 1) if "/" in output.rstrip("/") else ("", output.rstrip("/"))
    staged = f".{name}.tmp-{uuid.uuid4().hex[:8]}"
    return f"{parent}/{staged}" if parent else staged


def _fsspec_filesystem(path: str) -> tuple[Any, str]:
    """The fsspec filesystem and inner path of ``path`` (local paths made absolute), opened as the local engine
    opens its files (``sources.filesystem``)."""
    from .sources import filesystem

    fs, root = filesystem(path if _is_url(path) else str(Path(path).resolve()))
    return fs, str(root).rstrip("/")


def _check_output_free(output: str) -> None:
    """A local output is replaced at the end, as the local engine replaces its file; an object-store prefix cannot
    be replaced atomically, so one that already holds objects is refused."""
    if not is_url(output):
        return
    fs, root = _fsspec_filesystem(output)
    if fs.exists(root) and fs.find(root):
        raise ConfigError(f"{output} already holds objects; remove them or choose another --output")


def _part_rows(fs: Any, folder: str) -> tuple[int, int]:
    """The row count and part count of a folder of Parquet parts, from their footers."""
    import pyarrow.parquet as pq

    parts = sorted(p for p in fs.find(folder) if p.endswith(".parquet"))
    rows = 0
    for part in parts:
        with fs.open(part, "rb") as handle:
            rows += pq.ParquetFile(handle).metadata.num_rows
    return rows, len(parts)


def _publish(fs: Any, staged: str, final: str, summary: dict[str, Any]) -> None:
    """Move the finished parts into place and write ``_SUCCESS`` (the run's summary) last. Locally the folder is
    swapped with renames (an old output is moved aside, then removed); on an object store each part is moved
    under the (empty) final prefix, and ``_SUCCESS`` marks the set complete."""
    fs.pipe_file(f"{staged}/{SUCCESS_NAME}", (json.dumps(summary, indent=2) + "\n").encode())
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        from ..artifacts import publish_folder

        publish_folder(Path(staged), Path(final))
        return
    for part in sorted(p for p in fs.find(staged) if not p.endswith(SUCCESS_NAME)):
        fs.mv(part, f"{final}/{part[len(staged) + 1 :]}")
    fs.mv(f"{staged}/{SUCCESS_NAME}", f"{final}/{SUCCESS_NAME}")


# --- the run ----------------------------------------------------------------------------------------------------


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Environment variables set for the block (a local Ray's processes inherit them when it starts)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


RAY_CONNECT_TIMEOUT_S = 10


def check_reachable(address: str) -> None:
    """Refuse a cluster address nothing answers on (a ``ConfigError``): ``ray.init`` would retry it for ever,
    logging a warning every half minute. ``auto`` is left to Ray, which finds the address itself."""
    if address == "auto":
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ConfigError(f"--ray-address is auto, ray://HOST:10001 or HOST:PORT (got '{address}')")
    try:
        socket.create_connection((host, port), timeout=RAY_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot connect to Ray at {address}: {exc.strerror or type(exc).__name__} (nothing answered on "
            f"{host}:{port} within {RAY_CONNECT_TIMEOUT_S} s)"
        ) from None


@contextmanager
def ray_session(address: str | None, cpus: int) -> Iterator[Any]:
    """Ray, connected: to ``address`` (``auto`` or ``ray://host:10001``), or else a local Ray with ``cpus`` logical
    CPUs started here and shut down at the end. A Ray already initialised in this process is used as it is."""
    ray = import_ray()
    # sets gcsfs's options in this environment (see storage/location.py), which a local Ray's workers inherit
    from ..storage import location  # noqa: F401

    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
        try:
            if address:
                check_reachable(address)
                ray.init(address=address, **{k: v for k, v in options.items() if k != "include_dashboard"})
            else:
                # Ray runs its workers at niceness 15; here they are the work itself, so they run at the driver's
                # priority unless RAY_worker_niceness says otherwise.
                with _environment(RAY_worker_niceness=os.environ.get("RAY_worker_niceness", "0")):
                    ray.init(num_cpus=cpus, **options)
        except ConnectionError as exc:
            raise ConfigError(f"cannot connect to Ray at {address}: {exc}") from None
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


_REMOTE_ERROR = re.compile(r"^nlp_classifier\.errors\.(\w+): (.*)$", re.MULTILINE)


def _user_error(exc: BaseException) -> NlpcError | None:
    """The project's own error (bad data, a model failing its hashes) raised in an actor, if that is what failed
    the run. Ray hands the driver the actor's traceback as text (the exception itself is not sent back), so the
    error is found by its class name in the last line that names one."""
    from .. import errors

    found = _REMOTE_ERROR.findall(str(exc))
    if not found:
        return None
    name, message = found[-1]
    kind = getattr(errors, name, None)
    if not (isinstance(kind, type) and issubclass(kind, NlpcError)):
        return None
    error = NlpcError.__new__(kind)
    NlpcError.__init__(error, message)  # the message already names the file, row and column
    return error


LOCAL_CHECK_CHUNK_ROWS = 50_000
_ARROW_ERROR = re.compile(r"^pyarrow\.lib\.Arrow\w*Error: (.*)$|^pyarrow\.lib\.ArrowInvalid: (.*)$", re.MULTILINE)


def _read_error(exc: BaseException, input_path: str) -> DataError | None:
    """A file Arrow could not parse (malformed CSV, invalid JSON), found in the reading task's traceback."""
    found = _ARROW_ERROR.findall(str(exc))
    if not found:
        return None
    message = next(m for m in found[-1] if m)
    return DataError(f"cannot read: {message}", path=input_path)


_RAY_READ_FAILED = "Failed to read CSV file"  # Ray's message when Arrow refuses a CSV file, without Arrow's reason


def _local_reading_error(input_path: str) -> DataError | None:
    """The error the local engine's reader gives for the input (file, row, column and why: bytes that are not
    UTF-8, a UTF-16 file), where Arrow's failure inside Ray gives none; None when that reader takes it. Read
    only after a failure, so a run that works never reads its input twice."""
    from .sources import read_chunks

    for file in expand_inputs(input_path):
        try:
            for _ in read_chunks(file, LOCAL_CHECK_CHUNK_ROWS):
                pass
        except DataError as exc:
            return exc
    return None


def score_with_ray(
    source: ModelSource,
    input_path: str,
    output: str,
    *,
    text_column: str = "text",
    threshold: float | None = None,
    batch_size: int = 256,
    workers: int | None = None,
    address: str | None = None,
    id_column: str | None = None,
    columns: list[str] | None = None,
) -> RayRunResult:
    """Score every row of ``input_path`` on Ray with ``workers`` actors and publish a folder of Parquet parts at
    ``output`` (see the module's docstring). Without ``address`` a local Ray is started for ``workers`` actors
    (default: one per CPU of this machine) and shut down; with one, the actors default to one per CPU of the
    cluster but one."""
    if workers is not None and workers < 1:
        raise ConfigError("--workers must be at least 1")
    check_output(output)
    check_outputs_are_not_inputs(expand_inputs(input_path), {f"--output {output}": output})
    _check_output_free(output)
    started_at = time.perf_counter()
    # Each actor holds one logical CPU; one more stays free for Ray Data's own short tasks (Parquet metadata,
    # listing files), which would otherwise wait forever behind actors holding every CPU. Reading and writing
    # tasks ask for no CPU, so they never wait for the actors either.
    with ray_session(address, (workers or os.cpu_count() or 1) + 1) as ray:
        startup = time.perf_counter() - started_at
        size = workers or max(1, int(ray.cluster_resources().get("CPU", 2)) - 1)
        threads = actor_threads(size, local=address is None)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        context.target_max_block_size = BLOCK_BYTES
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        dataset = read_input(ray, input_path)
        scored = dataset.map_batches(
            BatchScorer,
            batch_size=max(ROWS_PER_CALL, batch_size),
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=size),
            fn_constructor_kwargs={
                "source": source,
                "text_column": text_column,
                "threshold": threshold,
                "batch_size": batch_size,
                "id_column": id_column,
                "columns": columns,
                "input_label": input_path,
                "threads": threads,
            },
            # Ray Data's actors default to max_restarts=-1 and max_task_retries=-1: a killed actor is restarted and
            # the batch it held is run again
            num_cpus=1,
        )
        fs, final = _fsspec_filesystem(output)
        staged = _staging_path(final)
        staged_uri = staged if not _is_url(output) else f"{urlsplit(output).scheme}://{staged}"
        out_fs, out_inner = _filesystem(staged_uri)
        try:
            try:
                scored.write_parquet(out_inner, filesystem=out_fs, ray_remote_args={"num_cpus": 0})
            except NlpcError:
                raise
            except Exception as exc:
                error = _user_error(exc) or _read_error(exc, input_path)
                if error is None and _RAY_READ_FAILED in str(exc):
                    error = _local_reading_error(input_path)
                if error is None:
                    raise
                raise error from None
            rows, parts = _part_rows(fs, staged)
            summary = {
                "rows": rows,
                "parts": parts,
                "input": input_path,
                "model": source.name,
                "text_column": text_column,
                "id_column": id_column,
                "engine": "ray",
                "workers": size,
            }
            _publish(fs, staged, final, summary)
        finally:
            if fs.exists(staged):
                fs.rm(staged, recursive=True)
    return RayRunResult(
        output=output,
        rows=rows,
        parts=parts,
        workers=size,
        seconds=round(time.perf_counter() - started_at, 3),
        startup_seconds=round(startup, 3),
    )
