"""The one decision rule (``decision.decide``) and the consumers that must follow it: ``Classifier.predict``,
batch scoring and metrics decide the same labels from the same probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nlp_classifier.batch import score_frame
from nlp_classifier.card import ModelCard
from nlp_classifier.classifier import Classifier
from nlp_classifier.decision import DEFAULT_THRESHOLD, decide, thresholded_labels, thresholds_or_default
from nlp_classifier.metrics import compute_metrics

MULTI = "multi_label"
SINGLE = "single_label"


class FixedClassifier(Classifier):
    """Answers each text with the probability row stored for it."""

    def __init__(self, card: ModelCard, rows: dict[str, list[float]]):
        super().__init__(card)
        self.rows = rows

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.array([self.rows[t] for t in texts])


def fixed(labels: list[str], problem_type: str, rows: dict[str, list[float]], thresholds=None) -> FixedClassifier:
    card = ModelCard(
        name="fixed",
        family="test",
        task="x",
        labels=labels,
        problem_type=problem_type,
        artifact="x",
        thresholds=thresholds,
    )
    return FixedClassifier(card, rows)


def test_binary_applies_the_positive_labels_threshold_and_never_flags_the_harmless_label():
    proba = np.array([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    made = decide(proba, ["Regular Speech", "Hate Speech"], SINGLE, {"Hate Speech": 0.45}, {"Regular Speech"})
    assert made.chosen.tolist() == [0, 1, 1]
    assert made.flagged_labels(["Regular Speech", "Hate Speech"]) == [[], ["Hate Speech"], ["Hate Speech"]]
    assert made.confidence.tolist() == [0.6, 0.7, 0.5]
    assert decide(proba, ["a", "b"], SINGLE).chosen.tolist() == [0, 1, 1]  # DEFAULT_THRESHOLD, inclusive


def test_multi_class_takes_the_first_maximum():
    made = decide(
        np.array([[0.4, 0.4, 0.2], [0.1, 0.3, 0.6]]),
        ["hate", "offensive", "neither"],
        SINGLE,
        {"hate": 0.9},
        {"neither"},
    )
    assert made.chosen.tolist() == [0, 2]
    assert made.predicted_labels(["hate", "offensive", "neither"]) == ["hate", "neither"]
    assert made.flagged.tolist() == [[True, False, False], [False, False, False]]


def test_multi_label_flags_harmful_labels_at_their_thresholds_and_picks_the_top_one():
    labels = ["toxic", "insult", "none"]
    proba = np.array([[0.7, 0.8, 0.9], [0.2, 0.1, 0.95], [0.5, 0.3, 0.1]])
    made = decide(proba, labels, MULTI, {"insult": 0.9}, {"none"})
    assert made.chosen.tolist() == [[1, 0, 1], [0, 0, 1], [1, 0, 0]]  # raw decisions keep the harmless label
    assert made.flagged_labels(labels) == [["toxic"], [], ["toxic"]]
    assert made.predicted_labels(labels) == ["toxic", None, "toxic"]
    assert made.confidence.tolist() == pytest.approx([0.7, 1 - 0.95, 0.5])


def test_thresholds_default_and_which_labels_have_one():
    assert thresholds_or_default(["a", "b"], {"b": 0.3}) == {"a": DEFAULT_THRESHOLD, "b": 0.3}
    assert thresholded_labels(["a", "b"], SINGLE) == ["b"] and thresholded_labels(["a", "b"], None) == ["b"]
    assert thresholded_labels(["a", "b", "c"], SINGLE) == [] and thresholded_labels(["a", "b", "c"], MULTI) == [
        "a",
        "b",
        "c",
    ]


@pytest.mark.parametrize(
    "labels,problem_type,rows,thresholds",
    [
        (["not_hateful", "hateful"], SINGLE, {"x": [0.7, 0.3], "y": [0.2, 0.8], "z": [0.55, 0.45]}, {"hateful": 0.4}),
        (
            ["hate", "offensive", "neither"],
            SINGLE,
            {"x": [0.2, 0.3, 0.5], "y": [0.5, 0.4, 0.1], "z": [0.3, 0.6, 0.1]},
            None,
        ),
        (
            ["toxic", "threat", "insult"],
            MULTI,
            {"x": [0.1, 0.2, 0.3], "y": [0.9, 0.6, 0.4], "z": [0.5, 0.1, 0.7]},
            {"insult": 0.8},
        ),
    ],
)
def test_predict_batch_and_metrics_decide_alike(labels, problem_type, rows, thresholds):
    clf = fixed(labels, problem_type, rows, thresholds)
    texts = list(rows)
    predictions = clf.predict(texts)
    scored = score_frame(clf, pd.DataFrame({"text": texts}), "text")
    assert scored["flagged"].tolist() == [",".join(p.flagged) for p in predictions]
    assert scored["predicted_label"].tolist() == [p.label or "" for p in predictions]
    proba = np.array([rows[t] for t in texts])
    made = decide(proba, labels, problem_type, clf.thresholds, clf.harmless_labels)
    y_pred = made.chosen
    metrics = compute_metrics(y_pred, proba, labels, problem_type, clf.thresholds)
    assert metrics["accuracy"] == 1.0  # the metrics' own decisions equal decide's
