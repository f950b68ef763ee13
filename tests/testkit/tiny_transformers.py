"""Tiny random-init transformer classifiers saved as carded model folders, for the ONNX and bench tests.

A BERT or DistilBERT encoder with hidden size 32 and 2 layers, a small WordPiece vocabulary and a classification
head for a built-in task, saved like a trained model (Hugging Face folder + model_card.json with hashes).
Nothing is downloaded; building one takes well under a second.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = (
    "the you are a is i and to of it that this in not my your me so all what like just get no we he she "
    "they them love hate people stupid idiot kill die shit ass trash good great nice thanks thank day life "
    "man woman girl boy white black gay"
).split()


def wordpiece_vocab(words: list[str]) -> dict[str, int]:
    """A small WordPiece vocabulary: special tokens, single characters, their ``##`` continuations, ``words``."""
    tokens = (
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        + list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'@#:/-")
        + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
        + words
    )
    return {w: i for i, w in enumerate(tokens)}


def tiny_config_and_tokenizer(kind: str, words: list[str], **config_options):
    """The config (hidden size 32, 2 layers, 128 positions, plus ``config_options``) and tokenizer of a tiny
    ``kind`` ("bert" or "distilbert") encoder over ``wordpiece_vocab(words)``."""
    import transformers

    vocab = wordpiece_vocab(words)
    size = max(vocab.values()) + 1  # a word that is also a character ("a", "i") keeps its later id
    if kind == "bert":
        config = transformers.BertConfig(
            vocab_size=size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=37,
            max_position_embeddings=128,
            **config_options,
        )
        tokenizer = transformers.BertTokenizer(vocab=vocab)
    else:
        config = transformers.DistilBertConfig(
            vocab_size=size,
            dim=32,
            n_layers=2,
            n_heads=2,
            hidden_dim=37,
            max_position_embeddings=128,
            **config_options,
        )
        tokenizer = transformers.DistilBertTokenizer(vocab=vocab)
    tokenizer.model_max_length = 128
    return config, tokenizer


def save_tiny_encoder(folder: Path, kind: str = "bert", words: list[str] = WORDS) -> Path:
    """A random-init ``kind`` encoder (no classification head) with its tokenizer, saved as a Hugging Face folder:
    the base model the training tests fine-tune."""
    import torch
    import transformers

    torch.manual_seed(0)
    config, tokenizer = tiny_config_and_tokenizer(kind, words)
    model = transformers.BertModel(config) if kind == "bert" else transformers.DistilBertModel(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return Path(folder)


# Small, fast settings for the training tests: a few optimiser steps on a sample of the task.
FAST_TRAINING = {
    "max_length": 24,
    "max_train_samples": 96,
    "max_steps": 6,
    "save_steps": 3,
    "batch_size": 16,
    "eval_batch_size": 128,
    "logging_steps": 3,
    "num_threads": 1,
    "gradient_accumulation_steps": 1,
}


def make_tiny_model(
    models_dir: Path, name: str, task: str, kind: str = "bert", max_length: int = 48, emoji_to_text: bool = False
):
    """Save a tiny ``kind`` ("bert" or "distilbert") classifier for ``task`` at models/transformer/<name>/ with
    its card, and return the card. ``emoji_to_text``: the card says emoji become their names before tokenising."""
    import torch
    import transformers

    from nlp_classifier.card import ModelCard
    from nlp_classifier.tasks import MULTI_LABEL, TASKS

    spec = TASKS[task]
    labels = list(spec.labels)
    folder = Path(models_dir) / "transformer" / name
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    head = {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {lab: i for i, lab in enumerate(labels)},
        "problem_type": (
            "multi_label_classification" if spec.problem_type == MULTI_LABEL else "single_label_classification"
        ),
    }
    # A wider initialisation than usual, so the untrained model's scores vary from text to text.
    config, tokenizer = tiny_config_and_tokenizer(kind, WORDS, initializer_range=0.2, **head)
    model = transformers.AutoModelForSequenceClassification.from_config(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    card = ModelCard(
        name=name,
        family="transformer",
        task=task,
        labels=labels,
        problem_type=spec.problem_type,
        artifact=".",
        base_model=f"tiny-{kind}",
        thresholds={lab: 0.5 for lab in labels},
        training_config={
            "max_length": max_length,
            "stride": None,
            "normalise_text": True,
            "emoji_to_text": emoji_to_text,
        },
    )
    card.path = folder / "model_card.json"
    card.hash_files()
    card.save()
    return card
