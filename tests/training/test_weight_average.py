"""Weight averaging of fine-tuned runs (``nlpc train average``): the published weights are the weighted mean of
the ingredients', the result is tuned and measured like a trained model, and ingredients that cannot be averaged
are refused with the reason. Tiny random-init BERTs fine-tuned a few steps on a small file (seconds, offline)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from testkit.cli import run_cli
from testkit.models import train_tiny_hate_model
from testkit.tiny_transformers import FAST_TRAINING, WORDS, save_tiny_encoder

import nlp_classifier
from nlp_classifier.errors import ConfigError
from nlp_classifier.training.transformer import train_transformer
from nlp_classifier.training.weight_average import average_models

torch.set_num_threads(1)


def _rows(labels: tuple[str, str], n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "text": " ".join(rng.choice(WORDS, size=6)) + (" hate kill" if i % 3 == 0 else " love thanks"),
            "label": labels[0] if i % 3 == 0 else labels[1],
        }
        for i in range(n)
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of one setting with seeds 1 and 2 on the same file, and a models folder holding both."""
    root = tmp_path_factory.mktemp("average")
    base = save_tiny_encoder(root / "base")
    data = root / "posts.csv"
    _rows(("abusive", "fine")).to_csv(data, index=False)
    models = root / "models"
    for seed in (1, 2):
        train_transformer(
            str(data),
            "quick",
            overrides={**FAST_TRAINING, "base_model": str(base), "seed": seed},
            output=models / "transformer" / f"run{seed}",
            models_dir=models,
        )
    return models, base, data


def _weights(folder: Path) -> dict:
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    return {k: v.double() for k, v in model.state_dict().items()}


def test_the_average_holds_the_weighted_mean_and_is_measured_like_a_trained_model(runs):
    models, _, _ = runs
    one, two = _weights(models / "transformer" / "run1"), _weights(models / "transformer" / "run2")
    assert any(not torch.equal(one[k], two[k]) for k in one)  # the seeds gave different weights

    card = average_models(["run1", "run2"], name="soup", models_dir=models)
    soup = _weights(models / "transformer" / "soup")
    for key in one:
        torch.testing.assert_close(soup[key], (one[key] + two[key]) / 2, rtol=0, atol=1e-6)

    ingredients = card.training_config["averaged_from"]
    assert [(i["name"], i["seed"], i["weight"]) for i in ingredients] == [("run1", 1, 0.5), ("run2", 2, 0.5)]
    assert all(i["weights_sha256"] and i["validation_f1_macro"] is not None for i in ingredients)
    assert card.training_config["max_length"] == FAST_TRAINING["max_length"]
    assert card.labels == ["abusive", "fine"] and card.splits["test"] > 0
    assert set(card.metrics) == {"validation", "test"} and 0 <= card.metrics["test"]["accuracy"] <= 1
    assert 0 < card.thresholds["abusive"] < 1  # tuned on validation
    assert not card.verify() and (models / "transformer" / "soup" / "training_info.json").is_file()
    assert not list((models / "transformer").glob(".soup*"))  # no staging folder left behind
    proba = nlp_classifier.load("soup", models_dir=models).predict_proba(["love thanks", "hate kill"])
    np.testing.assert_allclose(proba.sum(axis=1), [1.0, 1.0], atol=1e-6)

    weighted = average_models(["run1", "run2"], name="soup31", weights=[3, 1], models_dir=models)
    three_to_one = _weights(models / "transformer" / "soup31")
    for key in one:
        torch.testing.assert_close(three_to_one[key], 0.75 * one[key] + 0.25 * two[key], rtol=0, atol=1e-6)
    assert [i["weight"] for i in weighted.training_config["averaged_from"]] == [0.75, 0.25]


def test_a_model_averaged_with_its_own_copy_scores_like_it(runs, tmp_path):
    models, _, _ = runs
    copy = tmp_path / "run1-copy"
    shutil.copytree(models / "transformer" / "run1", copy)
    card = average_models([models / "transformer" / "run1", copy], name="same", models_dir=models)
    texts = ["love thanks the day", "hate kill them all", "you are a idiot"]
    original = nlp_classifier.load("run1", models_dir=models).predict_proba(texts)
    averaged = nlp_classifier.load(card.name, models_dir=models).predict_proba(texts)
    np.testing.assert_allclose(averaged, original, atol=1e-5)


def test_models_that_cannot_be_averaged_are_refused_with_the_reason(runs, tmp_path):
    models, base, data = runs
    with pytest.raises(ConfigError, match="at least two models"):
        average_models(["run1"], name="x", models_dir=models)
    with pytest.raises(ConfigError, match="given twice"):
        average_models(["run1", "run1"], name="x", models_dir=models)
    with pytest.raises(ConfigError, match="one per model"):
        average_models(["run1", "run2"], name="x", weights=[1.0], models_dir=models)
    with pytest.raises(ConfigError, match="must all be positive"):
        average_models(["run1", "run2"], name="x", weights=[1.0, 0.0], models_dir=models)

    train_tiny_hate_model(models, tmp_path, name="tfidf")
    with pytest.raises(ConfigError, match="'tfidf' is a tfidf model; only transformer"):
        average_models(["run1", "tfidf"], name="x", models_dir=models)

    other_labels = tmp_path / "other.csv"
    _rows(("rude", "polite")).to_csv(other_labels, index=False)
    other_window = {**FAST_TRAINING, "base_model": str(base), "max_length": 16}
    train_transformer(
        str(other_labels),
        "quick",
        overrides={**FAST_TRAINING, "base_model": str(base)},
        output=models / "transformer" / "rude",
        models_dir=models,
    )
    train_transformer(
        str(data), "quick", overrides=other_window, output=models / "transformer" / "short", models_dir=models
    )
    with pytest.raises(ConfigError, match=r"'rude' cannot be averaged with 'run1': task .*labels \['polite', 'rude'\]"):
        average_models(["run1", "rude"], name="x", models_dir=models)
    with pytest.raises(ConfigError, match="'short' cannot be averaged with 'run1': max_length 16 against 24"):
        average_models(["run1", "short"], name="x", models_dir=models)
    assert not (models / "transformer" / "x").exists()


def test_the_command_line_averages_and_reports_bad_weights(runs):
    models, _, _ = runs
    done = run_cli(
        "train",
        "average",
        "--models",
        "run1,run2",
        "--name",
        "cli_soup",
        "--num-threads",
        "1",
        models_dir=models,
        check=True,
    )
    assert "cli_soup: test accuracy" in done.stdout
    assert (models / "transformer" / "cli_soup" / "model_card.json").is_file()
    bad = run_cli("train", "average", "--models", "run1,run2", "--name", "y", "--weights", "1,x", models_dir=models)
    assert bad.returncode == 2 and "--weights must be comma-separated numbers, got '1,x'" in bad.stderr
