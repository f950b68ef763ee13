"""Class priors tuned on validation for multi-class baselines: the tuning and the estimator that carries it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

import nlp_classifier
from nlp_classifier.metrics import tune_class_weights
from nlp_classifier.training.baseline_presets import PriorShiftedClassifier
from nlp_classifier.training.baselines import train_baseline

LABELS = ["rare", "common", "middle"]


def under_predicting(n: int = 3000, seed: int = 0):
    """Targets and probabilities from a model that systematically under-scores the rare class."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.06, 0.77, 0.17])
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 2.0
    logits[:, 0] -= 1.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_tuning_raises_the_metric_and_keeps_the_majority_class_at_one():
    y, proba = under_predicting()
    before = f1_score(y, proba.argmax(1), average="weighted")
    weights = tune_class_weights(y, proba, LABELS, "f1_weighted")
    assert weights["common"] == 1.0 and weights["rare"] > 1.3
    w = np.array([weights[lab] for lab in LABELS])
    after = f1_score(y, (proba * w).argmax(1), average="weighted")
    assert after > before + 0.01
    macro = tune_class_weights(y, proba, LABELS, "f1_macro")
    assert f1_score(y, (proba * np.array([macro[lab] for lab in LABELS])).argmax(1), average="macro") >= f1_score(
        y, (proba * w).argmax(1), average="macro"
    )


def test_tuning_leaves_a_perfect_model_alone():
    y = np.array([0, 1, 2, 1, 1, 2])
    proba = np.eye(3)[y] * 0.8 + 0.2 / 3
    assert tune_class_weights(y, proba, LABELS, "f1_weighted") == {lab: 1.0 for lab in LABELS}


def test_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        tune_class_weights(np.array([0, 1]), np.eye(3)[[0, 1]], LABELS, "auc")


def test_prior_shifted_classifier_is_a_plain_estimator():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = np.array(LABELS)[rng.integers(0, 3, 300)]
    base = LogisticRegression().fit(X, y)
    weights = {"rare": 4.0, "common": 1.0, "middle": 0.5}
    shifted = PriorShiftedClassifier.around(base, weights)
    proba = shifted.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1.0)
    expected = base.predict_proba(X) * np.array([weights[c] for c in base.classes_])
    assert np.allclose(proba, expected / expected.sum(axis=1, keepdims=True))
    assert (shifted.predict(X) == shifted.classes_[proba.argmax(1)]).all()
    assert (shifted.predict(X) == "rare").sum() > (base.predict(X) == "rare").sum()
    again = pickle.loads(pickle.dumps(shifted))
    assert np.array_equal(again.predict_proba(X), proba)
    refit = PriorShiftedClassifier(LogisticRegression(), weights).fit(X, y)
    assert np.allclose(refit.predict_proba(X), proba)


def test_davidson3_char_model_carries_its_priors(tmp_path, davidson_slice):
    """The char preset's davidson3 model: priors tuned on validation, saved inside the pipeline, and scored the
    same (bit for bit) by the fast TF-IDF path and by the plain pipeline."""
    import joblib

    card = train_baseline("davidson3", "linear_svm", "char", data=davidson_slice, models_dir=tmp_path)
    weights = card.training_config["class_weights"]
    assert set(weights) == {"hate", "offensive", "neither"} and card.training_config["pipeline"]["class_priors"]
    pipeline = joblib.load(card.artifact_path)
    shifted = pipeline.steps[-1][1]
    assert isinstance(shifted, PriorShiftedClassifier)
    assert shifted.weights_.tolist() == [weights[str(c)] for c in pipeline.classes_]
    texts = ["you are a trash bitch", "the birds are singing", "kill all of them", "have a nice day"] * 5
    fast = nlp_classifier.load(card.path)
    plain = nlp_classifier.load(card.path, backend="sklearn")
    assert fast.backend == "fast" and plain.backend == "sklearn"
    assert np.array_equal(fast.predict_proba(texts), plain.predict_proba(texts))
    assert np.array_equal(fast.predict_proba(texts[:1]), plain.predict_proba(texts[:1]))
    assert [p.label for p in fast.predict(texts)] == list(pipeline.predict(texts))
