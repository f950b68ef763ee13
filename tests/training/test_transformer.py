"""Transformer fine-tuning, saving, loading and windowed inference with tiny random-init models (offline).

Tiny BERT and DistilBERT encoders (hidden size 32, 2 layers) are built from a config with a small WordPiece
vocabulary, so training a few steps on the real tasks takes seconds on 2 cores and nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from testkit.cli import run_cli, start_cli
from testkit.tiny_transformers import FAST_TRAINING as FAST
from testkit.tiny_transformers import save_tiny_encoder

import nlp_classifier
from nlp_classifier.backends import transformer_backend
from nlp_classifier.backends.transformer_text import (
    aggregate_windows,
    encode_windows,
    logits_to_proba,
    unpad_tokenizer,
)
from nlp_classifier.errors import ConfigError
from nlp_classifier.obfuscation import lexicon_sha256
from nlp_classifier.registry import list_cards
from nlp_classifier.tasks import BINARY_LABELS, TOXICITY_LABELS
from nlp_classifier.training.staging import staging_lock
from nlp_classifier.training.transformer import (
    default_base_model,
    plan_run,
    train_transformer,
)

torch.set_num_threads(1)

WORDS = (
    "the you are a is i and to of it that this in not my your me so all what like just get no we he she "
    "they them love hate people stupid idiot kill die fuck shit bitch ass trash nigga hoe fag retard "
    "good great nice thanks thank day life man woman girl boy white black gay jew muslim"
).split()


def _tiny_model(folder: Path, kind: str) -> Path:
    """A random-init encoder (no classification head) over this module's words, saved with its tokenizer."""
    return save_tiny_encoder(folder, kind, WORDS)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny-bert"), "bert")


@pytest.fixture(scope="module")
def tiny_distilbert(tmp_path_factory) -> Path:
    return _tiny_model(tmp_path_factory.mktemp("tiny-distilbert"), "distilbert")


@pytest.fixture(scope="module")
def trained_davidson(tmp_path_factory, tiny_bert):
    """A tiny BERT fine-tuned a few steps on the Davidson binary task with the standard preset."""
    models = tmp_path_factory.mktemp("models-davidson")
    card = train_transformer(
        "davidson", "standard", overrides={**FAST, "base_model": str(tiny_bert)}, models_dir=models
    )
    return models, card


@pytest.fixture
def small_csv(tmp_path) -> Path:
    """A small binary file task (fast to split and evaluate)."""
    rng = np.random.default_rng(0)
    rows = [
        {
            "text": " ".join(rng.choice(WORDS, size=6)) + (" hate kill" if i % 3 == 0 else " love thanks"),
            "label": "abusive" if i % 3 == 0 else "fine",
        }
        for i in range(120)
    ]
    path = tmp_path / "small.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# --- tokenisation and windows --------------------------------------------------------------------------------
def test_windows_cover_a_long_text_and_padding_is_dynamic(tiny_bert):
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    unpad_tokenizer(tokenizer)
    long_text = " ".join(["you"] * 50)  # 50 word tokens + [CLS]/[SEP]
    inputs, index = encode_windows(tokenizer, ["the day", long_text], max_length=16, stride=4)
    assert index.tolist()[0] == 0 and set(index.tolist()[1:]) == {1}
    n_long = int((index == 1).sum())
    assert n_long == 5  # windows of 14 content tokens advancing by 10: ceil((50 - 14) / 10) + 1
    assert inputs["input_ids"].shape == (1 + n_long, 16) and inputs["input_ids"].dtype == np.int64
    covered = sum(int(m.sum()) - 2 for m in inputs["attention_mask"][index == 1])
    assert covered == 50 + 4 * (n_long - 1)  # every token seen; consecutive windows share 4

    single, single_index = encode_windows(tokenizer, ["the day"], max_length=16)
    assert single["input_ids"].shape == (1, 4) and single_index.tolist() == [0]  # no padding for one text
    batch, _ = encode_windows(
        tokenizer, ["the day", "you are the"], max_length=16, input_names=["input_ids", "attention_mask"]
    )
    assert set(batch) == {"input_ids", "attention_mask"} and batch["input_ids"].shape == (2, 5)
    assert batch["attention_mask"].tolist()[0] == [1, 1, 1, 1, 0]


@pytest.mark.parametrize("max_length,stride", [(8, 0), (12, 3), (16, 4), (24, 20), (128, None)])
def test_windows_are_exact_overlapping_slices_of_the_whole_text(tiny_bert, max_length, stride):
    # Cut by us, not by the tokenizer's overflow (tokenizers 0.23.2 returned 1 overflow window here instead of 4).
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    unpad_tokenizer(tokenizer)
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS, size=n)) for n in (1, 5, 6, 7, 13, 40, 97, 250)]
    inputs, index = encode_windows(tokenizer, texts, max_length=max_length, stride=stride)
    overlap = max_length // 4 if stride is None else stride
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    for i, text in enumerate(texts):
        content = tokenizer(text, add_special_tokens=False)["input_ids"]
        windows = [
            ids[mask == 1].tolist()
            for ids, mask in zip(inputs["input_ids"][index == i], inputs["attention_mask"][index == i])
        ]
        assert all(w[0] == cls and w[-1] == sep and len(w) <= max_length for w in windows)
        parts = [w[1:-1] for w in windows]
        assert len(parts) == max(1, -(-(len(content) - (max_length - 2)) // (max_length - 2 - overlap)) + 1)
        rebuilt = parts[0] + [t for part in parts[1:] for t in part[overlap:]]
        assert rebuilt == content  # every token, in order, each window starting `overlap` tokens back
        assert all(len(p) == max_length - 2 for p in parts[:-1])


def test_aggregate_windows_takes_the_max_per_text():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    out = aggregate_windows(probs, np.array([0, 0, 1]), 2, "single_label")
    np.testing.assert_allclose(out, [[0.2, 0.8], [0.6, 0.4]])
    multi = aggregate_windows(np.array([[0.1, 0.7], [0.5, 0.2]]), np.array([0, 0]), 1, "multi_label")
    np.testing.assert_allclose(multi, [[0.5, 0.7]])
    three = aggregate_windows(np.array([[0.1, 0.1, 0.8], [0.1, 0.7, 0.2]]), np.array([0, 0]), 1, "single_label")
    np.testing.assert_allclose(three.sum(axis=1), [1.0])
    assert three.argmax() == 2 and three[0, 1] > 0.4
    np.testing.assert_allclose(logits_to_proba(np.array([[0.0, 0.0]]), "single_label"), [[0.5, 0.5]])


# --- training, saving, loading -------------------------------------------------------------------------------
def test_each_evaluation_records_the_thresholds_tuned_on_it_and_the_metrics_at_them():
    from types import SimpleNamespace

    from nlp_classifier.metrics import compute_metrics, tune_thresholds
    from nlp_classifier.training.hf_glue import metrics_for_trainer

    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.3).astype(int)
    # scores that run high: the F1-best threshold of the positive class is well above 0.5
    logits = np.stack([np.zeros(400), 1.5 + 1.2 * y + rng.normal(0, 0.6, 400)], axis=1)
    labels = ["not_hateful", "hateful"]
    out = metrics_for_trainer(labels, "single_label")(SimpleNamespace(predictions=logits, label_ids=y))
    proba = logits_to_proba(logits, "single_label")
    tuned = tune_thresholds(y, proba, labels, "single_label")
    assert tuned["hateful"] > 0.7
    assert {k: v for k, v in out.items() if k.startswith("threshold_")} == {
        "threshold_not_hateful": 0.5,
        "threshold_hateful": tuned["hateful"],
    }
    at_tuned = compute_metrics(y, proba, labels, "single_label", tuned)
    assert out["tuned_f1_macro"] == at_tuned["f1_macro"] > out["f1_macro"]  # at 0.5 nearly everything is flagged
    assert out["tuned_roc_auc"] == out["roc_auc"]
    # a multi-class task has no threshold to tune: nothing is added
    three = metrics_for_trainer(["a", "b", "c"], "single_label")(
        SimpleNamespace(predictions=rng.normal(size=(60, 3)), label_ids=rng.integers(0, 3, 60))
    )
    assert not [k for k in three if k.startswith(("threshold_", "tuned_"))]


def test_davidson_model_has_the_seed_layout_and_a_verified_card(trained_davidson, tiny_bert):
    models, card = trained_davidson
    folder = models / "transformer" / "distilbert"
    assert card.path == folder / "model_card.json" and card.name == "distilbert"
    for name in (
        "config.json",
        "labels.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "training_info.json",
        "model_card.json",
    ):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["problem_type"] == "single_label_classification"
    assert config["id2label"] == {"0": "Regular Speech", "1": "Hate Speech"}
    assert config["label2id"] == {"Regular Speech": 0, "Hate Speech": 1}
    assert json.loads((folder / "labels.json").read_text())["labels"] == BINARY_LABELS
    info = json.loads((folder / "training_info.json").read_text())
    for key in (
        "metrics",
        "training_time_seconds",
        "training_time_minutes",
        "avg_inference_time_ms",
        "num_classes",
        "classes",
    ):
        assert key in info
    assert info["classes"] == BINARY_LABELS and 0 <= info["metrics"]["accuracy"] <= 1
    assert info["global_step"] == 6 and info["metrics"]["n"] == card.splits["test"]
    checkpoints = sorted(p.name for p in folder.glob("checkpoint-*"))
    assert checkpoints and not any(rel.startswith("checkpoint-") for rel in card.files)
    assert not list(folder.parent.glob(".distilbert.training*")) and not (folder / "run_config.json").exists()
    assert card.verify() == [] and (folder / "model.safetensors").stat().st_mode & 0o044  # readable by others
    assert card.base_model == str(tiny_bert) and card.training_config["preset"] == "standard"
    assert card.training_config["lr_scheduler"] == "cosine_with_restarts" and card.training_config["num_cycles"] == 3
    assert card.splits["train_used"] == 96 and set(card.thresholds) == set(BINARY_LABELS)
    assert [c.name for c in list_cards(models)] == ["distilbert"]


def test_saved_model_reloads_in_a_new_process(trained_davidson):
    models, card = trained_davidson
    folder = models / "transformer" / "distilbert"
    proc = run_cli(
        "predict",
        "--model",
        "distilbert",
        "--json",
        "you are a good man",
        "kill them all",
        models_dir=models,
        env={"HF_HUB_OFFLINE": "1"},
        check=True,
    )
    rows = json.loads(proc.stdout)
    assert [r["text"] for r in rows] == ["you are a good man", "kill them all"]
    assert all(r["label"] in BINARY_LABELS and abs(sum(r["scores"].values()) - 1) < 1e-5 for r in rows)

    in_process = nlp_classifier.load("distilbert", models_dir=models)
    expected = in_process.predict_proba(["you are a good man", "kill them all"])
    np.testing.assert_allclose([[r["scores"][lab] for lab in BINARY_LABELS] for r in rows], expected, atol=1e-5)

    script = (
        "import sys, torch\nfrom transformers import AutoModelForSequenceClassification, AutoTokenizer\n"
        "m = AutoModelForSequenceClassification.from_pretrained(sys.argv[1])\n"
        "t = AutoTokenizer.from_pretrained(sys.argv[1])\n"
        "print(m.config.id2label[1], m(**t(['kill them all'], return_tensors='pt')).logits.shape)\n"
    )
    plain = subprocess.run(
        [sys.executable, "-c", script, str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == "Hate Speech torch.Size([1, 2])"


def test_long_text_is_scored_over_windows_not_cut(trained_davidson):
    models, _ = trained_davidson
    clf = nlp_classifier.load("distilbert", models_dir=models, batch_size=4)
    assert clf.backend == "torch" and clf.settings.max_length == 24
    long_text = " ".join(["you are good"] * 30 + ["kill die stupid idiot"] * 2 + ["thanks"] * 40)
    inputs, index = encode_windows(clf.tokenizer, [long_text], 24, clf.settings.overlap, input_names=clf.input_names)
    assert len(index) > 5
    with torch.inference_mode():
        windows = torch.softmax(clf.model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).logits, -1).numpy()
    row = clf.predict_proba([long_text, "the day"])[0]
    assert row[1] == pytest.approx(windows[:, 1].max(), abs=1e-5) and row.sum() == pytest.approx(1.0)
    assert windows[:, 1].max() > windows[:, 1].min()  # the windows really see different parts of the text
    alone = clf.predict_proba([long_text])[0]  # one text too long for the single-text shortcut: windows again
    assert alone[1] == pytest.approx(windows[:, 1].max(), abs=1e-5)


def test_single_text_shortcut_gives_the_batch_results(trained_davidson):
    """One text at a time goes straight through the fast tokenizer (no padding, no windowing set-up); it must
    score exactly like the same text inside a padded, length-sorted batch."""
    models, _ = trained_davidson
    clf = nlp_classifier.load("distilbert", models_dir=models, batch_size=8)
    texts = ["the day", "you stupid idiot", "RT @someone: thanks &amp; see http://t.co/x", "a " * 15, "ok"]
    assert clf._single("the day")["input_ids"].shape == (1, 4)  # [CLS] the day [SEP], unpadded
    batch = clf.predict_proba(texts)
    one_by_one = np.vstack([clf.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(one_by_one, batch, atol=1e-5)
    assert np.ptp(batch[:, 1]) > 0  # not a constant model


def test_jigsaw_six_labels_with_distilbert(tmp_path, tiny_distilbert):
    card = train_transformer(
        "jigsaw", "toxicity", overrides={**FAST, "base_model": str(tiny_distilbert)}, models_dir=tmp_path
    )
    folder = tmp_path / "toxicity_multi_head"
    assert card.path == folder / "model_card.json" and card.problem_type == "multi_label"
    config = json.loads((folder / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification" and config["model_type"] == "distilbert"
    assert [config["id2label"][str(i)] for i in range(6)] == TOXICITY_LABELS
    assert set(card.thresholds) == set(TOXICITY_LABELS) and all(0 < t < 1 for t in card.thresholds.values())
    test = card.metrics["test"]
    assert set(test["per_label"]) == set(TOXICITY_LABELS) and 0 <= test["mean_roc_auc"] <= 1
    clf = nlp_classifier.load(folder)
    assert "token_type_ids" not in clf.input_names
    proba = clf.predict_proba(["you stupid idiot", "thanks for the help", "the day"])
    assert proba.shape == (3, 6) and not np.allclose(proba.sum(axis=1), 1.0)  # independent sigmoids
    assert card.training_config["learning_rate"] == 2e-5


def test_davidson3_and_a_user_file(tmp_path, tiny_bert, small_csv):
    card = train_transformer(
        "davidson3", "quick", overrides={**FAST, "base_model": str(tiny_bert)}, models_dir=tmp_path
    )
    assert card.name == "transformer_quick_davidson3" and card.labels == ["hate", "offensive", "neither"]
    assert (tmp_path / "transformer" / "quick_davidson3" / "model_card.json").is_file()
    proba = nlp_classifier.load(card.name, models_dir=tmp_path).predict_proba(["the day", "you idiot"])
    np.testing.assert_allclose(proba.sum(axis=1), [1.0, 1.0], atol=1e-6)

    user = train_transformer(
        str(small_csv),
        "quick",
        overrides={**FAST, "base_model": str(tiny_bert), "read_obfuscation": True, "best_checkpoint_metric": "roc_auc"},
        output=tmp_path / "mine",
        models_dir=tmp_path,
    )
    assert user.name == "mine" and user.labels == ["abusive", "fine"] and user.task == "small"
    # asked to, the run keeps the checkpoint with the best validation ROC-AUC, not macro-F1 at threshold 0.5
    last = max((tmp_path / "mine").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    history = json.loads((last / "trainer_state.json").read_text())["log_history"]
    aucs = [entry["eval_roc_auc"] for entry in history if "eval_roc_auc" in entry]
    assert len(aucs) == 2 and user.training_config["best_checkpoint_metric"] == "roc_auc"
    assert user.training_config["best_validation_score"] == pytest.approx(max(aucs))
    mine = nlp_classifier.load(tmp_path / "mine")
    assert mine.predict(["love thanks"])[0].label in ("abusive", "fine")
    # trained reading disguised words: the card pins the lexicon, and "l0v3 th4nks" scores as "love thanks"
    assert user.read_obfuscation == lexicon_sha256() and user.training_config["read_obfuscation"] is True
    np.testing.assert_allclose(mine.predict_proba("l0v3 th4nks"), mine.predict_proba("love thanks"))


def test_the_same_seed_trains_the_same_model_and_another_seed_does_not(tmp_path, tiny_bert, small_csv):
    def weights(seed: int, folder: str) -> dict:
        overrides = {**FAST, "base_model": str(tiny_bert), "seed": seed}
        train_transformer(str(small_csv), "quick", overrides=overrides, output=tmp_path / folder, models_dir=tmp_path)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / folder)
        return {name: tensor.clone() for name, tensor in model.state_dict().items()}

    first, again, other = weights(7, "first"), weights(7, "again"), weights(8, "other")
    assert first.keys() == again.keys() == other.keys()
    # the classification head is new in every run: it too must come from the seed
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert not torch.equal(first["classifier.weight"], other["classifier.weight"])


def test_resume_if_interrupted_starts_afresh_without_an_interrupted_run_and_excludes_restart(
    tmp_path, tiny_bert, small_csv
):
    models = tmp_path / "models"
    settings = {"base_model": str(tiny_bert), "max_length": 16}
    plan = plan_run(str(small_csv), "quick", overrides=settings, models_dir=models, resume_if_interrupted=True)
    assert plan.resume_from is None
    # a staging folder without a complete checkpoint is no interrupted run: starting again is refused as before
    (plan.staging / "checkpoint-5").mkdir(parents=True)
    with pytest.raises(ConfigError, match="--resume to continue it or --restart"):
        plan_run(str(small_csv), "quick", overrides=settings, models_dir=models, resume_if_interrupted=True)
    with pytest.raises(ConfigError, match="--resume-if-interrupted and --restart exclude each other"):
        plan_run(
            str(small_csv), "quick", overrides=settings, models_dir=models, resume_if_interrupted=True, restart=True
        )


def test_data_seed_keeps_the_training_texts_while_the_seed_changes_the_rest(tmp_path, tiny_bert, small_csv):
    settings = {"base_model": str(tiny_bert), "max_length": 16, "max_train_samples": 40}

    def texts(**more) -> list[str]:
        plan = plan_run(str(small_csv), "quick", overrides={**settings, **more}, models_dir=tmp_path / "models")
        return list(plan.train.texts)

    seed_42 = texts(seed=42)
    assert texts(seed=13) != seed_42  # the seed draws the sample
    assert texts(seed=13, data_seed=42) == seed_42 == texts(seed=7, data_seed=42)
    assert texts(seed=42, data_seed=13) == texts(seed=13)


def test_a_folder_another_run_trains_into_is_neither_resumed_nor_discarded(tmp_path, tiny_bert, small_csv):
    models = tmp_path / "models"
    settings = {"base_model": str(tiny_bert), "max_length": 16}
    plan = plan_run(str(small_csv), "quick", overrides=settings, models_dir=models)
    (plan.staging / "checkpoint-5").mkdir(parents=True)
    with staging_lock(plan.staging):  # what a training run holds while it trains
        for option in ("restart", "resume", "resume_if_interrupted"):
            with pytest.raises(ConfigError, match=f"another process is training into {plan.staging}"):
                plan_run(str(small_csv), "quick", overrides=settings, models_dir=models, **{option: True})
    assert (plan.staging / "checkpoint-5").is_dir()
    plan_run(str(small_csv), "quick", overrides=settings, models_dir=models, restart=True)
    assert not plan.staging.exists()  # once nobody trains into it, --restart discards it as before


def start_training(args: list[str], models: Path, **output) -> subprocess.Popen:
    """``nlpc`` with ``args`` in a new process group (so the test can stop, pause or kill the whole run)."""
    return start_cli(*args, models_dir=models, env={"HF_HUB_OFFLINE": "1"}, start_new_session=True, **output)


def wait_while_training(proc: subprocess.Popen, condition, what: str, timeout: float = 240) -> None:
    """Wait for ``condition()`` while the training in ``proc`` runs; fail if it ends first or takes too long."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"training ended before {what} appeared"
        assert time.monotonic() < deadline, f"no {what} appeared"
        time.sleep(0.01)


def test_resume_after_kill_continues_from_the_checkpoint(tmp_path, tiny_bert, small_csv):
    models = tmp_path / "models"
    args = [
        "train",
        "transformer",
        "--task",
        str(small_csv),
        "--preset",
        "quick",
        "--base-model",
        str(tiny_bert),
        "--max-length",
        "16",
        "--max-steps",
        "80",
        "--save-steps",
        "5",
        "--batch-size",
        "8",
        "--patience",
        "100",
        "--num-threads",
        "1",
        "--set",
        "logging_steps=5",
    ]
    staging = models / "transformer" / ".quick_small.training"
    proc = start_training(args, models, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_while_training(proc, lambda: list(staging.glob("checkpoint-*/trainer_state.json")), "a checkpoint")
        # while it trains, no other run may train into, resume or discard its folder
        with pytest.raises(ConfigError, match="another process is training into .*wait for it to end"):
            with staging_lock(staging):
                pass
        time.sleep(0.1)  # let the checkpoint's files be written completely
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert not (models / "transformer" / "quick_small").exists()  # nothing half-written is published
    killed_at = max(int(p.name.split("-")[1]) for p in staging.glob("checkpoint-*"))
    assert 5 <= killed_at < 80
    # a kill can land while a checkpoint is being written: resume must skip a folder without its trainer state
    unfinished = staging / f"checkpoint-{killed_at + 1}"
    unfinished.mkdir(exist_ok=True)
    (unfinished / "model.safetensors").write_bytes(b"partial")

    again = run_cli(*args, models_dir=models)
    assert again.returncode == 2 and "--resume" in again.stderr + again.stdout
    changed = run_cli(*args, "--max-length", "32", "--resume", models_dir=models)
    assert changed.returncode == 2 and "max_length" in changed.stderr + changed.stdout

    # what `make run` trains in the background with: the interrupted run is there, so it continues
    run_cli(*args, "--resume-if-interrupted", models_dir=models, check=True)
    card = nlp_classifier.load("transformer_quick_small", models_dir=models).card
    assert 5 <= card.training_config["resumed_from_step"] <= killed_at
    assert card.training_config["global_step"] == 80
    last = sorted(
        (models / "transformer" / "quick_small").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])
    )[-1]
    history = json.loads((last / "trainer_state.json").read_text())["log_history"]
    logged = [h["step"] for h in history if "loss" in h]
    assert logged[0] == 5 and logged[-1] >= 75  # one history across both processes
    assert not staging.exists()


def test_preview_serves_the_best_checkpoint_so_far_with_its_tuned_threshold_until_the_model_replaces_it(
    tmp_path, tiny_bert, small_csv
):
    models = tmp_path / "models"
    args = ["train", "transformer", "--task", str(small_csv), "--preset", "quick", "--base-model", str(tiny_bert)]
    args += ["--max-length", "16", "--max-steps", "60", "--save-steps", "5", "--batch-size", "8", "--patience", "100"]
    args += ["--num-threads", "1", "--preview"]
    preview = models / "transformer" / "quick_small_preview"
    proc = start_training(args, models, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_while_training(proc, (preview / "model_card.json").exists, "a preview")
        os.killpg(proc.pid, signal.SIGSTOP)  # hold the run while the preview is looked at (it is published whole)
        classifier = nlp_classifier.load("transformer_quick_small_preview", models_dir=models)  # hashes checked
        card = classifier.card
        step = card.extra["preview"]["step"]
        assert card.extra["preview"]["total_steps"] == 60 and 5 <= step < 60 and step % 5 == 0
        # the thresholds and metrics are those the run's evaluation of that very checkpoint tuned on validation
        checkpoint = models / "transformer" / ".quick_small.training" / f"checkpoint-{step}"
        history = json.loads((checkpoint / "trainer_state.json").read_text())["log_history"]
        (evaluation,) = [h for h in history if h.get("step") == step and "eval_loss" in h]
        assert card.thresholds == {label: evaluation[f"eval_threshold_{label}"] for label in card.labels}
        assert card.metrics["validation"]["f1_macro"] == evaluation["eval_tuned_f1_macro"]
        # its weights are the checkpoint's
        from safetensors.torch import load_file

        saved, kept = load_file(preview / "model.safetensors"), load_file(checkpoint / "model.safetensors")
        assert saved.keys() == kept.keys() and all(torch.equal(saved[k], kept[k]) for k in saved)
        (prediction,) = classifier.predict(["you are trash and i hate you"])
        assert prediction.label in card.labels
        os.killpg(proc.pid, signal.SIGCONT)
        output, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 0, output
    assert f"preview: transformer_quick_small_preview {card.version} is step {step:,} of 60" in output
    assert "transformer_quick_small" in [c.name for c in list_cards(models)]
    # the finished model replaces the preview
    assert not preview.exists() and "transformer_quick_small_preview" not in [c.name for c in list_cards(models)]
    assert "removed" in output and "quick_small_preview" in output


# --- loading other folders -----------------------------------------------------------------------------------
def test_plain_hugging_face_folder_loads_without_a_card(tmp_path, tiny_bert):
    folder = tmp_path / "distilbert"
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        tiny_bert,
        num_labels=2,
        id2label={0: "Regular Speech", 1: "Hate Speech"},
        label2id={"Regular Speech": 0, "Hate Speech": 1},
    )
    model.save_pretrained(folder)
    transformers.AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    clf = nlp_classifier.load(folder)
    assert clf.card.family == "transformer" and clf.card.task == "davidson" and clf.labels == BINARY_LABELS
    assert clf.card.verify() == [] and not (folder / "model_card.json").exists()
    assert clf.predict(["you are good"])[0].label in BINARY_LABELS
    assert transformer_backend.card_for_uncarded(tmp_path) is None  # not a model folder


def test_onnx_backend_requires_an_export_when_it_is_missing(trained_davidson):
    models, card = trained_davidson
    with pytest.raises(ConfigError, match="nlpc export onnx --model distilbert"):
        nlp_classifier.load("distilbert", backend="onnx", models_dir=models)
    assert nlp_classifier.load("distilbert", models_dir=models, num_threads=1).backend == "torch"
    with pytest.raises(ConfigError, match="backend 'tensorflow'"):
        nlp_classifier.load("distilbert", backend="tensorflow", models_dir=models)


def test_default_base_model_loads_offline_from_the_wheel():
    folder = default_base_model()
    assert "site-packages" in str(folder) and (folder / "model.safetensors").is_file()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    unpad_tokenizer(tokenizer)
    assert tokenizer(["hello world"])["input_ids"] == [[101, 7592, 2088, 102]]  # no padding to 128
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2, local_files_only=True)
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6
    assert sum(p.numel() for p in model.bert.parameters()) == pytest.approx(22.7e6, rel=0.01)


# --- bad arguments fail before training -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"preset": "huge"}, "unknown transformer preset 'huge'"),
        ({"overrides": {"base_model": "./no/such/folder"}}, "base model folder not found: ./no/such/folder"),
        ({"preset": "toxicity", "task": "davidson"}, "preset 'toxicity' is for multi_label data"),
        ({"overrides": {"learning_rate": "fast"}}, "setting 'learning_rate' must be"),
        ({"overrides": {"warmup": 0.1}}, "unknown setting(s) warmup"),
        ({"overrides": {"max_length": 4096}}, "longer than base model"),
        ({"overrides": {"stride": -3}}, "setting 'stride' must be at least 0 tokens, got -3"),
        (
            {"overrides": {"max_length": 64, "stride": 62}},
            "'stride' must be at most max_length - 3 (61 tokens), got 62",
        ),
        ({"overrides": {"weight_decay": -0.1}}, "setting 'weight_decay' must be at least 0"),
        ({"overrides": {"early_stopping_patience": 0}}, "setting 'early_stopping_patience' must be at least 1"),
        ({"resume": True}, "nothing to resume"),
    ],
)
def test_bad_arguments_fail_before_training(tmp_path, kwargs, message):
    kwargs = {"preset": "quick", **kwargs}
    with pytest.raises(ConfigError) as info:
        plan_run(kwargs.pop("task", "davidson"), kwargs.pop("preset"), models_dir=tmp_path, **kwargs)
    assert message in str(info.value)
    assert not any(tmp_path.rglob("*"))  # nothing written


def test_cli_reports_bad_labels_in_one_line(tmp_path, small_csv):
    models = tmp_path / "models"
    proc = run_cli(
        "train",
        "transformer",
        "--task",
        str(small_csv),
        "--labels",
        "fine,spam",
        "--preset",
        "quick",
        models_dir=models,
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 2 and "unknown label 'abusive'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli(
        "train",
        "transformer",
        "--task",
        "jigsaw",
        "--set",
        "labels=[toxic, obscene]",
        models_dir=models,
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 2 and "expects the labels ['toxic', 'obscene']" in " ".join(proc.stderr.split())
    assert not models.exists() or not any(models.rglob("*"))
