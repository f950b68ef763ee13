"""Frozen word embeddings and lower layers: what is frozen, the refusal of a layer count the model lacks, and a
tiny model trained with them keeping those weights exactly as pretrained while the rest learns."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from testkit.tiny_transformers import FAST_TRAINING as FAST
from testkit.tiny_transformers import save_tiny_encoder

from nlp_classifier.errors import ConfigError
from nlp_classifier.training.freezing import freeze
from nlp_classifier.training.transformer import plan_run, train_transformer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return save_tiny_encoder(tmp_path_factory.mktemp("tiny-bert-freezing"), "bert")


def _classifier(folder: Path):
    return transformers.AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)


def test_freeze_stops_the_word_embeddings_and_the_first_layers_only(tiny_bert):
    model = _classifier(tiny_bert)
    frozen = freeze(model, word_embeddings=True, layers=1)
    still = {name for name, weight in model.named_parameters() if not weight.requires_grad}
    assert still == {"bert.embeddings.word_embeddings.weight"} | {
        name for name, _ in model.named_parameters() if name.startswith("bert.encoder.layer.0.")
    }
    assert frozen == sum(w.numel() for n, w in model.named_parameters() if n in still)
    # positions, layer 1 and the head still train
    trainable = {name for name, weight in model.named_parameters() if weight.requires_grad}
    assert "bert.embeddings.position_embeddings.weight" in trainable
    assert any(n.startswith("bert.encoder.layer.1.") for n in trainable) and "classifier.weight" in trainable


def test_freeze_refuses_more_layers_than_the_model_has(tiny_bert, tmp_path):
    with pytest.raises(ConfigError, match="'frozen_layers' is 3, but the base model has only 2 layers"):
        freeze(_classifier(tiny_bert), word_embeddings=False, layers=3)
    # a run is refused before anything trains, naming the setting and the base model's depth
    with pytest.raises(ConfigError, match=r"setting 'frozen_layers' is 3, but base model .* has 2 layers"):
        plan_run("davidson", "quick", overrides={"base_model": str(tiny_bert), "frozen_layers": 3}, models_dir=tmp_path)
    with pytest.raises(ConfigError, match="'frozen_layers' must be at least 0"):
        plan_run("davidson", "quick", overrides={"frozen_layers": -1}, models_dir=tmp_path)


def test_a_run_with_frozen_parts_keeps_them_as_pretrained_and_trains_the_rest(tmp_path, tiny_bert):
    rows = [{"text": "i hate you all, die", "label": "hateful"}, {"text": "have a nice day", "label": "not_hateful"}]
    path = tmp_path / "small.csv"
    pd.DataFrame(rows * 24).to_csv(path, index=False)
    overrides = {
        **FAST,
        "base_model": str(tiny_bert),
        "learning_rate": 1e-3,
        "freeze_word_embeddings": True,
        "frozen_layers": 1,
    }
    card = train_transformer(str(path), "quick", overrides=overrides, output=tmp_path / "m", models_dir=tmp_path)
    assert card.training_config["freeze_word_embeddings"] is True and card.training_config["frozen_layers"] == 1
    base = transformers.BertModel.from_pretrained(tiny_bert).state_dict()
    trained = _classifier(tmp_path / "m").bert.state_dict()
    assert torch.equal(trained["embeddings.word_embeddings.weight"], base["embeddings.word_embeddings.weight"])
    layer0 = [k for k in base if k.startswith("encoder.layer.0.")]
    assert layer0 and all(torch.equal(trained[k], base[k]) for k in layer0)
    # what was not frozen moved
    for key in ("embeddings.position_embeddings.weight", "encoder.layer.1.attention.self.query.weight"):
        assert not torch.equal(trained[key], base[key]), key
