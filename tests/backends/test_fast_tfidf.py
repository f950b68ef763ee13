"""The fast TF-IDF path returns exactly what the scikit-learn pipeline returns, for every baseline kind."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline

import nlp_classifier
from nlp_classifier.backends.tfidf_fast import Unsupported, compile_pipeline
from nlp_classifier.data import load_dataset, split_dataset
from nlp_classifier.errors import ConfigError
from nlp_classifier.tasks import MULTI_LABEL
from nlp_classifier.training.baseline_presets import build_pipeline, preset_config

N_TEXTS = 300
EDGE_TEXTS = [
    "",
    "   ",
    "a",
    "I",
    "ok ok ok ok ok",
    "@someone http://t.co/x &amp;amp; RT!!!",
    "Ünïcödé ÀÉÎ naïve café",
    "emoji 🙂🙂 only",
    "tab\tand\nnewline  double  space",
    "x" * 300,
    "word " * 400,
]


@pytest.fixture(scope="module")
def splits():
    return {task: split_dataset(load_dataset(task)) for task in ("davidson", "davidson3", "jigsaw")}


def texts_of(splits, task: str) -> list[str]:
    return splits[task].test.texts[:N_TEXTS] + EDGE_TEXTS


def fitted(splits, task: str, algorithm: str, preset: str, n_train: int = 2500):
    """A pipeline exactly as the trainer builds it, fitted on the first ``n_train`` training texts."""
    train = splits[task].train
    y = train.y[:n_train] if train.problem_type == MULTI_LABEL else [train.labels[i] for i in train.y[:n_train]]
    config = preset_config(preset)
    if preset == "char":  # smaller vocabularies keep the test quick; the steps are the same
        config["features"]["char"]["max_features"] = 20000
    return build_pipeline(algorithm, config, train.problem_type).fit(train.texts[:n_train], y)


def assert_identical(pipeline, texts: list[str]) -> None:
    fast = compile_pipeline(pipeline)
    expected = pipeline.predict_proba(texts)
    assert np.array_equal(fast.predict_proba(texts), expected)
    one_by_one = np.vstack([fast.predict_proba([t]) for t in texts])
    assert np.array_equal(one_by_one, expected), float(np.abs(one_by_one - expected).max())


@pytest.mark.parametrize("name", ["logistic_regression", "linear_svm", "logistic_regression_jigsaw"])
def test_saved_baselines_fast_backend_equals_pipeline(baseline_models_dir, splits, name):
    fast = nlp_classifier.load(name, models_dir=baseline_models_dir)
    plain = nlp_classifier.load(name, backend="sklearn", models_dir=baseline_models_dir)
    assert (fast.backend, plain.backend) == ("fast", "sklearn")
    texts = texts_of(splits, fast.card.task)
    expected = plain.predict_proba(texts)
    assert expected.shape == (len(texts), len(fast.labels))
    assert np.array_equal(fast.predict_proba(texts), expected)
    assert np.array_equal(np.vstack([fast.predict_proba(t) for t in texts]), expected)
    assert [p.to_dict() for p in fast.predict(texts)] == [p.to_dict() for p in plain.predict(texts)]


@pytest.mark.parametrize(
    "task,algorithm,preset",
    [
        ("davidson", "logistic_regression", "char"),  # FeatureUnion of word + char_wb vectorizers, sublinear tf
        ("davidson", "linear_svm", "char"),  # ... with the calibrated SVM
        ("davidson3", "logistic_regression", "seed"),  # multi-class softmax
        ("davidson3", "linear_svm", "seed"),  # multi-class sigmoid calibration, normalised rows
        ("jigsaw", "linear_svm", "seed"),  # multi-label one-vs-rest of calibrated SVMs
    ],
)
def test_every_baseline_kind_is_reproduced_exactly(splits, task, algorithm, preset):
    assert_identical(fitted(splits, task, algorithm, preset), texts_of(splits, task))


def test_unsupported_pipeline_falls_back_to_the_pipeline(baseline_models_dir, splits, tmp_path):
    import joblib

    from nlp_classifier.backends.sklearn_backend import load
    from nlp_classifier.registry import resolve

    train = splits["davidson"].train
    pipeline = Pipeline([("counts", CountVectorizer()), ("nb", MultinomialNB())])
    pipeline.fit(train.texts[:2000], [train.labels[i] for i in train.y[:2000]])
    with pytest.raises(Unsupported, match="CountVectorizer"):
        compile_pipeline(pipeline)
    card = resolve("logistic_regression", baseline_models_dir)
    card.path = tmp_path / "nb.card.json"
    card.artifact = "nb.joblib"
    joblib.dump(pipeline, tmp_path / "nb.joblib")
    classifier = load(card)
    assert classifier.backend == "sklearn"
    texts = texts_of(splits, "davidson")
    assert np.array_equal(classifier.predict_proba(texts), pipeline.predict_proba(texts)[:, [1, 0]])


def test_backend_choice_for_tfidf_models(baseline_models_dir):
    with pytest.raises(ConfigError, match="not available for TF-IDF models.*fast.*sklearn"):
        nlp_classifier.load("logistic_regression", backend="onnx", models_dir=baseline_models_dir)


@pytest.mark.parametrize(
    "options",
    [
        {"ngram_range": (1, 1)},
        {"ngram_range": (1, 2)},
        {"ngram_range": (1, 3)},
        {"ngram_range": (2, 3)},
        {"ngram_range": (1, 2), "stop_words": "english"},
        {"ngram_range": (1, 2), "lowercase": False},
        {"ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b", "strip_accents": "unicode"},
    ],
)
def test_word_analyzer_gives_scikit_learns_ngrams_in_order(splits, options):
    """The fast path's word analyzer (zip/map n-grams) returns exactly build_analyzer()'s list."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from nlp_classifier.backends.tfidf_fast import _analyzer

    texts = texts_of(splits, "davidson")[:500] + ["", "one", "two words", "Ünïcödé àccents here ok"]
    vec = TfidfVectorizer(**options).fit(texts)
    fast, plain = _analyzer(vec), vec.build_analyzer()
    assert [fast(t) for t in texts] == [plain(t) for t in texts]
