"""Which model answers by default (the hate model when the registry has one) and which labels are flagged (harmful
ones only: a not_hateful / Regular Speech prediction flags nothing), in the library and through a live API."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from testkit.api_server import API_KEY, copy_models, live_server
from testkit.frames import HATE_TINY_NAME

import nlp_classifier
from nlp_classifier.card import ModelCard
from nlp_classifier.defaults import (
    PREFERRED_MODELS,
    default_model_name,
    fallback_notice,
    pick_default,
    serving_notice,
)
from nlp_classifier.tasks import BINARY_LABELS, HATE_LABELS, TASKS, TOXICITY_LABELS, harmless_labels
from nlp_classifier.training.background_status import FINISH, LOG_NAME, RUNNING, write_status

BENIGN = "I am a gay man and proud of it"
HATEFUL = "muslims are vermin and should be wiped out"


def card(name: str, labels: list[str], problem_type: str = "single_label", f1: float | None = None) -> ModelCard:
    return ModelCard(
        name=name,
        family="tfidf",
        task="x",
        labels=labels,
        problem_type=problem_type,
        artifact="x",
        metrics={"test": {"f1_macro": f1}} if f1 is not None else {},
    )


# --- the rules -------------------------------------------------------------------------------------------------
def test_harmless_labels_of_the_built_in_tasks_and_of_users_label_sets():
    assert harmless_labels(HATE_LABELS, "hate") == {"not_hateful"}
    assert harmless_labels(BINARY_LABELS, "davidson") == {"Regular Speech"}
    assert harmless_labels(list(TASKS["davidson3"].labels), "davidson3") == {"neither"}
    assert harmless_labels(TOXICITY_LABELS, "jigsaw") == set()
    # a user's own labels: named like "nothing harmful"
    assert harmless_labels(["not_toxic", "toxic"]) == {"not_toxic"}
    assert harmless_labels(["0", "1"]) == {"0"}
    assert harmless_labels(["Neutral", "Hateful", "Offensive"]) == {"Neutral"}
    assert harmless_labels(["non-toxic", "toxic"]) == {"non-toxic"}
    assert harmless_labels(["none", "spam"]) == {"none"} and harmless_labels(["ham", "spam"]) == set()
    assert harmless_labels(["Regular Speech", "Hate Speech"], "my_file") == {"Regular Speech"}


def test_pick_default_prefers_the_hate_transformer_then_the_hate_baseline_then_the_best_davidson_model():
    davidson = [
        card("logistic_regression", BINARY_LABELS, f1=0.89),
        card("linear_svm", BINARY_LABELS, f1=0.90),
        card("logistic_regression_jigsaw", TOXICITY_LABELS, "multi_label", f1=0.6),
    ]
    assert pick_default(davidson).name == "linear_svm"  # what was chosen before the hate models
    hate = card("logistic_regression_hate_char", HATE_LABELS, f1=0.80)
    assert pick_default([*davidson, hate]).name == "logistic_regression_hate_char"
    # the best checkpoint so far of its training (training.preview), left by a run stopped part-way, is next
    preview = card("minilm_hate_preview", HATE_LABELS, f1=0.60)
    assert pick_default([*davidson, hate, preview]).name == "minilm_hate_preview"
    minilm = card("minilm_hate", HATE_LABELS, f1=0.70)  # wins even with a lower score: it is listed first
    assert pick_default([*davidson, hate, preview, minilm]).name == "minilm_hate"
    assert PREFERRED_MODELS == ("minilm_hate", "minilm_hate_preview", "logistic_regression_hate_char")
    assert pick_default([]) is None


def test_a_served_tf_idf_fallback_is_named_with_the_command_that_replaces_it():
    hate = card("logistic_regression_hate_char", HATE_LABELS, f1=0.80)
    minilm = card("minilm_hate", HATE_LABELS, f1=0.70)
    assert pick_default([hate]).name == hate.name
    notice = fallback_notice(hate.name, [hate.name, "linear_svm"])
    assert notice is not None and "make minilm" in notice and "identity groups" in notice
    assert pick_default([hate, minilm]).name == minilm.name
    assert fallback_notice(minilm.name, [hate.name, minilm.name]) is None
    # the transformer is there but the fallback was chosen (NLPC_DEFAULT_MODEL, --default-model): nothing to say
    assert fallback_notice(hate.name, [hate.name, minilm.name]) is None
    assert fallback_notice("linear_svm", [hate.name]) is None and fallback_notice(None, []) is None


def test_the_fallback_notice_says_how_far_a_background_training_has_got():
    fallback, names = "logistic_regression_hate_char", ["logistic_regression_hate_char"]
    running = {"state": "running", "model": "minilm_hate", "progress": {"step": 800, "total": 5625, "eta_s": 5130}}
    notice = fallback_notice(fallback, names, running)
    assert notice is not None and "identity groups" in notice and "make minilm" not in notice
    assert notice.endswith(
        "minilm_hate is being trained in the background: step 800 of 5,625, about 85 min of training left, "
        "then about 10 more minutes on 2 cores to test, export and calibrate it; "
        "the API switches to it when it is ready."
    )
    # an ended, a not yet logging or another model's training
    assert "`make minilm` trains" in fallback_notice(fallback, names, {**running, "state": "failed"})
    assert "(starting)" in fallback_notice(fallback, names, {**running, "progress": None})
    assert "`make minilm` trains" in fallback_notice(fallback, names, {**running, "model": "other"})
    # after its last step the model is in the registry while it is tested, exported and calibrated: still running
    finishing = {**running, "progress": {"step": 5625, "total": 5625, "eta_s": 0}}
    assert "has finished training (5,625 steps)" in fallback_notice(fallback, [*names, "minilm_hate"], finishing)
    assert fallback_notice(fallback, [*names, "minilm_hate"], {**finishing, "state": "succeeded"}) is None


def test_a_preview_is_said_to_be_a_checkpoint_with_a_tuned_threshold_and_how_far_its_training_has_got():
    minilm, preview, fallback = PREFERRED_MODELS
    running = {"state": "running", "purpose": "train", "model": minilm, "progress": {"step": 1500, "total": 5625}}
    running["progress"]["eta_s"] = 2460
    notice = serving_notice(preview, [fallback, preview], running)
    assert notice == (
        "minilm_hate_preview is the best checkpoint so far of minilm_hate's training, with its threshold tuned on the "
        "validation split; its scores are not calibrated and it has not been tested. minilm_hate is being trained in "
        "the background: step 1,500 of 5,625, about 41 min of training left, then about 10 more minutes on 2 cores "
        "to test, export and calibrate it; the API switches to it when it is ready."
    )
    # a preview left by a stopped run, with nothing training it now
    for status in ({**running, "state": "stopped"}, {**running, "model": "other"}, None):
        stopped = serving_notice(preview, [fallback, preview], status)
        assert stopped is not None and stopped.endswith(
            "Its training is not running: `make run` (or `make minilm TRAIN_FLAGS=--resume`) continues it."
        )
    assert serving_notice("linear_svm", [minilm, preview], running) is None  # only the preview is a preview


def test_a_model_being_finished_is_said_to_be_served_as_saved_until_then():
    minilm, _, fallback = PREFERRED_MODELS
    names = [fallback, minilm]
    finishing = {"state": "running", "purpose": "finish", "model": minilm, "progress": None}
    notice = serving_notice(minilm, names, finishing)
    assert notice is not None and "is being finished in the background (about 6 minutes on 2 cores)" in notice
    assert notice.endswith("Until then minilm_hate is served as saved: its scores are not calibrated yet.")
    # finished, a training rather than a finishing, another model's, or another model served: nothing to say
    assert serving_notice(minilm, names, {**finishing, "state": "succeeded"}) is None
    # the running training saved it and goes on to export and calibrate it (the API switched from its preview)
    saved = {**finishing, "purpose": "train", "progress": {"step": 5625, "total": 5625, "eta_s": 0}}
    assert serving_notice(minilm, names, saved).startswith("minilm_hate has finished training (5,625 steps)")
    assert serving_notice(minilm, names, saved).endswith(
        "Until then minilm_hate is served as saved: its scores are not calibrated yet."
    )
    assert serving_notice(minilm, [fallback], saved) is None  # not saved yet: nothing to serve as saved
    assert serving_notice(minilm, names, {**finishing, "model": "other"}) is None
    assert serving_notice("linear_svm", names, finishing) is None and serving_notice(minilm, names, None) is None
    # the fallback's own notice is unchanged
    training = {"state": "running", "purpose": "train", "model": minilm, "progress": None}
    assert serving_notice(fallback, [fallback], training) == fallback_notice(fallback, [fallback], training)


def test_default_model_name_reads_the_registry_and_the_environment(hate_models_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("NLPC_DEFAULT_MODEL", raising=False)
    assert default_model_name(hate_models_dir) == HATE_TINY_NAME
    assert default_model_name(tmp_path) is None
    monkeypatch.setenv("NLPC_DEFAULT_MODEL", "linear_svm")
    assert default_model_name(hate_models_dir) == "linear_svm"


def test_a_harmless_prediction_flags_nothing_in_the_library(hate_models_dir):
    hate = nlp_classifier.load(HATE_TINY_NAME, models_dir=hate_models_dir)
    benign, hateful = hate.predict([BENIGN, HATEFUL])
    assert benign.label == "not_hateful" and benign.flagged == []
    assert hateful.label == "hateful" and hateful.flagged == ["hateful"]
    davidson = nlp_classifier.load("logistic_regression", models_dir=hate_models_dir)
    regular, offensive = davidson.predict(["have a lovely day", "you are a stupid worthless idiot"])
    assert regular.label == "Regular Speech" and regular.flagged == []
    assert offensive.label == "Hate Speech" and offensive.flagged == ["Hate Speech"]


# --- through the API -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hate_api(hate_models_dir, tmp_path_factory):
    """The Davidson, Jigsaw and hate models served with no default named: the hate model is chosen."""
    models = copy_models(hate_models_dir, tmp_path_factory.mktemp("api-default") / "models")
    with live_server(models, default_model=None) as server:
        yield server


def test_the_hate_model_is_the_default_and_benign_texts_flag_nothing(hate_api):
    health = hate_api.client.get("/health").json()
    assert health["current_model"] == HATE_TINY_NAME and health["classes"] == HATE_LABELS
    listed = hate_api.client.get("/models").json()
    assert listed["models"][HATE_TINY_NAME]["is_current"] is True
    assert "is the TF-IDF fallback" in listed["notice"] and "`make minilm` trains minilm_hate" in listed["notice"]

    benign = hate_api.client.post("/predict", json={"text": BENIGN}).json()
    assert benign["model"] == HATE_TINY_NAME and benign["predicted_label"] == "not_hateful"
    assert benign["flagged_labels"] == []
    assert {"predicted_label", "confidence", "scores", "inference_time_ms"} <= set(benign)
    assert [s["label"] for s in benign["scores"]] == HATE_LABELS
    hateful = hate_api.client.post("/predict", json={"text": HATEFUL}).json()
    assert hateful["predicted_label"] == "hateful" and hateful["flagged_labels"] == ["hateful"]
    batch = hate_api.client.post("/predict", json={"texts": [BENIGN, HATEFUL]}).json()
    assert [r["flagged_labels"] for r in batch["results"]] == [[], ["hateful"]]


def test_davidson_models_keep_answering_and_switching_works(hate_api):
    regular = hate_api.client.post("/predict", json={"text": "have a lovely day", "model": "logistic_regression"})
    assert regular.json()["predicted_label"] == "Regular Speech" and regular.json()["flagged_labels"] == []
    switched = hate_api.client.post(
        "/models/switch", json={"model_name": "logistic_regression"}, headers={"X-API-Key": API_KEY}
    )
    assert switched.status_code == 200 and switched.json()["previous_model"] == HATE_TINY_NAME
    try:
        answer = hate_api.client.post("/predict", json={"text": "you are a stupid worthless idiot"}).json()
        assert answer["model"] == "logistic_regression" and answer["flagged_labels"] == ["Hate Speech"]
        assert hate_api.client.get("/models").json()["notice"] is None  # the fallback is not served
    finally:
        hate_api.client.post("/models/switch", json={"model_name": HATE_TINY_NAME}, headers={"X-API-Key": API_KEY})


def test_the_environment_still_names_the_default(hate_models_dir, tmp_path):
    models = copy_models(hate_models_dir, tmp_path / "models")
    with live_server(models, default_model="linear_svm") as server:
        assert server.client.get("/health").json()["current_model"] == "linear_svm"


def test_a_model_still_served_after_its_folder_went_is_still_listed(hate_models_dir, tmp_path):
    """A training preview is removed when its finished model is published, minutes before `nlpc run` switches to
    the finished model: meanwhile the API goes on answering with it, and lists it so clients can show it."""
    from nlp_classifier.registry import resolve

    models = copy_models(hate_models_dir, tmp_path / "models")
    with live_server(models, default_model="linear_svm") as server:
        before = server.client.get("/models").json()["models"]["linear_svm"]
        card = resolve("linear_svm", models)
        for path in (card.path, card.artifact_path):
            Path(path).unlink()
        server.manager.cards(fresh=True)  # as the next read of the folder would find it
        listed = server.client.get("/models").json()
        answer = server.client.post("/predict", json={"text": BENIGN}).json()
        other = server.client.get("/models").json()["models"].get("logistic_regression")
    assert listed["current_model"] == "linear_svm" and listed["models"]["linear_svm"] == before
    assert answer["model"] == "linear_svm"
    assert other is not None


def test_a_minilm_hate_transformer_wins_with_its_int8_export(hate_models_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    from testkit.tiny_transformers import make_tiny_model

    from nlp_classifier.export import export_onnx

    models = copy_models(hate_models_dir, tmp_path / "models")
    make_tiny_model(models, "minilm_hate", "hate")
    log = models / LOG_NAME
    log.write_text("exporting\n")
    write_status(models, state=RUNNING, purpose=FINISH, model="minilm_hate", command="make minilm-finish", log=str(log))
    with live_server(models, default_model=None) as server, log.open("a") as finishing:
        assert server.client.get("/health").json()["current_model"] == "minilm_hate"
        fcntl.flock(finishing, fcntl.LOCK_EX)  # held the way a running background command holds it
        assert (
            server.client.get("/models")
            .json()["notice"]
            .endswith("Until then minilm_hate is served as saved: its scores are not calibrated yet.")
        )
        fcntl.flock(finishing, fcntl.LOCK_UN)  # the command is gone: nothing more to say
        assert server.client.get("/models").json()["notice"] is None
        answer = server.client.post("/predict", json={"text": BENIGN}).json()
        assert answer["model"] == "minilm_hate" and [s["label"] for s in answer["scores"]] == HATE_LABELS
        assert answer["flagged_labels"] == ([] if answer["predicted_label"] == "not_hateful" else ["hateful"])
        assert server.client.get("/models").json()["models"]["minilm_hate"]["backend"] == "torch"
    export_onnx("minilm_hate", models_dir=models, quantize="int8", max_drop_points=100, check_limit=20, num_threads=1)
    with live_server(models, default_model=None) as server:
        info = server.client.get("/models").json()["models"]["minilm_hate"]
        assert info["is_current"] is True and info["backend"] == "onnx-int8"
