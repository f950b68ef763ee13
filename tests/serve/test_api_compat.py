"""OpenAI- and Perspective-compatible endpoints: the official openai client and Perspective-shaped requests
against a live uvicorn on 127.0.0.1, with scores checked against the toxicity model itself."""

from __future__ import annotations

import openai
import pytest
from testkit.api_server import API_KEY, copy_models, live_server

import nlp_classifier

TOXICITY_MODEL = "logistic_regression_jigsaw"
TEXTS = ["I will find you and hurt you, you disgusting idiot", "What a lovely afternoon in the park"]


@pytest.fixture(scope="module")
def models(baseline_models_dir, tmp_path_factory):
    return copy_models(baseline_models_dir, tmp_path_factory.mktemp("compat") / "models")


@pytest.fixture(scope="module")
def api(models):
    with live_server(models, max_texts_per_request=5) as server:
        yield server


@pytest.fixture(scope="module")
def toxicity(models):
    return nlp_classifier.load(TOXICITY_MODEL, models_dir=models)


@pytest.fixture(scope="module")
def client(api):
    with openai.OpenAI(base_url=f"{api.url}/v1", api_key=API_KEY, max_retries=0) as c:
        yield c


# --- OpenAI -------------------------------------------------------------------------------------------------------
def expected_moderation(p):
    s = p.scores
    return {
        "harassment": max(s["toxic"], s["severe_toxic"], s["insult"]),
        "harassment/threatening": s["threat"],
        "hate": s["identity_hate"],
        "hate/threatening": min(s["identity_hate"], s["threat"]),
        "violence": s["threat"],
        "sexual": 0.0,
        "self-harm": 0.0,
        "illicit": 0.0,
    }


def test_openai_client_single_input(client, toxicity):
    response = client.moderations.create(input=TEXTS[0])
    assert response.id.startswith("modr-") and response.model == TOXICITY_MODEL
    [result] = response.results
    prediction = toxicity.predict([TEXTS[0]])[0]
    scores = result.category_scores.model_dump(by_alias=True)
    for category, value in expected_moderation(prediction).items():
        assert scores[category] == pytest.approx(value), category
    flags = result.categories.model_dump(by_alias=True)
    assert flags["harassment"] == any(lab in prediction.flagged for lab in ("toxic", "severe_toxic", "insult"))
    assert flags["violence"] == ("threat" in prediction.flagged)
    assert flags["sexual"] is False
    assert result.flagged == any(flags.values()) and result.flagged is True
    assert result.category_applied_input_types.harassment == ["text"]


def test_openai_client_list_and_model_names(client):
    for model in ("omni-moderation-latest", "text-moderation-stable", TOXICITY_MODEL):
        response = client.moderations.create(input=TEXTS, model=model)
        assert [r.flagged for r in response.results] == [True, False]
    objects = client.moderations.create(input=[{"type": "text", "text": TEXTS[1]}])
    assert objects.results[0].flagged is False


def test_openai_errors_reach_the_client(client):
    with pytest.raises(openai.BadRequestError) as image:
        client.moderations.create(input=[{"type": "image_url", "image_url": {"url": "http://x/y.png"}}])
    assert "text only" in image.value.body["message"]
    with pytest.raises(openai.NotFoundError) as unknown:
        client.moderations.create(input="hi", model="gpt-nope")
    assert "no model named 'gpt-nope'" in unknown.value.body["message"]
    with pytest.raises(openai.UnprocessableEntityError) as empty:
        client.moderations.create(input="   ")
    assert empty.value.body["param"] == "input" and "empty" in empty.value.body["message"]
    with pytest.raises(openai.UnprocessableEntityError) as single_label:
        client.moderations.create(input="hi", model="linear_svm")
    assert "single-label" in single_label.value.body["message"]


def test_openai_hate_can_come_from_a_hate_model(models, toxicity):
    binary = nlp_classifier.load("linear_svm", models_dir=models)
    with live_server(models, hate_model="linear_svm", require_api_key=True) as server:
        with openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0) as bad:
            with pytest.raises(openai.PermissionDeniedError):
                bad.moderations.create(input="hi")
        with openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0) as good:
            result = good.moderations.create(input=TEXTS[0]).results[0]
    hate = max(
        toxicity.predict([TEXTS[0]])[0].scores["identity_hate"], binary.predict([TEXTS[0]])[0].scores["Hate Speech"]
    )
    assert result.category_scores.hate == pytest.approx(hate)


# --- Perspective ---------------------------------------------------------------------------------------------------
ATTRIBUTES = {
    "TOXICITY": "toxic",
    "SEVERE_TOXICITY": "severe_toxic",
    "IDENTITY_ATTACK": "identity_hate",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
}


def analyze(api, body, **params):
    return api.client.post("/v1alpha1/comments:analyze", json=body, params=params)


def test_perspective_scores_every_attribute(api, toxicity):
    body = {
        "comment": {"text": TEXTS[0]},
        "requestedAttributes": {name: {} for name in ATTRIBUTES},
        "languages": ["en"],
        "doNotStore": True,
        "clientToken": "abc",
    }
    answer = analyze(api, body).json()
    scores = toxicity.predict([TEXTS[0]])[0].scores
    assert set(answer["attributeScores"]) == set(ATTRIBUTES)
    for name, label in ATTRIBUTES.items():
        summary = answer["attributeScores"][name]["summaryScore"]
        assert summary == {"value": pytest.approx(scores[label]), "type": "PROBABILITY"}
        assert answer["attributeScores"][name]["spanScores"][0]["end"] == len(TEXTS[0])
    assert answer["languages"] == ["en"] and answer["detectedLanguages"] == ["en"]
    assert answer["clientToken"] == "abc"


def test_perspective_score_threshold_and_experimental_names(api, toxicity):
    scores = toxicity.predict([TEXTS[1]])[0].scores
    body = {
        "comment": {"text": TEXTS[1]},
        "requestedAttributes": {
            "TOXICITY": {"scoreThreshold": min(1.0, scores["toxic"] + 0.01)},
            "THREAT_EXPERIMENTAL": {},
        },
    }
    answer = analyze(api, body).json()
    assert list(answer["attributeScores"]) == ["THREAT_EXPERIMENTAL"]
    assert answer["attributeScores"]["THREAT_EXPERIMENTAL"]["summaryScore"]["value"] == pytest.approx(scores["threat"])


@pytest.mark.parametrize(
    "body,status,message",
    [
        ({"comment": {"text": "hi"}, "requestedAttributes": {"SEXUALLY_EXPLICIT": {}}}, 400, "not supported"),
        ({"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]}, 400, "English"),
        ({"comment": {"text": "  "}, "requestedAttributes": {"TOXICITY": {}}}, 422, "empty"),
        ({"comment": {"text": "x" * 10_001}, "requestedAttributes": {"TOXICITY": {}}}, 422, "10000"),
        ({"comment": {"text": "hi"}, "requestedAttributes": {}}, 422, "requestedAttributes"),
        ({"comment": {}, "requestedAttributes": {"TOXICITY": {}}}, 422, "text"),
    ],
)
def test_perspective_errors_in_google_shape(api, body, status, message):
    response = analyze(api, body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == status and error["status"] == "INVALID_ARGUMENT" and message in error["message"]
