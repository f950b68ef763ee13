"""Concurrency against a live uvicorn: switching the current model while 8 clients send requests, coalescing of
concurrent requests into micro-batches, lazy loading once, and the bound on models held in memory."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from testkit.api_server import API_KEY, copy_models, live_server, metric

import nlp_classifier

TEXTS = [
    "you are a disgusting idiot",
    "have a great day",
    "nobody likes you, loser",
    "the game was fun tonight",
    "shut your mouth you fool",
    "thanks for sharing this",
    "go away you pathetic creep",
    "see you tomorrow",
]
MODELS = ("logistic_regression", "linear_svm")


@pytest.fixture(scope="module")
def models(baseline_models_dir, tmp_path_factory):
    return copy_models(baseline_models_dir, tmp_path_factory.mktemp("switching") / "models")


@pytest.fixture(scope="module")
def expected(models):
    """Each model's scores for each text, from the library."""
    out = {}
    for name in MODELS:
        clf = nlp_classifier.load(name, models_dir=models)
        out[name] = {t: p.scores["Hate Speech"] for t, p in zip(TEXTS, clf.predict(TEXTS))}
    return out


def test_switching_under_load_answers_every_request_from_one_model(models, expected):
    # The two models must disagree clearly, or "answered by one model" could not be told apart.
    assert max(abs(expected[MODELS[0]][t] - expected[MODELS[1]][t]) for t in TEXTS) > 0.05
    with live_server(models, max_wait_ms=2.0) as server:
        server.client.post("/predict", json={"text": "warm", "model": "linear_svm"})  # load both before the race
        answers, failures = [], []

        def client(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                for i in range(40):
                    texts = [TEXTS[(worker + i + k) % len(TEXTS)] for k in range(3)]
                    response = c.post("/predict", json={"texts": texts})
                    if response.status_code != 200:
                        failures.append((response.status_code, response.text))
                    else:
                        answers.append((texts, response.json()))

        workers = [threading.Thread(target=client, args=(w,)) for w in range(8)]
        for w in workers:
            w.start()
        switches = 0
        with httpx.Client(base_url=server.url, timeout=30, headers={"X-API-Key": API_KEY}) as admin:
            while any(w.is_alive() for w in workers):
                target = MODELS[(switches + 1) % 2]
                assert admin.post("/models/switch", json={"model_name": target}).status_code == 200
                switches += 1
                time.sleep(0.02)
        for w in workers:
            w.join()

    assert failures == []
    assert len(answers) == 8 * 40 and switches >= 4
    seen = set()
    for texts, body in answers:
        model = body["model"]
        assert model in MODELS
        seen.add(model)
        for text, result in zip(texts, body["results"]):
            hate = {s["label"]: s["score"] for s in result["scores"]}["Hate Speech"]
            assert hate == pytest.approx(expected[model][text], abs=1e-9), (model, text)
    assert seen == set(MODELS)


def test_concurrent_requests_share_batches_and_a_model_loads_once(models, expected):
    """max_wait_ms=400 holds batches open for companions; 8 requests released together share few batches."""
    with live_server(models, max_wait_ms=400.0, max_batch_size=8) as server:
        lone = server.client.post("/predict", json={"text": TEXTS[0]}).json()
        assert lone["inference_time_ms"] < 300  # a request arriving alone does not wait for companions
        barrier = threading.Barrier(8)
        results = [None] * 8

        def client(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as c:
                barrier.wait()
                results[i] = c.post("/predict", json={"text": TEXTS[i], "model": "linear_svm"}).json()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        text = server.client.get("/metrics").text
    for i, body in enumerate(results):
        assert body["model"] == "linear_svm"
        assert body["scores"][1]["score"] == pytest.approx(expected["linear_svm"][TEXTS[i]])
    assert metric(text, "nlpc_model_loads_total", model="linear_svm", outcome="ok") == 1
    assert metric(text, "nlpc_inference_batch_size_sum", model="linear_svm") == 8
    assert metric(text, "nlpc_inference_batch_size_count", model="linear_svm") <= 4  # 8 requests, few batches


def test_models_beyond_the_limit_are_unloaded_least_recent_first(models, tmp_path):
    private = copy_models(models, tmp_path / "models")
    card_path = private / "baselines" / "linear_svm.card.json"
    card = json.loads(card_path.read_text())
    (private / "baselines" / "linear_svm_copy.card.json").write_text(json.dumps({**card, "name": "linear_svm_copy"}))
    with live_server(private, max_loaded_models=3) as server:

        def loaded() -> list[str]:
            return server.client.get("/health").json()["loaded_models"]

        assert set(loaded()) == {"logistic_regression", "logistic_regression_jigsaw"}
        assert server.client.post("/predict", json={"text": "hi", "model": "linear_svm"}).status_code == 200
        assert "linear_svm" in loaded()
        assert server.client.post("/predict", json={"text": "hi", "model": "linear_svm_copy"}).status_code == 200
        assert set(loaded()) == {"logistic_regression", "logistic_regression_jigsaw", "linear_svm_copy"}
        assert (
            server.client.post("/predict", json={"text": "hi", "model": "linear_svm"}).json()["model"] == "linear_svm"
        )
        assert "linear_svm_copy" not in loaded()
