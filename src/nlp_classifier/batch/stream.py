"""The local streaming engine of ``nlpc predict --input``: read the inputs chunk by chunk (``sources``), score each
chunk (``frame.score_chunk``), write it as a part (``sinks``) and record it in the resume manifest (``manifest``);
at the end join the parts into the output and remove the staging folder. Memory holds one chunk at a time.

A run that fails or is killed leaves no output, only ``<output>.partial/`` (the finished parts and the manifest; a
run that fails before its first chunk is finished leaves nothing, since there is nothing to resume);
``resume=True`` continues after the last recorded chunk, and the joined output is the same as an uninterrupted
run's."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from ..classifier import Classifier
from ..errors import ConfigError, DataError
from ..progress import RowProgress, console
from .frame import SKIPPED_COLUMNS, score_chunk
from .manifest import ChunkRecord, Manifest, Staging
from .options import StreamOptions
from .sinks import ErrorsSink, PartSink, errors_url
from .sources import Chunk, InputFile, check_outputs_are_not_inputs, expand_inputs, read_chunks


@dataclass
class StreamResult:
    """What a run did: rows read, scored (written) and skipped, chunks scored now and taken from a partial run."""

    output: str
    rows_read: int = 0
    rows_scored: int = 0
    rows_skipped: int = 0
    chunks: int = 0
    chunks_resumed: int = 0
    seconds: float = 0.0
    errors_file: str | None = None
    files: list[str] = field(default_factory=list)


def run_settings(classifier: Classifier, output: str, options: StreamOptions) -> dict:
    """What must not change between a partial run and its ``--resume``: the model, the scoring and the chunking."""
    card = classifier.card
    return {
        "model": classifier.name,
        "model_version": card.version,
        "model_files": dict(card.files),
        "implementation": type(classifier).__name__,
        "threshold": options.threshold,
        "text_column": options.text_column,
        "id_column": options.id_column,
        "columns": list(options.columns) if options.columns is not None else None,
        "on_error": options.on_error,
        "chunk_rows": options.chunk_rows,
        "output": output,
    }


def _conform(scored: pd.DataFrame, columns: list[str], chunk: Chunk) -> pd.DataFrame:
    """The chunk's output in the run's columns (set by the first chunk): JSONL records may lack a key (null),
    but a column the first chunk did not have cannot join the output."""
    if list(scored.columns) == columns:
        return scored
    extra = [c for c in scored.columns if c not in columns]
    if extra:
        raise DataError(
            f"rows {chunk.first_row} to {chunk.first_row + chunk.n_rows - 1} have columns the first rows of the "
            f"input did not have ({', '.join(map(str, extra))}); choose the columns to keep with --columns",
            path=chunk.file.url,
            column=str(extra[0]),
        )
    return scored.reindex(columns=columns)


def _bad_rows(chunk: Chunk) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": [chunk.file.url] * len(chunk.bad),
            "row": [row for row, _ in chunk.bad],
            "id": [None] * len(chunk.bad),
            "column": [None] * len(chunk.bad),
            "reason": [reason for _, reason in chunk.bad],
        },
        columns=SKIPPED_COLUMNS,
    )


def stream_predict(classifier: Classifier, input_spec: str, output: str, options: StreamOptions) -> StreamResult:
    """Score every row of ``input_spec`` (a file, directory or glob; local or fsspec URL) into ``output``."""
    options.check()
    started = time.perf_counter()
    files = expand_inputs(input_spec)
    outputs = {f"--output {output}": output}
    if options.on_error == "skip":
        skipped = errors_url(output)
        outputs[f"the errors file {skipped} of --output {output}"] = skipped
    check_outputs_are_not_inputs(files, outputs)
    staging = Staging(output)
    sink = PartSink(output, staging)
    errors = ErrorsSink(output, staging) if options.on_error == "skip" else None
    if staging.exists() and not options.resume:
        console.print(
            f"discarding the partial run at {staging.url} (pass --resume to continue it)",
            highlight=False,
            soft_wrap=True,
        )
        staging.remove()
    elif options.resume and not staging.exists():
        console.print(f"no partial run at {staging.url}: starting from the first row", highlight=False, soft_wrap=True)
    manifest = Manifest.start(staging, run_settings(classifier, output, options), files, options.resume)
    manifest.save()  # the staging folder says from the start which run it belongs to
    result = StreamResult(output=output, files=[f.url for f in files])
    if manifest.chunks:
        finished = manifest.ordered()
        console.print(
            f"resuming {staging.url}: {len(finished)} chunks ({sum(c.n_rows for c in finished):,} input rows) "
            "already done",
            highlight=False,
            soft_wrap=True,
        )
    try:
        seq = _score_files(classifier, files, options, manifest, sink, errors, result)
    except BaseException:
        if not manifest.chunks:  # nothing finished, so nothing to resume: leave no staging folder behind
            staging.remove()
        raise
    if len(manifest.chunks) != seq:
        raise ConfigError(f"--resume: the partial run at {staging.url} has more chunks than the input: start over")
    records = manifest.ordered()
    sink.publish([r.part for r in records])
    if errors is not None:
        errors.publish([r.errors for r in records])
        result.errors_file = errors.url
    staging.remove()
    result.seconds = time.perf_counter() - started
    return result


def _score_files(
    classifier: Classifier,
    files: list[InputFile],
    options: StreamOptions,
    manifest: Manifest,
    sink: PartSink,
    errors: ErrorsSink | None,
    result: StreamResult,
) -> int:
    """Score every chunk of ``files`` that the manifest does not hold yet, writing each as a part and recording it;
    counts go into ``result``. Returns the number of chunks of the input."""
    total_bytes = sum(max(f.size, 1) for f in files)
    bytes_before = 0
    seq = 0
    with RowProgress(f"Scoring with {classifier.name}") as progress:
        for file_index, file in enumerate(files):
            for chunk in read_chunks(file, options.chunk_rows, skip_bad=options.on_error == "skip"):
                done = (bytes_before + chunk.fraction * max(file.size, 1)) / total_bytes
                where = f"{file.url} rows {chunk.first_row:,}-{chunk.first_row + max(chunk.n_rows, 1) - 1:,}"
                record = manifest.chunks.get(seq)
                if record is not None:
                    if not record.same_range(file_index, chunk.index, chunk.first_row, chunk.n_rows):
                        raise ConfigError(
                            f"--resume: chunk {seq} ({where}) differs from the partial run's record of it: "
                            "run without --resume to start over"
                        )
                    result.chunks_resumed += 1
                    result.rows_read += record.rows_written + record.rows_skipped
                    result.rows_scored += record.rows_written
                    result.rows_skipped += record.rows_skipped
                    progress.advance(0, done, f"chunk {seq + 1} ({where}): done in the partial run")
                    seq += 1
                    continue
                scored = score_chunk(
                    classifier,
                    chunk.frame,
                    options.text_column,
                    options.id_column,
                    options.columns,
                    options.on_error,
                    source=file.url,
                    rows=chunk.rows,
                    threshold=options.threshold,
                    batch_size=options.batch_size,
                )
                if manifest.columns is None:
                    manifest.columns = [str(c) for c in scored.scored.columns]
                frame = _conform(scored.scored, manifest.columns, chunk)
                skipped = pd.concat([_bad_rows(chunk), scored.skipped]) if chunk.bad else scored.skipped
                skipped = skipped.sort_values("row", kind="stable") if chunk.bad else skipped
                part = sink.write_part(seq, frame)
                errors_part = errors.write_part(seq, skipped) if errors is not None else None
                manifest.record(
                    ChunkRecord(
                        seq=seq,
                        file=file_index,
                        chunk=chunk.index,
                        first_row=chunk.first_row,
                        n_rows=chunk.n_rows,
                        rows_written=len(frame),
                        rows_skipped=len(skipped),
                        part=part,
                        errors=errors_part,
                    )
                )
                result.chunks += 1
                result.rows_read += len(frame) + len(skipped)
                result.rows_scored += len(frame)
                result.rows_skipped += len(skipped)
                extra = f", {len(skipped):,} skipped" if len(skipped) else ""
                progress.advance(
                    len(frame) + len(skipped), done, f"chunk {seq + 1} ({where}): {len(frame):,} scored{extra}"
                )
                seq += 1
            bytes_before += max(file.size, 1)
    return seq
