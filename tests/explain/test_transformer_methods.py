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
