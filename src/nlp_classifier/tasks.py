"""The built-in tasks: their labels, problem type and which of their labels are harmless; and the one rule
that tells harmless labels from harmful ones for every model (built-in task or a user's own labels)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

SINGLE_LABEL = "single_label"
MULTI_LABEL = "multi_label"

BINARY_LABELS = ["Regular Speech", "Hate Speech"]
DAVIDSON3_LABELS = ["hate", "offensive", "neither"]
HATE_LABELS = ["not_hateful", "hateful"]
TOXICITY_LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


@dataclass(frozen=True)
class Task:
    """A named task: label names in id order, whether one or several labels apply per text, and the labels
    that mean "nothing harmful" (never flagged)."""

    name: str
    labels: tuple[str, ...]
    problem_type: str
    description: str
    harmless: tuple[str, ...] = ()


TASKS: dict[str, Task] = {
    "davidson": Task(
        "davidson",
        tuple(BINARY_LABELS),
        SINGLE_LABEL,
        "Davidson et al. 2017 tweets, binary: hate or offensive -> Hate Speech, neither -> Regular Speech",
        harmless=("Regular Speech",),
    ),
    "davidson3": Task(
        "davidson3",
        tuple(DAVIDSON3_LABELS),
        SINGLE_LABEL,
        "Davidson et al. 2017 tweets, three classes: hate / offensive / neither",
        harmless=("neither",),
    ),
    "hate": Task(
        "hate",
        tuple(HATE_LABELS),
        SINGLE_LABEL,
        "Hate speech from seven sources (Davidson, Jigsaw, Implicit Hate, Gab Hate Corpus, Stormfront, "
        "HatemojiBuild, ToxiGen seeds): attacks on people for a protected characteristic -> hateful; "
        "profanity, insults at individuals and neutral mentions of groups -> not_hateful",
        harmless=("not_hateful",),
    ),
    "jigsaw": Task(
        "jigsaw", tuple(TOXICITY_LABELS), MULTI_LABEL, "Jigsaw Toxic Comments, six independent toxicity labels"
    ),
}

# Label names (lower-cased, '_'/'-' as spaces) that mean "nothing harmful" in a user's own label set; so does any
# name starting with "not " or "non " (not_hateful, non-toxic).
HARMLESS_NAMES = frozenset(
    {
        "0",
        "none",
        "neither",
        "neutral",
        "normal",
        "clean",
        "ok",
        "okay",
        "safe",
        "benign",
        "regular",
        "regular speech",
        "no hate",
        "nothing",
    }
)
_HARMLESS_PREFIXES = ("not ", "non ")


def _is_harmless_name(label: str) -> bool:
    name = re.sub(r"[\s_\-]+", " ", str(label)).strip().lower()
    return name in HARMLESS_NAMES or name.startswith(_HARMLESS_PREFIXES)


def harmless_labels(labels: Sequence[str], task: str | None = None) -> frozenset[str]:
    """The labels of a model that are never flagged: a built-in task's own list when the model has that task's
    labels, else every label named like "not_*", "non-*", "neither", "none", "neutral", "normal", "clean",
    "regular speech", "0" and the like. Everything else is harmful (flagged when predicted)."""
    spec = TASKS.get(task or "")
    if spec is not None and list(spec.labels) == list(labels):
        return frozenset(spec.harmless)
    return frozenset(lab for lab in labels if _is_harmless_name(lab))
