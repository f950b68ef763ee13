"""Small labelled data for fast training tests of the baselines (imported by the foundation tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

POLITE = [
    "thank you so much",
    "have a lovely day",
    "great work on the report",
    "see you at lunch",
    "what a nice photo",
    "good luck with the exam",
    "the weather is fine today",
    "happy birthday friend",
]
RUDE = [
    "you stupid idiot",
    "shut up loser",
    "nobody likes you moron",
    "get lost you fool",
    "what an idiot you are",
    "you are a worthless clown",
    "dumb moron go away",
    "pathetic loser",
]


def tiny_frame(n_per_class: int = 40):
    """A small separable labelled table (columns text, label, toxic, insult) for fast training tests."""
    import pandas as pd

    rows = []
    for i in range(n_per_class):
        rows.append({"text": f"{POLITE[i % len(POLITE)]} number {i}", "label": "ok", "toxic": 0, "insult": 0})
        rows.append(
            {"text": f"{RUDE[i % len(RUDE)]} number {i}", "label": "abuse", "toxic": 1, "insult": int(i % 2 == 0)}
        )
    return pd.DataFrame(rows)


@pytest.fixture
def tiny_csv(tmp_path) -> Path:
    """``tiny_frame()`` as a CSV file."""
    path = tmp_path / "tiny.csv"
    tiny_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def davidson_slice(tmp_path_factory) -> Path:
    """1,200 Davidson tweets (400 per class) in the task's own format: big enough for settings to matter."""
    import pandas as pd

    from nlp_classifier.paths import data_dir

    path = tmp_path_factory.mktemp("davidson-slice") / "slice.csv"
    frame = pd.read_csv(data_dir() / "davidson" / "labeled_data.csv.gz")
    frame.groupby("class").head(400).to_csv(path, index=False)
    return path
