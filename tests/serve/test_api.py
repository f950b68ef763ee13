"""The seed-compatible endpoints and every input error, against a live uvicorn on 127.0.0.1."""

from __future__ import annotations

import fcntl
import json
import logging
import time

import pytest
from testkit.api_server import API_KEY, copy_models, live_server

import nlp_classifier
from nlp_classifier.tasks import BINARY_LABELS, TOXICITY_LABELS
from nlp_classifier.training.background_status import (
    LOG_NAME,
    RUNNING,
    STATUS_NAME,
    SUCCEEDED,
    format_progress,
    write_status,
)

TEXTS = [
    "Thanks for the help yesterday, the meeting went great!",
    "shut up you stupid idiot, nobody wants you here",
    "I hope you have a wonderful birthday",
    "You are a worthless piece of trash and everyone hates you",
]
TOXICITY_MODEL = "logistic_regression_jigsaw"


@pytest.fixture(scope="module")
def models(baseline_models_dir, tmp_path_factory):
    return copy_models(baseline_models_dir, tmp_path_factory.mktemp("api") / "models")


@pytest.fixture(scope="module")
def api(models):
    with live_server(models, max_texts_per_request=5, max_body_bytes=65536) as server:
        yield server


@pytest.fixture(scope="module")
def library(models):
    """The same models loaded directly, to check the API's numbers against."""
    return {
        name: nlp_classifier.load(name, models_dir=models)
        for name in ("logistic_regression", "linear_svm", TOXICITY_MODEL)
    }


def scores_of(result: dict) -> dict[str, float]:
    return {s["label"]: s["score"] for s in result["scores"]}


# --- service endpoints -----------------------------------------------------------------------------------------
def test_root_maps_every_endpoint(api):
    body = api.client.get("/").json()
    listed = {(e["method"], e["path"]) for e in body["endpoints"]}
    for expected in [
        ("GET", "/health"),
        ("POST", "/predict"),
        ("POST", "/predict/toxicity"),
        ("GET", "/models"),
        ("POST", "/models/switch"),
        ("GET", "/models/training"),
        ("GET", "/ready"),
        ("GET", "/metrics"),
        ("POST", "/v1/moderations"),
        ("POST", "/v1alpha1/comments:analyze"),
    ]:
        assert expected in listed
    assert body["docs"] == "/docs"


def test_health_has_the_seed_fields(api, models):
    body = api.client.get("/health").json()
    assert body["status"] == "ok" and body["model_loaded"] is True
    assert body["current_model"] == "logistic_regression"
    assert set(body["available_models"]) == {"logistic_regression", "linear_svm", TOXICITY_MODEL}
    assert body["num_classes"] == 2 and body["classes"] == BINARY_LABELS
    assert body["model_path"].endswith(".joblib") and body["model_path"].startswith(str(models))
    assert body["toxicity_model"] == TOXICITY_MODEL


def test_ready(api):
    response = api.client.get("/ready")
    assert response.status_code == 200 and response.json()["ready"] is True


def test_models_describe_each_card(api, library):
    body = api.client.get("/models").json()
    assert body["current_model"] == "logistic_regression" and body["toxicity_model"] == TOXICITY_MODEL
    info = body["models"]["linear_svm"]
    card = library["linear_svm"].card
    assert info["type"] == "tfidf" and info["is_current"] is False and info["task"] == "davidson"
    assert info["version"] == card.version and info["path"] == str(card.artifact_path)
    assert info["test_metrics"]["f1_macro"] == pytest.approx(card.metrics["test"]["f1_macro"])
    assert {"description", "base_model", "labels", "problem_type"} <= set(info)
    assert body["models"]["logistic_regression"]["is_current"] is True
    assert body["models"][TOXICITY_MODEL]["problem_type"] == "multi_label"


def test_metrics_count_requests_and_batches(api):
    api.client.post("/predict", json={"texts": TEXTS[:3]})
    text = api.client.get("/metrics").text
    assert 'nlpc_http_requests_total{endpoint="/predict",method="POST",status="200"}' in text
    batches = [
        line
        for line in text.splitlines()
        if line.startswith('nlpc_inference_batch_size_sum{model="logistic_regression"}')
    ]
    assert batches and float(batches[0].split()[-1]) >= 3
    assert 'nlpc_current_model{model="logistic_regression"} 1.0' in text


# --- predictions -------------------------------------------------------------------------------------------------
def test_predict_one_text_matches_the_library(api, library):
    response = api.client.post("/predict", json={"text": TEXTS[1]})
    assert response.status_code == 200
    body = response.json()
    expected = library["logistic_regression"].predict([TEXTS[1]])[0]
    assert body["model"] == "logistic_regression"
    assert body["predicted_label"] == expected.label
    assert body["confidence"] == pytest.approx(expected.confidence)
    assert [s["label"] for s in body["scores"]] == BINARY_LABELS
    assert scores_of(body) == pytest.approx(expected.scores)
    assert body["inference_time_ms"] > 0


def test_predict_many_texts_in_order(api, library):
    body = api.client.post("/predict", json={"texts": TEXTS}).json()
    expected = library["logistic_regression"].predict(TEXTS)
    assert len(body["results"]) == len(TEXTS)
    for result, want in zip(body["results"], expected):
        assert result["predicted_label"] == want.label
        assert scores_of(result) == pytest.approx(want.scores)


def test_per_request_model_leaves_the_current_model(api, library):
    body = api.client.post("/predict", json={"texts": TEXTS, "model": "linear_svm"}).json()
    assert body["model"] == "linear_svm"
    for result, want in zip(body["results"], library["linear_svm"].predict(TEXTS)):
        assert scores_of(result) == pytest.approx(want.scores)
    assert api.client.get("/health").json()["current_model"] == "logistic_regression"
    assert api.client.post("/predict", json={"text": TEXTS[0]}).json()["model"] == "logistic_regression"


def test_thresholds_change_the_decision(api, library):
    hate = library["logistic_regression"].predict([TEXTS[1]])[0].scores["Hate Speech"]
    above = api.client.post("/predict", json={"text": TEXTS[1], "threshold": min(1.0, hate + 0.01)}).json()
    below = api.client.post("/predict", json={"text": TEXTS[1], "thresholds": {"Hate Speech": hate - 0.01}}).json()
    assert above["predicted_label"] == "Regular Speech" and below["predicted_label"] == "Hate Speech"


def test_toxicity_scores_and_flags(api, library):
    body = api.client.post("/predict/toxicity", json={"text": TEXTS[3]}).json()
    clf = library[TOXICITY_MODEL]
    expected = clf.predict([TEXTS[3]])[0]
    assert body["model"] == TOXICITY_MODEL
    assert [s["category"] for s in body["toxicity_scores"]] == TOXICITY_LABELS
    for item in body["toxicity_scores"]:
        assert item["score"] == pytest.approx(expected.scores[item["category"]])
        assert item["flagged"] == (item["score"] >= clf.thresholds[item["category"]])
    assert body["flagged_categories"] == expected.flagged
    assert body["is_toxic"] == bool(expected.flagged)
    batch = api.client.post("/predict/toxicity", json={"texts": TEXTS, "threshold": 0.0}).json()
    assert len(batch["results"]) == 4 and all(r["flagged_categories"] == TOXICITY_LABELS for r in batch["results"])


def test_toxicity_refuses_a_single_label_model(api):
    response = api.client.post("/predict/toxicity", json={"text": "hi", "model": "linear_svm"})
    assert response.status_code == 422 and "single-label" in response.text


# --- errors: always a clear 4xx ----------------------------------------------------------------------------------
BAD_BODIES = [
    ({"text": ""}, 422, "empty"),
    ({"text": " \n\t "}, 422, "empty"),
    ({"texts": ["fine", "   "]}, 422, "empty"),
    ({"texts": []}, 422, "at least one"),
    ({"text": "x" * 10_001}, 422, "10000"),
    ({"texts": ["a", "b", "c", "d", "e", "f"]}, 422, "the limit is 5"),
    ({"text": "a", "texts": ["b"]}, 422, "either"),
    ({}, 422, "either"),
    ({"text": 5}, 422, "string"),
    ({"text": "a", "threshold": 1.5}, 422, "less than or equal"),
    ({"text": "a", "thresholds": {"Hate Speech": -1}}, 422, "greater than or equal"),
    ({"text": "a", "thresholds": {"nope": 0.3}}, 422, "unknown label 'nope'"),
    ({"text": "a", "temperature": 2}, 422, "Extra inputs"),
    ({"text": "a", "model": "no_such_model"}, 404, "no model named 'no_such_model'"),
    ({"text": "a", "model": "../../etc/passwd"}, 404, "no model named"),
]


@pytest.mark.parametrize("path", ["/predict", "/predict/toxicity"])
@pytest.mark.parametrize("body,status,message", BAD_BODIES)
def test_bad_input_gets_a_clear_4xx(api, path, body, status, message):
    response = api.client.post(path, json=body)
    assert response.status_code == status, response.text
    assert message in response.text


def test_the_error_names_the_field(api):
    detail = api.client.post("/predict", json={"texts": ["fine", "  "]}).json()["detail"]
    assert detail[0]["loc"] == ["body", "texts", 1]


def test_malformed_json_is_422(api):
    response = api.client.post(
        "/predict", content=b'{"text": "unterminated', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


def test_a_json_body_sent_without_a_json_content_type_is_told_so(api):
    """`curl -d '{"text": ...}'` sends application/x-www-form-urlencoded; FastAPI then reads no JSON and the answer
    was "Input should be a valid dictionary or object to extract fields from", which does not say why."""
    for headers in ({"content-type": "application/x-www-form-urlencoded"}, {"content-type": "text/plain"}):
        response = api.client.post("/predict", content=b'{"text": "hello"}', headers=headers)
        detail = response.json()["detail"][0]
        assert response.status_code == 422 and detail["type"] == "content_type", detail
        assert f"sent with Content-Type: application/json (this one is {headers['content-type']})" in detail["msg"]
    openai = api.client.post("/v1/moderations", content=b'{"input": "hello"}', headers={"content-type": "text/plain"})
    assert "Content-Type: application/json" in openai.json()["error"]["message"]
    array = api.client.post("/predict", json=["hello"])  # a JSON body that is not an object keeps its own message
    assert array.status_code == 422 and array.json()["detail"][0]["type"] == "model_attributes_type"


def test_oversized_body_is_413(api):
    big = json.dumps({"text": "x" * 70_000}).encode()
    declared = api.client.post("/predict", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "65536 bytes" in declared.json()["detail"]

    def chunks():  # no Content-Length: the limit applies while the body streams in
        for _ in range(20):
            yield b"x" * 8192

    streamed = api.client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_models_training_says_what_is_being_trained_into_the_models_folder(api, models):
    assert api.client.get("/models/training").json() == {
        "state": "none",
        **dict.fromkeys(["model", "purpose", "command", "log", "started_at", "finished_at", "exit_status", "message"]),
        **dict.fromkeys(["progress", "last_line", "description"]),
    }
    log = models / LOG_NAME
    log.write_text("an earlier run\n" + format_progress(5000, 5625, 0.89, {}, 3600, 420) + "\n")
    write_status(
        models,
        state=RUNNING,
        model="minilm_hate",
        command="make minilm",
        log=str(log),
        log_offset=log.stat().st_size,
        started_at="2026-12-06T20:43:00+00:00",
    )
    try:
        with log.open("a") as training:  # held the way a background run holds its log
            fcntl.flock(training, fcntl.LOCK_EX)
            body = api.client.get("/models/training").json()
            assert body["state"] == "running" and body["model"] == "minilm_hate" and body["command"] == "make minilm"
            assert body["progress"] is None and body["last_line"] is None  # the earlier run's lines are not this one's
            assert "minilm_hate is being trained in the background (starting)" in body["description"]
            line = format_progress(800, 5625, 0.14, {"loss": 0.2}, 14 * 60 + 10, 85 * 60 + 30)
            training.write(f"{line}\nsaving checkpoint-800\n")
            training.flush()
            body = api.client.get("/models/training").json()
            assert body["progress"] == {"step": 800, "total": 5625, "elapsed_s": 850, "eta_s": 5130}
            assert body["last_line"] == "saving checkpoint-800"
            assert body["description"] == (
                "minilm_hate is being trained in the background: step 800 of 5,625, about 85 min of training left, "
                "then about 10 more minutes on 2 cores to test, export and calibrate it; "
                "the API switches to it when it is ready."
            )
        # nobody holds the log any more, yet nothing recorded an end: the run was killed
        body = api.client.get("/models/training").json()
        assert body["state"] == "interrupted" and body["description"] is None
        write_status(models, state=SUCCEEDED, exit_status=0, message="minilm_hate is ready")
        body = api.client.get("/models/training").json()
        assert (body["state"], body["exit_status"], body["message"]) == ("succeeded", 0, "minilm_hate is ready")
        assert body["started_at"] == "2026-12-06T20:43:00+00:00" and body["progress"]["step"] == 800
    finally:
        log.unlink()
        (models / STATUS_NAME).unlink()


# --- switching and keys -------------------------------------------------------------------------------------------
def test_switch_needs_a_valid_key(api):
    missing = api.client.post("/models/switch", json={"model_name": "linear_svm"})
    wrong = api.client.post("/models/switch", json={"model_name": "linear_svm"}, headers={"X-API-Key": "nope"})
    assert missing.status_code == 401 and "X-API-Key" in missing.json()["detail"]
    assert wrong.status_code == 403 and "not valid" in wrong.json()["detail"]
    assert api.client.get("/health").json()["current_model"] == "logistic_regression"


def test_switch_unknown_model_is_404(api):
    response = api.client.post("/models/switch", json={"model_name": "nope"}, headers={"X-API-Key": API_KEY})
    assert response.status_code == 404 and "no model named 'nope'" in response.json()["detail"]


def test_switch_changes_the_current_model(api, library):
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    try:
        body = api.client.post("/models/switch", json={"model_name": "linear_svm"}, headers=bearer).json()
        assert body == {
            "status": "ok",
            "message": "switched from logistic_regression to linear_svm",
            "previous_model": "logistic_regression",
            "current_model": "linear_svm",
            "reloaded": False,
        }
        assert api.client.get("/health").json()["current_model"] == "linear_svm"
        answer = api.client.post("/predict", json={"text": TEXTS[1]}).json()
        assert answer["model"] == "linear_svm"
        assert scores_of(answer) == pytest.approx(library["linear_svm"].predict([TEXTS[1]])[0].scores)
    finally:
        api.client.post("/models/switch", json={"model_name": "logistic_regression"}, headers=bearer)


def test_a_switch_made_if_a_model_is_current_happens_only_while_it_is(api):
    key = {"X-API-Key": API_KEY}
    try:
        stale = api.client.post(
            "/models/switch", json={"model_name": "linear_svm", "if_current": "linear_svm"}, headers=key
        )
        assert stale.status_code == 409
        assert stale.json()["detail"] == (
            "the current model is logistic_regression, not linear_svm: someone switched since; not switching to "
            "linear_svm"
        )
        assert api.client.get("/health").json()["current_model"] == "logistic_regression"
        done = api.client.post(
            "/models/switch", json={"model_name": "linear_svm", "if_current": "logistic_regression"}, headers=key
        )
        assert done.status_code == 200 and done.json()["current_model"] == "linear_svm"
        assert api.client.get("/health").json()["current_model"] == "linear_svm"
    finally:
        api.client.post("/models/switch", json={"model_name": "logistic_regression"}, headers=key)


def test_switching_to_a_model_saved_again_since_it_was_loaded_serves_the_saved_one(models, tmp_path):
    """`nlpc calibrate` (or an export, a retraining, a pull) saves a served model anew: a switch to it, the current
    one included, loads what is saved now; a switch with nothing saved since keeps the loaded copy."""
    from nlp_classifier.model_calibration import calibrate_model

    folder = copy_models(models, tmp_path / "models")
    key = {"X-API-Key": API_KEY}
    with live_server(folder) as server:
        before = server.client.post("/predict", json={"text": TEXTS[1]}).json()
        unchanged = server.client.post("/models/switch", json={"model_name": "logistic_regression"}, headers=key)
        assert unchanged.json()["reloaded"] is False
        assert unchanged.json()["message"] == "switched from logistic_regression to logistic_regression"
        old_version = server.client.get("/models").json()["models"]["logistic_regression"]["version"]
        calibrated = calibrate_model("logistic_regression", models_dir=folder, method="temperature").card
        assert calibrated.version != old_version
        # not before the switch: requests keep the loaded copy
        assert server.client.post("/predict", json={"text": TEXTS[1]}).json()["scores"] == before["scores"]
        body = server.client.post(
            "/models/switch",
            json={"model_name": "logistic_regression", "if_current": "logistic_regression"},
            headers=key,
        ).json()
        after = server.client.post("/predict", json={"text": TEXTS[1]}).json()
        listed = server.client.get("/models").json()["models"]["logistic_regression"]
    assert body["reloaded"] is True and body["current_model"] == "logistic_regression"
    assert body["message"] == (
        "switched from logistic_regression to logistic_regression; loaded logistic_regression "
        f"{calibrated.version} as saved (version {old_version} was loaded)"
    )
    assert listed["version"] == calibrated.version
    expected = nlp_classifier.load("logistic_regression", models_dir=folder).predict([TEXTS[1]])[0].scores
    assert scores_of(after) == pytest.approx(expected) and scores_of(after) != pytest.approx(scores_of(before))


def test_a_saved_model_that_fails_to_load_leaves_the_loaded_copy_serving(models, tmp_path):
    folder = copy_models(models, tmp_path / "models")
    key = {"X-API-Key": API_KEY}
    with live_server(folder) as server:
        before = server.client.post("/predict", json={"text": TEXTS[1]}).json()
        card = nlp_classifier.registry.resolve("logistic_regression", folder)
        saved = json.loads(card.path.read_text())
        card.path.write_text(json.dumps({**saved, "description": "saved again"}))
        with card.artifact_path.open("ab") as artifact:  # and its file no longer matches the card's hash
            artifact.write(b"tampered")
        refused = server.client.post("/models/switch", json={"model_name": "logistic_regression"}, headers=key)
        after = server.client.post("/predict", json={"text": TEXTS[1]}).json()
    assert refused.status_code >= 400 and str(card.artifact_path.name) in refused.text
    assert (after["model"], after["scores"]) == (before["model"], before["scores"])


def test_switching_is_refused_when_no_key_is_configured(models):
    with live_server(models, api_keys=[]) as server:
        response = server.client.post(
            "/models/switch", json={"model_name": "linear_svm"}, headers={"X-API-Key": "anything"}
        )
        assert response.status_code == 403 and "NLPC_API_KEYS" in response.json()["detail"]


def test_keys_on_predictions_when_configured(models):
    with live_server(models, require_api_key=True) as server:
        for path, body in [
            ("/predict", {"text": "hi"}),
            ("/predict/toxicity", {"text": "hi"}),
            ("/v1/moderations", {"input": "hi"}),
        ]:
            assert server.client.post(path, json=body).status_code == 401
            assert server.client.post(path, json=body, headers={"X-API-Key": "bad"}).status_code == 403
            assert server.client.post(path, json=body, headers={"X-API-Key": API_KEY}).status_code == 200
        analyze = {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}
        assert server.client.post("/v1alpha1/comments:analyze", json=analyze).status_code == 401
        assert server.client.post(f"/v1alpha1/comments:analyze?key={API_KEY}", json=analyze).status_code == 200
        assert server.client.get("/health").status_code == 200


# --- request ids, logs, CORS --------------------------------------------------------------------------------------
def test_request_id_is_returned(api):
    given = api.client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = api.client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert len(made) == 32 and made != "bad id with spaces"


def _request_records(caplog, request_id):
    """The log records of one request (the line is written just after the response is sent)."""
    deadline = time.monotonic() + 5
    while True:
        found = [r for r in caplog.records if r.name == "nlpc.api" and getattr(r, "request_id", None) == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def test_logs_leave_texts_out_unless_configured(api, models, caplog):
    caplog.set_level(logging.INFO, logger="nlpc.api")
    api.client.post("/predict", json={"text": "secret words 1"}, headers={"X-Request-ID": "quiet-1"})
    [record] = _request_records(caplog, "quiet-1")
    assert record.status == 200 and record.models == ["logistic_regression"] and record.n_texts == 1
    assert not hasattr(record, "texts") and "secret words" not in caplog.text
    with live_server(models, log_texts=True) as server:
        server.client.post("/predict", json={"text": "secret words 2"}, headers={"X-Request-ID": "loud-1"})
    [record] = _request_records(caplog, "loud-1")
    assert record.texts == ["secret words 2"]


def test_cors_is_closed_by_default_and_opens_when_configured(api, models):
    preflight = {"Origin": "http://ui.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in api.client.options("/predict", headers=preflight).headers
    with live_server(models, cors_origins=["http://ui.example"]) as server:
        response = server.client.options("/predict", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "http://ui.example"
        other = server.client.options("/predict", headers={**preflight, "Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


# --- no models ---------------------------------------------------------------------------------------------------
def test_without_models_the_api_says_503(tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    with live_server(empty, default_model=None) as server:
        assert server.client.get("/ready").status_code == 503
        assert server.client.get("/health").json()["status"] == "no_model"
        response = server.client.post("/predict", json={"text": "hi"})
        assert response.status_code == 503 and "nlpc prepare" in response.json()["detail"]
        assert server.client.post("/predict/toxicity", json={"text": "hi"}).status_code == 503


def test_loaded_models_are_frozen_out_of_the_garbage_collector(api):
    """Start-up moves what it loaded out of the collector's view (gc.freeze): without it, a full collection walking
    the libraries and models stalled requests for ~200 ms (load benchmark p99 at concurrency 32: 200-250 ms before,
    30 ms after)."""
    import gc

    assert api.client.get("/ready").status_code == 200
    assert gc.get_freeze_count() > 100_000


def test_a_lazily_loaded_model_is_frozen_too(models):
    import gc

    with live_server(models) as server:
        before = gc.get_freeze_count()
        response = server.client.post("/predict", json={"text": "have a nice day", "model": "linear_svm"})
        assert response.status_code == 200
        assert gc.get_freeze_count() > before  # the new model's objects joined the frozen generation
