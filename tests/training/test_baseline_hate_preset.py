"""The TF-IDF `hate` preset trains with the transformer preset's training signal for identity statements and
counter-speech: group-mention copies of friendly texts and condemning frames around short hateful texts."""

from __future__ import annotations

from testkit.frames import tiny_hate_frame
from testkit.models import hate_task_dataset

import nlp_classifier
from nlp_classifier.identity_terms import SWAP_ADJECTIVES

FRIENDLY = [
    "my neighbours are lovely people",
    "thank you to the kind teachers at my school",
    "our new colleagues are wonderful and so helpful",
    "proud of my friends for finishing the race",
    "the students were brilliant today",
    "what a sweet family, we love them",
]


def test_the_char_preset_adds_group_mentions_and_counter_speech_frames_to_hate_training(tmp_path):
    from nlp_classifier.data import split_dataset
    from nlp_classifier.training.baselines import train_baseline

    frame = tiny_hate_frame()
    for i, text in enumerate(FRIENDLY * 4):
        frame.loc[len(frame)] = {"text": f"{text} {i}", "label": "not_hateful"}
    dataset = hate_task_dataset(frame, tmp_path / "tiny.csv")
    train = split_dataset(dataset).train
    hateful = int((train.y == 1).sum())
    friendly = sum(text.rsplit(" ", 1)[0] in FRIENDLY for text in train.texts)

    card = train_baseline("hate", "logistic_regression", "char", dataset=dataset, models_dir=tmp_path / "m")

    pipeline = card.training_config["pipeline"]
    assert pipeline["identity_mentions"] == 3.0 and pipeline["counter_speech"] == 0.9
    added = card.training_config["train_used"] - len(train)
    # three copies of each friendly training text (every one has a person noun), a condemning copy of about 90%
    # of the hateful ones (all short) and an endorsing copy of about half of those, besides misspelled copies
    assert added >= 3 * friendly + hateful

    model = nlp_classifier.load(card.name, models_dir=tmp_path / "m")
    words = dict(model.pipeline.named_steps["tfidf"].transformer_list)["word"].vocabulary_  # in >= 2 texts
    assert "reported" in words  # only the condemning frames say it
    nouns = ("neighbours", "teachers", "colleagues", "friends", "students", "family")
    assert any(f"{adjective} {noun}" in words for adjective in SWAP_ADJECTIVES for noun in nouns)
