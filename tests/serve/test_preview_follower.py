"""cli/background_training.py: PreviewFollower against a real API (a preview the API cannot load is tried once,
said so, and the next preview is served), and what BackgroundTraining's status says when its command ends."""

from __future__ import annotations

import shlex
import shutil
import sys
import threading

import pytest
from testkit.api_server import API_KEY, copy_models, live_server, metric
from testkit.tiny_transformers import make_tiny_model

from nlp_classifier.cli.background_training import BackgroundTraining, PreviewFollower
from nlp_classifier.training.background_status import read_status


@pytest.mark.parametrize("breakage", ["file check", "loader"])
def test_a_preview_the_api_cannot_load_is_tried_once_and_the_next_preview_is_served(
    baseline_models_dir, tmp_path, breakage
):
    """Broken so that the API's file check refuses it (the weights no longer match the card), or so that it passes
    that check and fails inside the loader (the card pins the broken weights)."""
    models = copy_models(baseline_models_dir, tmp_path / "models")
    broken = make_tiny_model(models, "minilm_hate_preview", "hate")
    weights = next(p for p in (models / "transformer" / "minilm_hate_preview").iterdir() if p.suffix == ".safetensors")
    weights.write_bytes(weights.read_bytes()[:-10] + b"broken....")  # no longer the file its card pins
    if breakage == "loader":
        weights.write_bytes(b"not a safetensors file")
        broken.hash_files()
        broken.save()
    with live_server(models) as server:
        follower = PreviewFollower(server.url, API_KEY, models, "minilm_hate", "logistic_regression")
        first = follower.check()
        again = [follower.check() for _ in range(3)]
        loads = server.client.get("/metrics").text
        failed_loads = metric(loads, "nlpc_model_loads_total", model="minilm_hate_preview", outcome="error")
        current_after_broken = server.client.get("/models").json()["current_model"]

        shutil.rmtree(models / "transformer" / "minilm_hate_preview")
        card = make_tiny_model(models, "minilm_hate_preview", "hate")
        card.version = "1.1.0"
        card.save()
        fixed = follower.check()
        current = server.client.get("/models").json()["current_model"]
    assert first is not None and first.startswith("minilm_hate_preview 1.0.0 could not be served (503: ")
    assert first.endswith("the API stays on logistic_regression until the next preview")
    assert again == [None, None, None] and failed_loads == 1, "the broken preview was loaded again"
    assert current_after_broken == "logistic_regression"
    assert fixed == "the API now serves minilm_hate_preview 1.1.0, the best checkpoint so far"
    assert current == "minilm_hate_preview" and follower.served == "minilm_hate_preview"


@pytest.mark.parametrize(
    ("exit_status", "state", "message"),
    [(0, "succeeded", "the command succeeded"), (3, "failed", "the command stopped with status 3")],
)
def test_when_the_command_ends_the_status_no_longer_holds_a_message_from_the_run(tmp_path, exit_status, state, message):
    gate = tmp_path / "gate"
    wait = (
        f"import pathlib, sys, time\nwhile not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.05)\n"
        f"sys.exit({exit_status})"
    )
    training = BackgroundTraining(f"{sys.executable} -c {shlex.quote(wait)}", tmp_path / "models", "minilm_hate")
    at_exit: dict = {}
    ended = threading.Event()

    def on_exit(status: int) -> None:
        at_exit.update(read_status(tmp_path / "models"), exit=status)
        ended.set()

    training.start(on_exit)
    training.record("the API now serves minilm_hate_preview 1.0.0, the best checkpoint so far")
    gate.touch()
    assert ended.wait(60), "the command did not end"
    assert at_exit["exit"] == exit_status and at_exit["state"] == state
    assert at_exit["message"] == f"{message}; see {training.log}"
