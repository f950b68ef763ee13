"""The built-in tasks: their labels, problem type and where their bundled data lives."""
from __future__ import annotations

from dataclasses import dataclass

SINGLE_LABEL = "single_label"
MULTI_LABEL = "multi_label"

BINARY_LABELS = ["Regular Speech", "Hate Speech"]
DAVIDSON3_LABELS = ["hate", "offensive", "neither"]
HATE_LABELS = ["not_hateful", "hateful"]
TOXICITY_LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


@dataclass(frozen=True)
class Task:
    """A named task: label names in id order and whether one or several labels apply per text."""

    name: str
    labels: tuple[str, ...]
    problem_type: str
    description: str


TASKS: dict[str, Task] = {
    "davidson": Task("davidson", tuple(BINARY_LABELS), SINGLE_LABEL,
                     "Davidson et al. 2017 tweets, binary: hate or offensive -> Hate Speech, neither -> Regular Speech"),
    "davidson3": Task("davidson3", tuple(DAVIDSON3_LABELS), SINGLE_LABEL,
                      "Davidson et al. 2017 tweets, three classes: hate / offensive / neither"),
    "hate": Task("hate", tuple(HATE_LABELS), SINGLE_LABEL,
                 "Hate speech from seven sources (Davidson, Jigsaw, Implicit Hate, Gab Hate Corpus, Stormfront, "
                 "HatemojiBuild, ToxiGen seeds): attacks on people for a protected characteristic -> hateful; "
                 "profanity, insults at individuals and neutral mentions of groups -> not_hateful"),
    "jigsaw": Task("jigsaw", tuple(TOXICITY_LABELS), MULTI_LABEL,
                   "Jigsaw Toxic Comments, six independent toxicity labels"),
}
