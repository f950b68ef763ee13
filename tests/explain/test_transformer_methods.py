"""Occlusion and Integrated Gradients on tiny real transformers: occlusion scores are the probability drops of
the one-word-less texts, Integrated Gradients' word scores add up to the label's probability minus the
all-padding baseline's (its completeness property), and emoji read as their names are credited to the emoji."""

from __future__ import annotations

import numpy as np
import pytest

import nlp_classifier
from nlp_classifier.explain.occlusion import without_words

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

TEXTS = ["you are a stupid idiot and i hate you", "thanks for the nice day, love 🔪 that", "ok"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from testkit.tiny_transformers import make_tiny_model

    folder = tmp_path_factory.mktemp("tiny-explain")
    make_tiny_model(folder, "tiny_three_class", "davidson3", max_length=48)
    make_tiny_model(folder, "tiny_toxicity", "jigsaw", "distilbert", max_length=48, emoji_to_text=True)
    return folder


@pytest.mark.parametrize("name", ["tiny_three_class", "tiny_toxicity"])
def test_occlusion_is_the_drop_without_each_word(models, name):
    clf = nlp_classifier.load(name, models_dir=models, num_threads=1)
    for explanation in clf.explain(TEXTS, method="occlusion"):
        column = clf.labels.index(explanation.label)
        copies = [without_words(explanation.text, [(w.start, w.end)]) for w in explanation.words]
        expected = explanation.score - clf.predict_proba(copies)[:, column]
        np.testing.assert_allclose([w.score for w in explanation.words], expected, atol=1e-6)


def test_occlusion_explains_a_calibrated_model_by_its_own_probabilities(models, tmp_path):
    """An isotonic calibrator maps bands of probabilities to one value: occlusion measures the drops before it, so
    words keep their weight, while the explanation's score stays the calibrated one the API shows."""
    import shutil

    from nlp_classifier.model_calibration import calibrate_model

    shutil.copytree(models / "transformer" / "tiny_three_class", tmp_path / "transformer" / "tiny_three_class")
    calibrate_model("tiny_three_class", models_dir=tmp_path, method="isotonic")
    clf = nlp_classifier.load("tiny_three_class", models_dir=tmp_path, num_threads=1)
    assert clf.calibrator is not None
    for explanation in clf.explain(TEXTS[:2], method="occlusion"):
        column = clf.labels.index(explanation.label)
        assert explanation.score == pytest.approx(clf.predict_proba(explanation.text)[0, column])
        copies = [without_words(explanation.text, [(w.start, w.end)]) for w in explanation.words]
        raw = clf.predict_proba([explanation.text, *copies], calibrated=False)[:, column]
        np.testing.assert_allclose([w.score for w in explanation.words], raw[0] - raw[1:], atol=1e-6)
        assert not np.allclose(
            raw, clf.calibrate(clf.predict_proba([explanation.text, *copies], calibrated=False))[:, column]
        )


@pytest.mark.parametrize("name", ["tiny_three_class", "tiny_toxicity"])
def test_integrated_gradients_add_up_to_the_score_minus_the_baseline(models, name):
    clf = nlp_classifier.load(name, backend="torch", models_dir=models, num_threads=1)
    from nlp_classifier.backends.transformer_text import logits_to_proba, prepare_texts

    for explanation in clf.explain(TEXTS[:2], method="integrated_gradients"):
        column = clf.labels.index(explanation.label)
        encoding = clf.tokenizer(prepare_texts([explanation.text], clf.settings)[0], return_special_tokens_mask=True)
        ids = np.array(encoding["input_ids"])
        baseline = np.where(np.array(encoding["special_tokens_mask"]) == 1, ids, clf.tokenizer.pad_token_id)
        inputs = {"input_ids": baseline[np.newaxis]}
        if "attention_mask" in clf.input_names:
            inputs["attention_mask"] = np.ones_like(inputs["input_ids"])
        if "token_type_ids" in clf.input_names:
            inputs["token_type_ids"] = np.zeros_like(inputs["input_ids"])
        baseline_score = logits_to_proba(clf._logits(inputs), clf.problem_type)[0, column]
        total = sum(w.score for w in explanation.words)
        assert total == pytest.approx(explanation.score - baseline_score, abs=0.02)
        assert max(abs(w.score) for w in explanation.words) > 1e-4


def test_an_emoji_read_as_its_name_gets_the_attribution_of_its_word_pieces(models):
    clf = nlp_classifier.load("tiny_toxicity", backend="torch", models_dir=models, num_threads=1)
    for method in ("occlusion", "integrated_gradients"):
        (explanation,) = clf.explain(TEXTS[1], "threat", method=method)
        knife = next(w for w in explanation.words if w.word == "🔪")
        assert abs(knife.score) > 1e-5, method
