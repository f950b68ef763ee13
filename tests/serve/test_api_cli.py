"""``nlpc serve`` and ``nlpc run`` as real processes: start-up errors that name the file, settings from a file and
the environment, JSON log lines without the texts, and `nlpc run` serving the API and the web UI until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from testkit.api_server import copy_models, every_default
from testkit.cli import start_cli
from testkit.ports import free_port
from testkit.tiny_transformers import make_tiny_model

from nlp_classifier.errors import ConfigError
from nlp_classifier.serve.settings import load_settings
from nlp_classifier.training.background_status import LOG_NAME, STOPPED, TRAIN, read_status, write_status

CTRL_C_EXIT = (0, 130)  # uvicorn re-raises the signal after its graceful shutdown; nlpc exits 130 on Ctrl-C


def nlpc(*args: str, models: Path, env: dict | None = None, **kwargs) -> subprocess.Popen:
    return start_cli(*args, models_dir=models, env=env, start_new_session=True, **kwargs)


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {proc.stdout.read()} {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become ready")


def interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, then the output; the whole process group is killed if it does not stop."""
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return out, err


@pytest.fixture(scope="module")
def models(baseline_models_dir, tmp_path_factory):
    return copy_models(baseline_models_dir, tmp_path_factory.mktemp("cli") / "models")


# --- settings ----------------------------------------------------------------------------------------------------
def test_settings_come_from_flags_then_environment_then_file(tmp_path, monkeypatch):
    file = tmp_path / "serve.yaml"
    file.write_text("default_model: linear_svm\nmax_text_chars: 50\napi_keys: [a, b]\nport: 9000\n")
    monkeypatch.setenv("NLPC_MAX_TEXT_CHARS", "60")
    monkeypatch.setenv("NLPC_CORS_ORIGINS", "http://a.example, http://b.example")
    settings = load_settings(settings_file=file, port=9100)
    assert settings.default_model == "linear_svm" and settings.api_keys == ["a", "b"]
    assert settings.max_text_chars == 60 and settings.port == 9100
    assert settings.cors_origins == ["http://a.example", "http://b.example"]
    env_file = tmp_path / "serve.env"
    env_file.write_text("NLPC_DEFAULT_MODEL=logistic_regression\nNLPC_REQUIRE_API_KEY=true\n")
    settings = load_settings(settings_file=env_file)
    assert settings.default_model == "logistic_regression" and settings.require_api_key is True


def test_bad_settings_are_named(tmp_path, monkeypatch):
    file = tmp_path / "serve.yaml"
    file.write_text("default_modle: linear_svm\n")
    with pytest.raises(ConfigError, match="default_modle"):
        load_settings(settings_file=file)
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(settings_file=tmp_path / "missing.yaml")
    monkeypatch.setenv("NLPC_MAX_BATCH_SIZE", "0")
    with pytest.raises(ConfigError, match="max_batch_size"):
        load_settings()
    monkeypatch.delenv("NLPC_MAX_BATCH_SIZE")
    # the JSON-valued settings: a value that is not JSON was a pydantic-settings traceback
    for variable in ("NLPC_REVIEW_BANDS", "NLPC_MODEL_BACKENDS"):
        monkeypatch.setenv(variable, "{minilm_hate: 0.3-0.7")
        with pytest.raises(ConfigError, match=f"{variable} is not valid JSON; expected an object such as"):
            load_settings()
        monkeypatch.delenv(variable)


def test_the_preview_poll_interval_comes_from_the_environment_and_a_bad_one_is_named(models, tmp_path, monkeypatch):
    from nlp_classifier.cli.background_training import PREVIEW_POLL_S, preview_poll_seconds

    monkeypatch.delenv("NLPC_PREVIEW_POLL_SECONDS", raising=False)
    assert preview_poll_seconds() == PREVIEW_POLL_S == 15.0
    monkeypatch.setenv("NLPC_PREVIEW_POLL_SECONDS", "2.5")
    assert preview_poll_seconds() == 2.5
    for bad in ("0", "-1", "soon", "nan"):
        monkeypatch.setenv("NLPC_PREVIEW_POLL_SECONDS", bad)
        with pytest.raises(
            ConfigError, match=f"NLPC_PREVIEW_POLL_SECONDS must be a positive number of seconds, not '{bad}'"
        ):
            preview_poll_seconds()
    # nlpc run refuses it before it prepares, serves or trains anything
    present = every_default(models, tmp_path / "models")
    proc = nlpc(
        "run",
        "--no-ui",
        "--port",
        str(free_port()),
        "--train-in-background",
        "true",
        models=present,
        env={"NLPC_PREVIEW_POLL_SECONDS": "soon"},
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "NLPC_PREVIEW_POLL_SECONDS must be a positive number" in out + err
    assert not (present / "background_training.json").exists()


# --- nlpc serve --------------------------------------------------------------------------------------------------
def test_serve_refuses_a_missing_default_model(models):
    proc = nlpc("serve", "--port", str(free_port()), "--default-model", "nope", models=models)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "default_model" in err and "no model named 'nope'" in err and str(models) in err


def test_serve_refuses_a_tampered_model_file_and_names_it(models, tmp_path):
    broken = copy_models(models, tmp_path / "models")
    artifact = broken / "baselines" / "linear_svm_tfidf.joblib"
    with artifact.open("ab") as fh:
        fh.write(b"tampered")
    proc = nlpc("serve", "--port", str(free_port()), "--default-model", "linear_svm", models=broken)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and str(artifact) in err and "sha256" in err


def test_serve_refuses_a_taken_port_before_it_loads_any_model(models, tmp_path):
    """The port is bound first: with a broken model and a taken port, the port is what it names (a model's load
    time, seconds for a transformer, is not spent on a server that cannot start)."""
    broken = copy_models(models, tmp_path / "models")
    with (broken / "baselines" / "linear_svm_tfidf.joblib").open("ab") as fh:
        fh.write(b"tampered")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        proc = nlpc("serve", "--port", str(port), "--default-model", "linear_svm", models=broken)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port" in " ".join(err.split())
    assert "sha256" not in err


def not_a_local_address() -> str:
    """A documentation address (RFC 5737) that no interface of this machine has: binding it fails."""
    for address in ("198.51.100.7", "203.0.113.7", "192.0.2.77"):
        with socket.socket() as probe:
            try:
                probe.bind((address, 0))
            except OSError:
                return address
    raise AssertionError("every documentation address is local here")


def test_serve_on_an_address_this_machine_does_not_have_points_at_the_host_not_the_port(models):
    """The message used to say to choose another --port."""
    address = not_a_local_address()
    proc = nlpc("serve", "--host", address, "--port", str(free_port()), models=models)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err[-2000:]
    message = " ".join(err.split())
    assert f"cannot listen on {address}:" in message and message.endswith("; check the host"), message
    assert "choose another" not in message


@pytest.mark.parametrize("database", ["SQLite under a file", "unsupported"])
def test_serve_refuses_a_bad_database_url_in_one_line(models, tmp_path, database):
    """It used to fail in uvicorn's start-up with a logged traceback, after printing the API's address."""
    (tmp_path / "blocker").write_text("a file, not a folder\n")
    url = f"sqlite:///{tmp_path / 'blocker' / 'nlpc.db'}" if database == "SQLite under a file" else "mysql://x@h/y"
    proc = nlpc("serve", "--port", str(free_port()), models=models, env={"NLPC_DATABASE_URL": url})
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err[-2000:]
    assert "Traceback" not in err and "API on" not in err
    expected = "lies under" if database == "SQLite under a file" else "unsupported database 'mysql'"
    assert "error: NLPC_DATABASE_URL: " in err and expected in " ".join(err.split())


def test_serve_runs_with_settings_and_logs_json_without_texts(models, tmp_path):
    settings = tmp_path / "serve.yaml"
    settings.write_text("default_model: linear_svm\nmax_text_chars: 50\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = nlpc(
        "serve",
        "--port",
        str(port),
        "--settings",
        str(settings),
        models=models,
        env={"NLPC_MAX_TEXTS_PER_REQUEST": "2"},
    )
    try:
        wait_ready(url, proc)
        assert httpx.get(f"{url}/health").json()["current_model"] == "linear_svm"
        ok = httpx.post(f"{url}/predict", json={"text": "very secret sentence"}, headers={"X-Request-ID": "cli-1"})
        assert ok.status_code == 200 and ok.headers["x-request-id"] == "cli-1"
        too_long = httpx.post(f"{url}/predict", json={"text": "x" * 51})
        assert too_long.status_code == 422 and "limit is 50" in too_long.text
        too_many = httpx.post(f"{url}/predict", json={"texts": ["a", "b", "c"]})
        assert too_many.status_code == 422 and "limit is 2" in too_many.text
    finally:
        out, err = interrupt(proc)
    assert proc.returncode in CTRL_C_EXIT
    assert f"API on {url}" in err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert len(lines) >= 5 and all({"ts", "level", "event"} <= set(entry) for entry in lines)
    assert lines[-1]["event"].startswith("Finished server process") and any(e["event"] == "api stopped" for e in lines)
    [request] = [e for e in lines if e.get("request_id") == "cli-1"]
    assert request["path"] == "/predict" and request["status"] == 200 and request["models"] == ["linear_svm"]
    assert "very secret sentence" not in err


# --- nlpc run ----------------------------------------------------------------------------------------------------
def test_run_serves_the_api_and_the_ui_and_stops_both_on_ctrl_c(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    api_port, ui_port = free_port(), free_port()
    proc = nlpc("run", "--port", str(api_port), "--ui-port", str(ui_port), models=present)
    api, ui = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
    try:
        wait_ready(api, proc)
        assert httpx.post(f"{api}/predict", json={"text": "hello there"}).status_code == 200
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{ui}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the web UI did not start"
            time.sleep(0.5)
    finally:
        out, err = interrupt(proc)
    assert proc.returncode in CTRL_C_EXIT, err[-3000:]
    assert f"API     {api}" in out and f"web UI  {ui}" in out and "API key" in out
    assert "current: logistic_regression_hate_char" in out and "`make minilm` trains minilm_hate" in out
    for url in (f"{api}/ready", f"{ui}/_stcore/health"):
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=2)


# --- nlpc run --train-in-background ------------------------------------------------------------------------------
# The command `make run` passes (`make minilm`) trains for an hour; these stand-ins save a tiny carded minilm_hate
# (testkit.tiny_transformers) or wait, and record the priority they run at and their process id.
TRAIN_SCRIPT = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
Path({record!r}).write_text(f"{{os.getpid()}} {{os.nice(0)}}")
print("training the stand-in", flush=True)
if {wait}:
    time.sleep(300)
while {go!r} and not Path({go!r}).exists():
    time.sleep(0.1)
if {status}:
    sys.exit({status})
from testkit.tiny_transformers import make_tiny_model
make_tiny_model(Path(os.environ["NLPC_MODELS_DIR"]), "minilm_hate", "hate")
"""


def background_command(
    tmp_path: Path, *, wait: bool = False, status: int = 0, go: Path | None = None
) -> tuple[str, Path]:
    """A stand-in training command: it saves the tiny model at once, or after ``go`` appears, or waits for good
    (``wait``), or fails with ``status``."""
    record = tmp_path / "training.txt"
    script = tmp_path / "train.py"
    tests = str(Path(__file__).resolve().parents[1])
    script.write_text(
        TRAIN_SCRIPT.format(tests=tests, record=str(record), wait=wait, status=status, go=str(go) if go else "")
    )
    return f"{sys.executable} {script}", record


def run_in_background(present: Path, command: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = nlpc("run", "--no-ui", "--port", str(port), "--train-in-background", command, models=present, env=env)
    api = f"http://127.0.0.1:{port}"
    wait_ready(api, proc)
    return proc, api


def wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_run_trains_the_transformer_in_the_background_at_low_priority_and_then_serves_it(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    command, record = background_command(tmp_path)
    proc, api = run_in_background(present, command)
    try:
        wait_for(lambda: httpx.get(f"{api}/models").json()["current_model"] == "minilm_hate", "no switch")
        answer = httpx.post(f"{api}/predict", json={"text": "I am a gay man and proud of it"}).json()
        wait_for(lambda: (training_message(api) or "").startswith("minilm_hate is ready"), "no switch recorded")
        training = httpx.get(f"{api}/models/training").json()
    finally:
        out, err = interrupt(proc)
    assert proc.returncode in CTRL_C_EXIT, err[-3000:]
    assert answer["model"] == "minilm_hate"
    _, niceness = record.read_text().split()
    assert int(niceness) == 19
    log = present / "background_training.log"
    assert "training the stand-in" in log.read_text()
    assert f"training minilm_hate in the background at low priority: `{command}` (log {log})" in " ".join(out.split())
    assert "minilm_hate is ready: the API now serves it (was logistic_regression_hate_char)" in out
    assert training["state"] == "succeeded" and training["exit_status"] == 0
    assert training["model"] == "minilm_hate" and training["command"] == command and training["log"] == str(log)
    assert training["message"] == "minilm_hate is ready: the API now serves it (was logistic_regression_hate_char)"
    assert training["last_line"] and training["last_line"] in log.read_text() and training["description"] is None


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_run_stops_the_background_training_when_it_stops(models, tmp_path, stop_signal):
    present = every_default(models, tmp_path / "models")
    command, record = background_command(tmp_path, wait=True)
    proc, api = run_in_background(present, command)
    try:
        wait_for(record.exists, "the background command did not start")
        pid = int(record.read_text().split()[0])
        training = httpx.get(f"{api}/models/training").json()
        assert training["state"] == "running" and training["model"] == "minilm_hate"
        assert training["description"].startswith("minilm_hate is being trained in the background")
        proc.send_signal(stop_signal)  # Ctrl-C, `kill`, a closed terminal
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode in (*CTRL_C_EXIT, 128 + signal.SIGTERM)

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(gone, "the background training outlived nlpc run", timeout=20)
    assert not (present / "transformer" / "minilm_hate").exists()
    assert read_status(present)["state"] == "stopped"


def test_a_second_run_waits_for_the_training_of_the_first_even_when_it_was_killed_and_then_switches(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    go = tmp_path / "go"
    command, record = background_command(tmp_path, go=go)
    first, _ = run_in_background(present, command)
    try:
        wait_for(record.exists, "the background command did not start")
        pid = record.read_text().split()[0]
        second, api = run_in_background(present, command)
        try:
            first.kill()  # SIGKILL: no cleanup, the training (in a session of its own) goes on, an orphan
            first.communicate(timeout=30)
            training = httpx.get(f"{api}/models/training").json()
            assert training["state"] == "running"  # the orphan still holds the log
            go.touch()  # the orphan finishes and saves minilm_hate
            wait_for(lambda: httpx.get(f"{api}/models").json()["current_model"] == "minilm_hate", "no switch")
            wait_for(lambda: httpx.get(f"{api}/models/training").json()["state"] == "succeeded", "no end recorded")
            training = httpx.get(f"{api}/models/training").json()
        finally:
            second_out, _ = interrupt(second)
    finally:
        if first.poll() is None:
            interrupt(first)
    assert record.read_text().split()[0] == pid  # the second never started the command itself
    log = present / "background_training.log"
    assert (
        f"minilm_hate is being trained by another process (log {log}); serving without it, and switching to it "
        "when that training has saved it"
    ) in " ".join(second_out.split())
    assert "minilm_hate is ready: the API now serves it (was logistic_regression_hate_char)" in second_out
    assert training["message"] == "minilm_hate is ready: the API now serves it (was logistic_regression_hate_char)"


def test_run_says_when_background_training_fails_and_keeps_serving(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    command, record = background_command(tmp_path, status=3)
    proc, api = run_in_background(present, command)
    try:
        wait_for(record.exists, "the background command did not start")
        wait_for(lambda: httpx.get(f"{api}/models/training").json()["state"] == "failed", "no failure recorded")
        training = httpx.get(f"{api}/models/training").json()
        current = httpx.get(f"{api}/models").json()["current_model"]
    finally:
        out, err = interrupt(proc)
    assert current == "logistic_regression_hate_char" and training["exit_status"] == 3
    log = present / "background_training.log"
    assert f"training of minilm_hate stopped with status 3; see {log}" in " ".join(out.split())


def test_run_keeps_a_default_model_chosen_on_purpose_when_the_transformer_is_ready(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    command, _ = background_command(tmp_path)
    proc, api = run_in_background(present, command, env={"NLPC_DEFAULT_MODEL": "linear_svm_char"})
    try:
        wait_for(lambda: (present / "transformer" / "minilm_hate" / "model_card.json").exists(), "no stand-in")
        time.sleep(2)
        current = httpx.get(f"{api}/models").json()["current_model"]
    finally:
        out, err = interrupt(proc)
    assert current == "linear_svm_char"
    assert "minilm_hate is ready; the API stays on linear_svm_char, the default_model setting" in out


# A stand-in for a training run with --preview (training/preview.py): after each gate file it publishes a new
# minilm_hate_preview (written whole, like publish_folder), then minilm_hate in the preview's place, and then it
# ends when told, as `make minilm` ends after the export and calibration that follow the training.
PREVIEW_SCRIPT = """
import os, shutil, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from testkit.tiny_transformers import make_tiny_model
models = Path(os.environ["NLPC_MODELS_DIR"])

def publish(name, version="1.0.0"):
    staging = Path(tempfile.mkdtemp(prefix=".", dir=models))
    card = make_tiny_model(staging, name, "hate")
    card.version = version
    card.save()
    final = models / "transformer" / name
    shutil.rmtree(final, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging / "transformer" / name, final)
    shutil.rmtree(staging)

def gate(name):
    while not Path({gates!r}, name).exists():
        time.sleep(0.1)

for i, name in enumerate(("first", "second")):
    gate(name)
    publish("minilm_hate_preview", f"1.{{i}}.0")
gate("saved")
publish("minilm_hate")
shutil.rmtree(models / "transformer" / "minilm_hate_preview")
gate("end")
"""


def start_preview_training(models: Path, tmp_path: Path) -> tuple[subprocess.Popen, str, Path]:
    """``nlpc run`` with the preview stand-in as its background training, looking for previews every 0.3 s."""
    gates, script = tmp_path / "gates", tmp_path / "preview.py"
    gates.mkdir()
    tests = str(Path(__file__).resolve().parents[1])
    script.write_text(PREVIEW_SCRIPT.format(tests=tests, gates=str(gates)))
    env = {"NLPC_PREVIEW_POLL_SECONDS": "0.3", "NLPC_API_KEYS": "test-key"}
    proc, api = run_in_background(models, f"{sys.executable} {script}", env=env)
    return proc, api, gates


def test_run_serves_each_preview_of_the_training_then_the_model_as_saved_then_the_finished_model(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    proc, api, gates = start_preview_training(present, tmp_path)

    def listed() -> dict:
        return httpx.get(f"{api}/models").json()

    def predicted_by() -> str:
        return httpx.post(f"{api}/predict", json={"text": "I am a gay man and proud of it"}).json()["model"]

    try:
        assert listed()["current_model"] == "logistic_regression_hate_char"
        (gates / "first").touch()
        wait_for(lambda: listed()["current_model"] == "minilm_hate_preview", "no switch to the preview")
        first, first_answer = listed(), predicted_by()
        (gates / "second").touch()  # a new preview: the API loads it in the old one's place
        wait_for(lambda: "minilm_hate_preview 1.1.0" in (training_message(api) or ""), "no switch to the second")
        second, second_answer = listed(), predicted_by()
        (gates / "saved").touch()  # the model is saved and the preview removed; the command goes on
        wait_for(lambda: listed()["current_model"] == "minilm_hate", "no switch to the saved model")
        saved, saved_answer = listed(), predicted_by()
        (gates / "end").touch()
        # the state turns to succeeded a moment before the switch that follows is recorded in the message
        wait_for(lambda: (training_message(api) or "").startswith("minilm_hate is ready"), "no end recorded")
        done = httpx.get(f"{api}/models/training").json()
    finally:
        out, err = interrupt(proc)
    assert proc.returncode in CTRL_C_EXIT, err[-3000:]
    assert first_answer == second_answer == "minilm_hate_preview" and saved_answer == "minilm_hate"
    assert first["notice"].startswith(
        "minilm_hate_preview is the best checkpoint so far of minilm_hate's training, with its threshold tuned on the "
        "validation split; its scores are not calibrated and it has not been tested. minilm_hate is being trained"
    )
    assert second["models"]["minilm_hate_preview"]["version"] == "1.1.0"
    assert saved["notice"].endswith("Until then minilm_hate is served as saved: its scores are not calibrated yet.")
    assert "minilm_hate_preview" not in saved["models"]  # it was removed, and is no longer served
    for line in (
        "the API now serves minilm_hate_preview 1.0.0, the best checkpoint so far",
        "the API now serves minilm_hate_preview 1.1.0, the best checkpoint so far",
        "the API now serves minilm_hate as saved, until what follows its training has finished it",
        "minilm_hate is ready: the API now serves the finished model (switched from minilm_hate to minilm_hate",
    ):
        assert line in out
    assert done["state"] == "succeeded"
    assert done["message"].startswith("minilm_hate is ready: the API now serves the finished model")


def test_run_leaves_a_model_someone_chose_while_the_training_publishes_previews(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    proc, api, gates = start_preview_training(present, tmp_path)
    try:
        (gates / "first").touch()
        wait_for(lambda: httpx.get(f"{api}/models").json()["current_model"] == "minilm_hate_preview", "no switch")
        # someone chooses a model: the next preview and the finished model leave it alone
        chosen = httpx.post(
            f"{api}/models/switch", json={"model_name": "linear_svm_char"}, headers={"X-API-Key": "test-key"}
        )
        (gates / "second").touch()
        wait_for(lambda: "stays on the model chosen since" in (training_message(api) or ""), "the preview not seen")
        for gate in ("saved", "end"):
            (gates / gate).touch()
        wait_for(lambda: (training_message(api) or "").startswith("minilm_hate is ready"), "no end recorded")
        done = httpx.get(f"{api}/models/training").json()
        current = httpx.get(f"{api}/models").json()["current_model"]
    finally:
        out, err = interrupt(proc)
    assert chosen.status_code == 200 and current == "linear_svm_char"
    assert "minilm_hate_preview 1.1.0 is there; the API stays on the model chosen since" in out
    assert done["state"] == "succeeded"
    assert done["message"] == "minilm_hate is ready; the API stays on linear_svm_char, which was chosen since"


def test_run_serves_the_preview_a_stopped_run_left_while_it_continues_that_run(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    make_tiny_model(present, "minilm_hate_preview", "hate")
    command, record = background_command(tmp_path, wait=True)
    proc, api = run_in_background(present, command)
    try:
        wait_for(record.exists, "the background command did not start")
        listed = httpx.get(f"{api}/models").json()
    finally:
        out, err = interrupt(proc)
    assert listed["current_model"] == "minilm_hate_preview"
    assert listed["notice"].startswith("minilm_hate_preview is the best checkpoint so far of minilm_hate's training")
    printed = " ".join(out.split())
    assert "models current: minilm_hate_preview;" in printed
    assert "note minilm_hate_preview is the best checkpoint so far of minilm_hate's training" in printed


def training_message(api: str) -> str | None:
    return httpx.get(f"{api}/models/training").json()["message"]


def test_run_trains_nothing_in_the_background_when_the_transformer_is_there(models, tmp_path):
    present = every_default(models, tmp_path / "models")
    make_tiny_model(present, "minilm_hate", "hate")
    command, record = background_command(tmp_path)
    proc, api = run_in_background(present, command)
    try:
        current = httpx.get(f"{api}/models").json()["current_model"]
    finally:
        out, err = interrupt(proc)
    assert current == "minilm_hate" and "in the background" not in out
    assert not record.exists()


# The finishing stand-in waits for ``go``, then runs the first half of `make minilm-finish` for real (the int8 export,
# checked on 100 test texts instead of all): the model it finishes is then served by its int8 export, not torch.
FINISH_SCRIPT = """
import os, sys, time
from pathlib import Path
Path({record!r}).write_text(f"{{os.getpid()}} {{os.nice(0)}}")
print("finishing the stand-in", flush=True)
while not Path({go!r}).exists():
    time.sleep(0.1)
from nlp_classifier.export import export_onnx
export_onnx("minilm_hate", models_dir=os.environ["NLPC_MODELS_DIR"], quantize="int8", max_drop_points=100,
            check_limit=100)
"""


def test_run_finishes_a_model_a_stopped_run_saved_and_then_serves_the_finished_model(models, tmp_path):
    """`make run` stopped during the export that follows the training: minilm_hate is saved but has no int8 export
    (nor calibration). The next `nlpc run` serves it as saved, runs the finishing command (not the training) at low
    priority, and then serves the finished model."""
    present = every_default(models, tmp_path / "models")
    card = make_tiny_model(present, "minilm_hate", "hate")
    saved = datetime.fromisoformat(card.created_at)
    write_status(
        present,
        new_run=True,
        state=STOPPED,
        model="minilm_hate",
        purpose=TRAIN,
        command="make minilm",
        log=str(present / LOG_NAME),
        started_at=(saved - timedelta(hours=1)).isoformat(),
        finished_at=(saved + timedelta(minutes=2)).isoformat(),
    )
    train, trained = background_command(tmp_path)
    go, record, script = tmp_path / "go", tmp_path / "finishing.txt", tmp_path / "finish.py"
    script.write_text(FINISH_SCRIPT.format(record=str(record), go=str(go)))
    finish = f"{sys.executable} {script}"
    port = free_port()
    args = ("run", "--no-ui", "--port", str(port), "--train-in-background", train, "--finish-in-background", finish)
    proc, api = nlpc(*args, models=present), f"http://127.0.0.1:{port}"

    def served_backend() -> str | None:
        listed = httpx.get(f"{api}/models").json()
        return listed["models"][listed["current_model"]]["backend"]

    try:
        wait_ready(api, proc)
        wait_for(record.exists, "the finishing command did not start")
        finishing = httpx.get(f"{api}/models/training").json()
        before = (httpx.get(f"{api}/models").json()["current_model"], served_backend())
        go.touch()
        wait_for(lambda: served_backend() == "onnx-int8", "the finished model was not served", timeout=180)
        wait_for(lambda: (training_message(api) or "").startswith("minilm_hate is ready"), "no switch recorded")
        training = httpx.get(f"{api}/models/training").json()
        answer = httpx.post(f"{api}/predict", json={"text": "I am a gay man and proud of it"}).json()
    finally:
        out, err = interrupt(proc)
    assert proc.returncode in CTRL_C_EXIT, err[-3000:]
    assert before == ("minilm_hate", "torch")  # served as saved meanwhile
    assert finishing["state"] == "running" and finishing["purpose"] == "finish" and finishing["command"] == finish
    assert finishing["description"].startswith("minilm_hate was saved, but what follows its training")
    assert not trained.exists()  # nothing was trained
    _, niceness = record.read_text().split()
    assert int(niceness) == 19
    log = present / LOG_NAME
    assert (
        f"minilm_hate was saved, but a stopped run did not finish it (the int8 export and the calibration): "
        f"finishing it in the background at low priority: `{finish}` (log {log})"
    ) in " ".join(out.split())
    assert training["state"] == "succeeded" and training["message"] == (
        "minilm_hate is ready: the API now serves the finished model (switched from minilm_hate to minilm_hate; "
        "loaded minilm_hate 1.0.0 anew: it was saved again since it was loaded)"
    )
    assert answer["model"] == "minilm_hate"


# --- nlpc run --pull (the `gcs` fixture: tests/conftest.py) -----------------------------------------------------
def test_run_pulls_the_transformer_a_team_published_and_serves_it_without_training(models, tmp_path, gcs):
    """`NLPC_MODELS_URL=gs://... make run` on a fresh machine: minilm_hate comes from the team's model set, so the
    API serves it from the start and nothing is trained; the models the machine has are kept as they are."""
    from testkit.gcs import new_bucket

    from nlp_classifier.registry import bump_model, list_cards
    from nlp_classifier.storage import push

    publisher = copy_models(models, tmp_path / "publisher")
    make_tiny_model(publisher, "minilm_hate", "hate")
    bump_model("linear_svm", "minor", publisher)  # newer in the set than here: still not replaced
    url = f"gs://{new_bucket('team')}/hate"
    push(url, publisher)
    here = every_default(models, tmp_path / "models")
    command, record = background_command(tmp_path)
    proc, api = run_in_background(here, command, env={"NLPC_MODELS_URL": url})
    try:
        current = httpx.get(f"{api}/models").json()["current_model"]
        answer = httpx.post(f"{api}/predict", json={"text": "have a lovely day with your family"}).json()
    finally:
        out, err = interrupt(proc)
    assert proc.returncode in CTRL_C_EXIT, err[-3000:]
    assert current == "minilm_hate" and answer["model"] == "minilm_hate"
    assert f"pulled: minilm_hate from {url}" in out and "trained:" not in out
    assert "in the background" not in out and "TF-IDF fallback" not in out and not record.exists()
    cards = {card.name: card for card in list_cards(here)}
    assert cards["linear_svm"].version == "1.0.0" and cards["minilm_hate"].verify() == []


def test_prepare_names_the_model_set_it_could_not_pull_and_trains_nothing(models, tmp_path, gcs):
    from testkit.cli import run_cli
    from testkit.gcs import new_bucket

    url = f"gs://{new_bucket('empty')}/nothing"
    result = run_cli("prepare", models_dir=tmp_path / "models", env={"NLPC_MODELS_URL": url})
    assert result.returncode == 2
    message = " ".join(result.stdout.split() + result.stderr.split())
    assert f"nothing published at {url}" in message and "unset it to train the default models here instead" in message
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("*.card.json"))
    # with every default model here the set is not even read: offline, the same command just says so
    present = every_default(models, tmp_path / "present")
    make_tiny_model(present, "minilm_hate", "hate")
    result = run_cli("prepare", models_dir=present, env={"NLPC_MODELS_URL": "gs://no-such-bucket-anywhere/set"})
    assert result.returncode == 0 and "default models are present" in result.stdout, result.stderr


@pytest.mark.parametrize("taken", ["--port", "--ui-port"])
def test_run_refuses_a_taken_port_before_it_prepares_any_model(tmp_path, taken):
    """On a fresh machine the default models take minutes to train; a port someone else holds is said at once, and
    nothing is trained."""
    from testkit.cli import run_cli

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        free = free_port()  # for the other of the two
        ports = {"--port": port, "--ui-port": free} if taken == "--port" else {"--port": free, "--ui-port": port}
        flags = [str(part) for item in ports.items() for part in item]
        models = tmp_path / "models"
        result = run_cli("run", *flags, models_dir=models, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another {taken}" in message
    assert "trained:" not in result.stdout and not models.exists()
