"""PreviewFollower (cli/background_training.py) against a real API: a preview the API cannot load is tried once,
said so, and the next preview is served."""

from __future__ import annotations

import re
import shutil

import httpx
from testkit.api_server import API_KEY, copy_models, live_server
from testkit.tiny_transformers import make_tiny_model

from nlp_classifier.cli.background_training import PreviewFollower


def preview_loads(url: str, outcome: str) -> float:
    """How many times the API has loaded minilm_hate_preview with ``outcome``, from its Prometheus metrics."""
    text = httpx.get(f"{url}/metrics").text
    found = re.search(
        r'nlpc_model_loads_total\{[^}]*model="minilm_hate_preview"[^}]*outcome="' + outcome + r'"[^}]*\} (\S+)', text
    )
    return float(found.group(1)) if found else 0.0


def test_a_preview_the_api_cannot_load_is_tried_once_and_the_next_preview_is_served(baseline_models_dir, tmp_path):
    models = copy_models(baseline_models_dir, tmp_path / "models")
    card = make_tiny_model(models, "minilm_hate_preview", "hate")
    weights = next(p for p in (models / "transformer" / "minilm_hate_preview").iterdir() if p.suffix == ".safetensors")
    weights.write_bytes(weights.read_bytes()[:-10] + b"broken....")  # no longer the file its card pins
    with live_server(models) as server:
        follower = PreviewFollower(server.url, API_KEY, models, "minilm_hate", "logistic_regression")
        first = follower.check()
        again = [follower.check() for _ in range(3)]
        failed_loads = preview_loads(server.url, "error")
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
