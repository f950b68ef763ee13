"""The model set `make run` prepares when missing, and the examples it shows."""
from __future__ import annotations

# (task, algorithm, preset): the seed's two baselines, the stronger char preset, and a toxicity baseline.
DEFAULT_BASELINES = [
    ("davidson", "logistic_regression", "seed"),
    ("davidson", "linear_svm", "seed"),
    ("davidson", "linear_svm", "char"),
    ("jigsaw", "logistic_regression", "char"),
]

EXAMPLE_TEXTS = [
    "Thanks for the help yesterday, the meeting went great!",
    "I hope you have a wonderful birthday with your family.",
    "shut up you stupid idiot, nobody wants you here",
    "You are a worthless piece of trash and everyone hates you",
]
