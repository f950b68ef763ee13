"""Explanations through the live API: ``"explain": true`` on /predict and /predict/toxicity, Perspective's
``spanAnnotations``, and the explanation limits, checked against the same models loaded directly."""

from __future__ import annotations

import json

import pytest
from testkit.api_server import live_server
from testkit.models import train_small_baseline

import nlp_classifier
from nlp_classifier.explain import Explanation

TEXTS = ["you are a stupid worthless idiot 😡 go away", "what a lovely day &amp; thanks @friend"]
TOXICITY_MODEL = "logistic_regression_jigsaw"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A binary Davidson baseline (the current model), a Jigsaw toxicity baseline and a tiny transformer."""
    pytest.importorskip("torch")
    from testkit.tiny_transformers import make_tiny_model

    folder = tmp_path_factory.mktemp("explain-api") / "models"
    folder.mkdir()
    data = tmp_path_factory.mktemp("explain-api-data")
    for task in ("davidson", "jigsaw"):
        train_small_baseline(task, folder, data)
    make_tiny_model(folder, "tiny_binary", "davidson", max_length=64)
    return folder


@pytest.fixture(scope="module")
def api(models):
    with live_server(models, toxicity_model=TOXICITY_MODEL, explain_max_texts=3, explain_max_chars=200) as server:
        yield server


def library(models, name: str) -> nlp_classifier.Classifier:
    return nlp_classifier.load(name, models_dir=models)


def assert_same_explanation(answered: dict, expected: Explanation) -> None:
    assert answered["text"] == expected.text and answered["label"] == expected.label
    assert answered["method"] == expected.method
    assert answered["score"] == pytest.approx(expected.score)
    assert [(w["word"], w["start"], w["end"]) for w in answered["words"]] == [
        (w.word, w.start, w.end) for w in expected.words
    ]
    assert [w["score"] for w in answered["words"]] == pytest.approx([w.score for w in expected.words], abs=1e-6)


def test_predict_without_explain_is_unchanged(api):
    plain = api.client.post("/predict", json={"text": TEXTS[0]}).json()
    off = api.client.post("/predict", json={"text": TEXTS[0], "explain": False}).json()
    assert "explanation" not in plain and "explanation" not in off
    assert {k: v for k, v in plain.items() if k != "inference_time_ms"} == {
        k: v for k, v in off.items() if k != "inference_time_ms"
    }


def test_predict_explains_each_text_for_its_predicted_label(api, models):
    clf = library(models, "logistic_regression")
    one = api.client.post("/predict", json={"text": TEXTS[0], "explain": True}).json()
    assert one["explanation"]["label"] == one["predicted_label"]
    assert_same_explanation(one["explanation"], clf.explain(TEXTS[0])[0])
    many = api.client.post("/predict", json={"texts": TEXTS, "explain": True}).json()
    for result, expected in zip(many["results"], clf.explain(TEXTS)):
        assert result["explanation"]["method"] == "linear"
        assert_same_explanation(result["explanation"], expected)
        for word in result["explanation"]["words"]:
            assert expected.text[word["start"] : word["end"]] == word["word"]


def test_predict_explains_a_transformer_by_occlusion(api, models):
    clf = nlp_classifier.load("tiny_binary", models_dir=models)
    answer = api.client.post("/predict", json={"text": TEXTS[0], "model": "tiny_binary", "explain": True}).json()
    assert answer["explanation"]["method"] == "occlusion"
    assert_same_explanation(answer["explanation"], clf.explain(TEXTS[0])[0])


def test_toxicity_explains_the_top_label(api, models):
    clf = library(models, TOXICITY_MODEL)
    answer = api.client.post("/predict/toxicity", json={"texts": TEXTS, "explain": True}).json()
    for result, expected in zip(answer["results"], clf.explain(TEXTS)):
        scores = {s["category"]: s["score"] for s in result["toxicity_scores"]}
        top = result["flagged_categories"][0] if result["flagged_categories"] else max(scores, key=scores.__getitem__)
        assert result["explanation"]["label"] == top
        assert_same_explanation(result["explanation"], expected)


@pytest.mark.parametrize("path", ["/predict", "/predict/toxicity"])
def test_explanation_limits_are_clear_422s(api, path):
    four = ["one", "two", "three", "four"]
    assert api.client.post(path, json={"texts": four}).status_code == 200  # the usual limits allow them
    response = api.client.post(path, json={"texts": four, "explain": True})
    assert response.status_code == 422
    assert "4 texts to explain in one request; the limit is 3 (NLPC_EXPLAIN_MAX_TEXTS)" in response.text
    long = "word " * 50  # 250 characters: under NLPC_MAX_TEXT_CHARS, over NLPC_EXPLAIN_MAX_CHARS
    assert api.client.post(path, json={"texts": ["fine", long]}).status_code == 200
    response = api.client.post(path, json={"texts": ["fine", long], "explain": True})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "texts", 1]
    assert "limit for explanations is 200 (NLPC_EXPLAIN_MAX_CHARS)" in detail["msg"]


def analyze(api, text: str, **extra) -> dict:
    body = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}, **extra}
    response = api.client.post("/v1alpha1/comments:analyze", json=body)
    assert response.status_code == 200, response.text
    return response.json()["attributeScores"]


def test_perspective_span_annotations_score_each_word(api, models):
    clf = library(models, TOXICITY_MODEL)
    text = "😡 you are a stupid idiot, 👨🏿‍💻 go away"
    plain = analyze(api, text)
    units = len(text.encode("utf-16-le")) // 2
    assert plain["TOXICITY"]["spanScores"] == [{"begin": 0, "end": units, "score": plain["TOXICITY"]["summaryScore"]}]
    answer = analyze(api, text, spanAnnotations=True)
    for attribute, label in (("TOXICITY", "toxic"), ("INSULT", "insult")):
        (explanation,) = clf.explain(text, label)
        summary = answer[attribute]["summaryScore"]
        assert summary == {"value": pytest.approx(explanation.score), "type": "PROBABILITY"}
        spans = answer[attribute]["spanScores"]
        assert len(spans) == len(explanation.words)
        for span, word in zip(spans, explanation.words):
            # Perspective's offsets are UTF-16 code units: the emoji before a word shift it
            assert text.encode("utf-16-le")[2 * span["begin"] : 2 * span["end"]].decode("utf-16-le") == word.word
            assert span["score"]["type"] == "PROBABILITY" and 0.0 <= span["score"]["value"] <= 1.0
            assert (span["score"]["value"] > 0) == (word.score > 0)
        values = [s["score"]["value"] for s in spans]
        assert sum(values) == pytest.approx(summary["value"])
        strongest = max(range(len(values)), key=values.__getitem__)
        assert explanation.words[strongest] == explanation.top(1)[0]
    assert spans[1]["begin"] == 3  # "😡" is two UTF-16 units, then a space


def test_perspective_span_annotations_respect_the_explanation_limit(api):
    body = {"comment": {"text": "word " * 50}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": True}
    response = api.client.post("/v1alpha1/comments:analyze", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "NLPC_EXPLAIN_MAX_CHARS" in error["message"]


def test_a_lone_surrogate_is_read_as_the_replacement_character(api):
    """JSON may carry a lone surrogate (``"\\ud800"``), which is not a character and cannot be written back as
    UTF-8: an explanation echoing the text ended in a 500. Every endpoint reads it as U+FFFD, as a UTF-8 decoder
    does a bad byte; the text keeps its length, so offsets still point into what the client sent."""
    raw = "you stupid \\ud800 idiot go away"
    replaced = "you stupid \ufffd idiot go away"
    requests = {
        "/predict": {"text": raw, "explain": True},
        "/predict/toxicity": {"texts": [raw], "explain": True},
        "/v1/moderations": {"input": [raw]},
        "/v1alpha1/comments:analyze": {
            "comment": {"text": raw},
            "requestedAttributes": {"TOXICITY": {}},
            "spanAnnotations": True,
        },
    }
    for path, body in requests.items():
        sent = json.dumps(body).replace("\\\\ud800", "\\ud800")  # the JSON escape itself, not an escaped backslash
        answer = api.client.post(path, content=sent.encode(), headers={"content-type": "application/json"})
        assert answer.status_code == 200, (path, answer.text)
        same = api.client.post(path, json=json.loads(json.dumps(body).replace("\\\\ud800", "\\ufffd")))
        strip = {"inference_time_ms", "id"}
        if path == "/predict":
            assert answer.json()["explanation"]["text"] == replaced
            assert [w["word"] for w in answer.json()["explanation"]["words"]][2] == "\ufffd"
        if path == "/v1/moderations":
            assert answer.json()["results"] == same.json()["results"]
        else:
            assert {k: v for k, v in answer.json().items() if k not in strip} == {
                k: v for k, v in same.json().items() if k not in strip
            }
