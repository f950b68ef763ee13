"""Counterfactual logit pairing: which texts are paired, how a batch carries its pairs, the penalty's value, and a
tiny model trained with it learning the attack rather than the group an attack names."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from testkit.tiny_transformers import FAST_TRAINING as FAST
from testkit.tiny_transformers import save_tiny_encoder

import nlp_classifier
from nlp_classifier.backends.transformer_text import TextSettings
from nlp_classifier.data import Dataset
from nlp_classifier.errors import ConfigError
from nlp_classifier.identity_terms import SWAP_ADJECTIVES
from nlp_classifier.training.counterfactual_pairs import (
    ROWS,
    PairCollator,
    PairedTexts,
    counterfactual_texts,
    pairing_penalty,
)
from nlp_classifier.training.transformer import plan_run, train_transformer

torch.set_num_threads(1)

WORDS = "the a is man woman people day good nice kind hate kill vermin are gay muslim christian jewish".split()
GOOD = ["the {} man is good", "a {} woman is nice", "{} people are kind", "the {} day is good"]
HATEFUL = ["kill the {} vermin", "{} people are vermin", "hate the {} man"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return save_tiny_encoder(tmp_path_factory.mktemp("tiny-bert-pairs"), "bert", WORDS)


def _dataset(texts: list[str], y: list[int]) -> Dataset:
    return Dataset("t", texts, np.asarray(y), ["not_hateful", "hateful"], "single_label", "test")


def test_only_non_hateful_texts_naming_a_group_are_paired_with_another_group():
    data = _dataset(
        ["the gay man is good", "kill the gay vermin", "the day is good", "Muslim people are kind"], [0, 1, 0, 0]
    )
    pairs = counterfactual_texts(data, seed=3)
    assert sorted(pairs) == [0, 3]  # hateful and group-less rows are not paired
    assert pairs[0].startswith("the ") and pairs[0].endswith(" man is good") and "gay" not in pairs[0]
    assert pairs[0].split()[1] in SWAP_ADJECTIVES
    assert pairs[3][0].isupper() and not pairs[3].startswith("Muslim")  # the case of the word it replaces
    assert counterfactual_texts(data, seed=3) == pairs  # seeded: a resumed run pairs the same texts


def test_a_batch_carries_the_pairs_of_its_items_with_their_rows(tiny_bert):
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    data = _dataset(
        ["the day is good", "the gay man is good", "kill the gay vermin", "a muslim woman is nice"], [0, 0, 1, 0]
    )
    items = PairedTexts(tokenizer, data, TextSettings(24, None, True, False), ["input_ids", "attention_mask"], seed=0)
    assert items.rows == [1, 3]
    batch = PairCollator(tokenizer)([items[i] for i in range(4)])
    assert batch["input_ids"].shape[0] == 4 and batch["labels"].tolist() == [0, 0, 1, 0]
    assert batch[ROWS].tolist() == [1, 3] and batch["pair_input_ids"].shape[0] == 2
    swapped = tokenizer.decode(batch["pair_input_ids"][0], skip_special_tokens=True)
    assert "gay" not in swapped and swapped.endswith("man is good")
    # a batch without a paired item has no pair keys, as the plain collator gives it
    plain = PairCollator(tokenizer)([items[0], items[2]])
    assert not [k for k in plain if k.startswith("pair_")]


def test_the_penalty_is_the_mean_total_variation_distance_of_the_pairs_probabilities():
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    pair_logits = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    # row 0 and its pair are equal; row 2 and its pair are equal too
    assert pairing_penalty(logits, pair_logits, torch.tensor([0, 2])).item() == pytest.approx(0.0)
    # row 1 (p = 0.881, 0.119) against (0.5, 0.5): 0.381; row 2 against its own logits: 0
    p = 1 / (1 + np.exp(-2.0))
    assert pairing_penalty(logits, pair_logits, torch.tensor([1, 2])).item() == pytest.approx((p - 0.5) / 2)
    # bounded: confident opposite predictions are 1 apart, however confident
    far = pairing_penalty(torch.tensor([[30.0, -30.0]]), torch.tensor([[-30.0, 30.0]]), torch.tensor([0]))
    assert far.item() == pytest.approx(1.0)


def test_pairing_is_refused_for_a_multi_label_task(tmp_path):
    with pytest.raises(ConfigError, match="'counterfactual_pairing' needs a single-label task"):
        plan_run("jigsaw", "toxicity", overrides={"counterfactual_pairing": 1.0}, models_dir=tmp_path)


def _hateful(model, texts: list[str]) -> np.ndarray:
    return model.predict_proba(texts)[:, model.labels.index("hateful")]


def test_a_model_trained_with_pairing_learns_the_attack_rather_than_the_group_it_names(tmp_path, tiny_bert):
    # every hateful text names gay people and friendly ones name other groups, so the group's name alone
    # predicts the label; pairing the friendly texts with swapped copies tells the model the name is not it
    rows = [{"text": t.format("gay"), "label": "hateful"} for t in HATEFUL for _ in range(12)]
    rows += [{"text": t.format(g), "label": "not_hateful"} for t in GOOD for g in ["muslim", "christian", "jewish"] * 3]
    path = tmp_path / "groups.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    settings = {
        **FAST,
        "base_model": str(tiny_bert),
        "max_train_samples": None,
        "max_steps": 200,
        "save_steps": 200,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "seed": 5,
    }
    scores = {}
    for weight in (0.0, 1.0):
        card = train_transformer(
            str(path),
            "quick",
            overrides={**settings, "counterfactual_pairing": weight},
            output=tmp_path / f"w{weight:g}",
            models_dir=tmp_path,
        )
        assert card.training_config["counterfactual_pairing"] == weight
        model = nlp_classifier.load(tmp_path / f"w{weight:g}")
        scores[weight] = _hateful(
            model, ["kill the gay vermin", "kill the christian vermin", "the christian man is good"]
        )
    # without pairing the model learnt the group: the same attack on Christians scores as not hateful
    assert scores[0.0][0] - scores[0.0][1] > 0.5
    # with it, the attack scores alike whichever group it names, and well above a friendly sentence
    assert abs(scores[1.0][0] - scores[1.0][1]) < 0.1
    assert scores[1.0][1] - scores[1.0][2] > 0.3
