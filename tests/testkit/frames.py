"""Small labelled tables for fast training tests: polite/rude texts and a separable hate-task table."""

from __future__ import annotations

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


GROUPS = ["gay people", "muslims", "immigrants", "jews", "black people", "women", "trans people", "refugees"]
HATEFUL = [
    "{g} are vermin and should be wiped out",
    "i hate {g}, they are subhuman filth",
    "{g} are disgusting animals",
    "get rid of all {g}, they ruin everything",
]
NOT_HATEFUL = [
    "i am proud to stand with {g}",
    "my neighbours are {g} and they are lovely",
    "thanks for the help yesterday, {g} event went great",
    "we had a nice dinner with {g} from work",
    "shut up you idiot, nobody asked you",
]
HATE_TINY_NAME = "logistic_regression_hate_char"  # the name the default-model choice looks for


def tiny_hate_frame():
    """A small separable table (text, label) with the hate task's labels not_hateful / hateful."""
    import pandas as pd

    rows = [
        {"text": template.format(g=group), "label": label}
        for templates, label in ((HATEFUL, "hateful"), (NOT_HATEFUL, "not_hateful"))
        for template in templates
        for group in GROUPS
    ]
    rows += [
        {"text": "I am a gay man and proud of it", "label": "not_hateful"},
        {"text": "have a lovely day", "label": "not_hateful"},
    ]
    return pd.DataFrame(rows)
