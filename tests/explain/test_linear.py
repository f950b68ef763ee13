"""Linear explanations of TF-IDF models are exact: the word scores plus the intercept are the decision function
scikit-learn computes for the explained label (before any sigmoid, calibration or prior shift), for word and
character n-grams, logistic regression and linear SVM, binary, 3-class and multi-label, on both backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.multiclass import OneVsRestClassifier
from testkit.models import task_slice

import nlp_classifier
from nlp_classifier.errors import ConfigError
from nlp_classifier.estimators import PriorShiftedClassifier
from nlp_classifier.explain import Explanation, WordAttribution

# task, algorithm, preset: word 1-3-grams (seed), word + char_wb (char), word + plain char with prior shift
# (char for davidson3), one-vs-rest multi-label (jigsaw)
MODELS = [
    ("davidson", "logistic_regression", "seed"),
    ("davidson", "linear_svm", "char"),
    ("davidson3", "linear_svm", "char"),
    ("davidson3", "logistic_regression", "seed"),
    ("jigsaw", "linear_svm", "seed"),
]

TEXTS = [
    "@bob   You are SUCH an idiot!!! 😡😡 go back to https://x.co/a &amp; stay out",
    "what a lovely day, thanks",
    "Ça va? naïve café … 👨🏿‍💻 — trash bitch",
    "",
    "   ",
    "ＦＵＬＬ width and हिन्दी text, don't",
]


@pytest.fixture(scope="module")
def linear_models_dir(tmp_path_factory) -> Path:
    from nlp_classifier.training.baselines import train_baseline

    folder = tmp_path_factory.mktemp("linear-models")
    for task, algorithm, preset in MODELS:
        data = task_slice(task, folder / f"{task}.csv")
        train_baseline(task, algorithm, preset, data=data, models_dir=folder, name=f"{task}-{algorithm}-{preset}")
    return folder


def _linear_decision(pipeline, texts: list[str], output: int) -> tuple[np.ndarray, float]:
    """scikit-learn's own decision function and intercept behind ``predict_proba`` column ``output``."""
    X = pipeline[:-1].transform(texts)
    est = pipeline[-1]
    if isinstance(est, OneVsRestClassifier):
        est, output = est.estimators_[output], 1
    if isinstance(est, PriorShiftedClassifier):
        est = est.estimator_
    if isinstance(est, CalibratedClassifierCV):
        (member,) = est.calibrated_classifiers_
        est = member.estimator
    decision = est.decision_function(X)
    intercept = np.atleast_1d(est.intercept_)
    if decision.ndim == 1:  # binary: the decision is the positive class's; the negative class's is its negation
        sign = 1.0 if output == 1 else -1.0
        return sign * decision, sign * float(intercept[0])
    return decision[:, output], float(intercept[output])


@pytest.mark.parametrize("backend", ["fast", "sklearn"])
@pytest.mark.parametrize("model", MODELS, ids=["-".join(m) for m in MODELS])
def test_word_scores_plus_intercept_are_the_decision_function(linear_models_dir, model, backend):
    clf = nlp_classifier.load("-".join(model), backend=backend, models_dir=linear_models_dir)
    assert clf.backend == backend
    for label in clf.labels:
        explanations = clf.explain(TEXTS, label)
        decision, intercept = _linear_decision(clf.pipeline, TEXTS, clf.output_column(label))
        sums = np.array([sum(w.score for w in e.words) for e in explanations])
        np.testing.assert_allclose(sums + intercept, decision, rtol=1e-9, atol=1e-9)
        assert all(e.method == "linear" and e.label == label for e in explanations)
        proba = clf.predict_proba(TEXTS)[:, clf.labels.index(label)]
        np.testing.assert_allclose([e.score for e in explanations], proba)
    # some words carry weight on a text with known vocabulary
    assert any(abs(w.score) > 1e-3 for w in clf.explain(TEXTS[0])[0].words)


def test_offsets_slice_the_original_text(linear_models_dir):
    clf = nlp_classifier.load("davidson-linear_svm-char", models_dir=linear_models_dir)
    for explanation, text in zip(clf.explain(TEXTS), TEXTS):
        assert explanation.text == text
        for word in explanation.words:
            assert text[word.start : word.end] == word.word
        starts = [w.start for w in explanation.words]
        assert starts == sorted(starts)
    words = [w.word for w in clf.explain(TEXTS[2])[0].words]
    assert words == ["Ça", "va", "?", "naïve", "café", "…", "👨🏿‍💻", "—", "trash", "bitch"]
    words = [w.word for w in clf.explain(TEXTS[5])[0].words]
    assert words == ["ＦＵＬＬ", "width", "and", "हिन्दी", "text", ",", "don't"]
    assert [w.word for w in clf.explain(TEXTS[0])[0].words][8:10] == ["😡", "😡"]


def test_mention_and_html_entity_contributions_land_on_their_words(linear_models_dir):
    """Normalisation turns "@bob" into "@USER" and "&amp;" into "&": their features are credited to the
    original characters they replaced, not to a neighbour."""
    clf = nlp_classifier.load("davidson-linear_svm-char", models_dir=linear_models_dir)
    words = {w.word: w.score for w in clf.explain("hello @someone &amp; you")[0].words}
    assert words["someone"] != 0.0
    assert words["&"] != 0.0
    assert words["amp"] == 0.0 and words[";"] == 0.0


def test_default_label_is_the_predicted_one_and_multi_label_the_top_score(linear_models_dir):
    clf = nlp_classifier.load("davidson3-logistic_regression-seed", models_dir=linear_models_dir)
    predictions = clf.predict(TEXTS[:3])
    assert [e.label for e in clf.explain(TEXTS[:3])] == [p.label for p in predictions]
    multi = nlp_classifier.load("jigsaw-linear_svm-seed", models_dir=linear_models_dir)
    text = "what a lovely day, thanks"
    (prediction,) = multi.predict(text)
    assert prediction.label is None  # nothing flagged: the highest-scoring label is explained
    assert multi.explain(text)[0].label == max(prediction.scores, key=prediction.scores.__getitem__)


def test_top_and_to_dict():
    words = [WordAttribution("a", 0, 1, 0.5), WordAttribution("b", 2, 3, -1.0), WordAttribution("c", 4, 5, 2.0)]
    explanation = Explanation("a b c", "hateful", 0.9, "linear", words)
    assert [w.word for w in explanation.top(2)] == ["c", "a"]
    assert [w.word for w in explanation.top(5)] == ["c", "a"]  # only positive words
    assert explanation.to_dict() == {
        "text": "a b c",
        "label": "hateful",
        "score": 0.9,
        "method": "linear",
        "words": [
            {"word": "a", "start": 0, "end": 1, "score": 0.5},
            {"word": "b", "start": 2, "end": 3, "score": -1.0},
            {"word": "c", "start": 4, "end": 5, "score": 2.0},
        ],
    }


def test_unknown_label_and_method_are_clear_errors(linear_models_dir):
    clf = nlp_classifier.load("davidson-logistic_regression-seed", models_dir=linear_models_dir)
    with pytest.raises(ConfigError, match="unknown label 'toxic'; labels are: "):
        clf.explain("hi", "toxic")
    with pytest.raises(ConfigError, match="unknown explanation method 'shap'; use one of linear, occlusion"):
        clf.explain("hi", method="shap")
    with pytest.raises(ConfigError, match="'integrated_gradients' is not available .* use one of linear, occlusion"):
        clf.explain("hi", method="integrated_gradients")
