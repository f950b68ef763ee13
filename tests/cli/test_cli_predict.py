"""``nlpc predict`` (texts and files) and ``nlpc evaluate`` through the real CLI on the session's baselines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from testkit.cli import run_cli

import nlp_classifier
from nlp_classifier.data.readers import read_table, write_table
from nlp_classifier.tasks import BINARY_LABELS, TOXICITY_LABELS

TEXTS = [
    "have a lovely day with your family",
    "you are a stupid worthless idiot",
    "go kill yourself you moron",
    "thanks for the help &amp; the coffee @friend",
]


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_predict_file_binary(suffix, tmp_path, baseline_models_dir):
    source = tmp_path / f"in.{suffix}"
    write_table(pd.DataFrame({"id": [1, 2, 3, 4], "body": TEXTS}), source)
    out = tmp_path / f"out.{suffix}"
    proc = run_cli(
        "predict",
        "--model",
        "logistic_regression",
        "--input",
        str(source),
        "--output",
        str(out),
        "--text-column",
        "body",
        models_dir=baseline_models_dir,
        check=True,
    )
    assert "scored 4 rows" in proc.stdout
    scored = read_table(out)
    assert list(scored.columns) == [
        "id",
        "body",
        "score_Regular Speech",
        "score_Hate Speech",
        "flagged",
        "predicted_label",
    ]
    assert scored["body"].tolist() == TEXTS
    clf = nlp_classifier.load("logistic_regression", models_dir=baseline_models_dir)
    proba = clf.predict_proba(TEXTS)
    assert np.allclose(
        scored[["score_Regular Speech", "score_Hate Speech"]].astype(float).to_numpy(),
        proba,
        atol=1e-9 if suffix == "parquet" else 1e-6,
    )
    assert scored["predicted_label"].tolist() == [p.label for p in clf.predict(TEXTS)]
    assert set(scored["predicted_label"]) <= set(BINARY_LABELS)
    assert scored["predicted_label"].iloc[0] == "Regular Speech" and scored["predicted_label"].iloc[1] == "Hate Speech"
    # only harmful labels are flagged: a Regular Speech row flags nothing
    flagged = scored["flagged"].fillna("").tolist()
    assert flagged == [",".join(p.flagged) for p in clf.predict(TEXTS)]
    assert flagged[0] == "" and flagged[1] == "Hate Speech"


def test_predict_file_multi_label_flags_each_label(tmp_path, baseline_models_dir):
    source = tmp_path / "in.jsonl"
    write_table(pd.DataFrame({"text": TEXTS}), source)
    out = tmp_path / "out.csv"
    run_cli(
        "predict",
        "--model",
        "logistic_regression_jigsaw",
        "--input",
        str(source),
        "--output",
        str(out),
        models_dir=baseline_models_dir,
        check=True,
    )
    scored = pd.read_csv(out, keep_default_na=False)
    assert [c for c in scored.columns if c.startswith("score_")] == [f"score_{lab}" for lab in TOXICITY_LABELS]
    clf = nlp_classifier.load("logistic_regression_jigsaw", models_dir=baseline_models_dir)
    expected = clf.predict(TEXTS)
    assert scored["flagged"].tolist() == [",".join(p.flagged) for p in expected]
    assert scored["predicted_label"].tolist() == [p.label or "" for p in expected]
    # the thank-you note flags nothing, the insult is toxic (the seed preset's threat weights are class-balanced
    # on Jigsaw's rare threats and flag "... with your family" as a threat at 0.99 with scikit-learn 1.9.1)
    assert scored["flagged"].iloc[3] == "" and "toxic" in scored["flagged"].iloc[1].split(",")


def test_predict_texts_table_and_json(baseline_models_dir):
    texts = ["the weather is nice today", TEXTS[1]]
    table = run_cli("predict", "--model", "linear_svm", *texts, models_dir=baseline_models_dir, check=True)
    assert "linear_svm (davidson)" in table.stdout
    assert "Regular Speech" in table.stdout and "Hate Speech" in table.stdout
    as_json = json.loads(
        run_cli("predict", "--model", "linear_svm", "--json", *texts, models_dir=baseline_models_dir, check=True).stdout
    )
    assert [r["label"] for r in as_json] == ["Regular Speech", "Hate Speech"]
    assert abs(sum(as_json[0]["scores"].values()) - 1) < 1e-9  # the calibrated SVM yields probabilities


def test_predict_without_a_model_uses_the_hate_model(tmp_path, hate_models_dir):
    env = {"NLPC_DEFAULT_MODEL": ""}
    table = run_cli("predict", "I am a gay man and proud of it", models_dir=hate_models_dir, env=env, check=True)
    assert "logistic_regression_hate_char (hate)" in table.stdout and "not_hateful" in table.stdout
    answer = json.loads(
        run_cli(
            "predict",
            "--json",
            "I am a gay man and proud of it",
            "muslims are vermin and should be wiped out",
            models_dir=hate_models_dir,
            env=env,
            check=True,
        ).stdout
    )
    assert [(r["label"], r["flagged"]) for r in answer] == [("not_hateful", []), ("hateful", ["hateful"])]
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"text": ["I am a gay man and proud of it", "muslims are vermin and should be wiped out"]}).to_csv(
        source, index=False
    )
    run_cli("predict", "--input", str(source), "--output", str(out), models_dir=hate_models_dir, env=env, check=True)
    scored = pd.read_csv(out, keep_default_na=False)
    assert scored["flagged"].tolist() == ["", "hateful"]
    assert scored["predicted_label"].tolist() == ["not_hateful", "hateful"]
    named = run_cli(
        "predict", "hello there", models_dir=hate_models_dir, env={"NLPC_DEFAULT_MODEL": "linear_svm"}, check=True
    )
    assert "linear_svm (davidson)" in named.stdout
    empty = run_cli("predict", "hello", models_dir=tmp_path / "no-models", env=env)
    assert empty.returncode == 2 and "no model in the registry" in empty.stderr


def test_device_option_runs_the_torch_backend_there_and_names_a_bad_device(tmp_path):
    pytest.importorskip("torch")
    from testkit.tiny_transformers import make_tiny_model

    make_tiny_model(tmp_path, "tiny_hate", "hate")
    texts = ["I am a gay man and proud of it", "you are a stupid idiot"]

    def scores(*options: str) -> list[dict]:
        proc = run_cli("predict", "--model", "tiny_hate", "--json", *options, *texts, models_dir=tmp_path, check=True)
        return [row["scores"] for row in json.loads(proc.stdout)]

    default, on_cpu = scores(), scores("--device", "cpu")
    assert [s["hateful"] for s in on_cpu] == pytest.approx([s["hateful"] for s in default], abs=1e-6)
    wrong = run_cli("predict", "--model", "tiny_hate", "--device", "gpu0", "hello", models_dir=tmp_path)
    assert wrong.returncode == 2 and "device 'gpu0' is not a PyTorch device" in wrong.stderr
    onnx = run_cli(
        "predict", "--model", "tiny_hate", "--backend", "onnx", "--device", "cuda", "hi", models_dir=tmp_path
    )
    assert onnx.returncode == 2 and "the ONNX backend runs on the CPU" in onnx.stderr
    import torch

    if not torch.cuda.is_available():
        missing = run_cli("evaluate", "--model", "tiny_hate", "--device", "cuda", models_dir=tmp_path)
        assert missing.returncode == 2 and "sees no CUDA GPU" in missing.stderr


def test_predict_argument_errors(tmp_path, baseline_models_dir):
    both = run_cli("predict", "--input", "x.csv", models_dir=baseline_models_dir)
    assert both.returncode == 2 and "--input and --output go together" in both.stderr
    none = run_cli("predict", models_dir=baseline_models_dir)
    assert none.returncode == 2 and "give texts to classify" in none.stderr
    unknown = run_cli("predict", "--model", "nope", "hi", models_dir=baseline_models_dir)
    assert unknown.returncode == 2 and "no model named 'nope'" in unknown.stderr
    high = run_cli(
        "predict", "--model", "logistic_regression", "--threshold", "2", "hi", models_dir=baseline_models_dir
    )
    assert high.returncode == 2 and "the threshold must be between 0 and 1, got 2.0" in high.stderr


def test_evaluate_json_on_the_test_split(tmp_path, baseline_models_dir):
    out = tmp_path / "metrics.json"
    proc = run_cli(
        "evaluate",
        "--model",
        "logistic_regression",
        "--json",
        "--output",
        str(out),
        models_dir=baseline_models_dir,
        check=True,
    )
    payload = json.loads(proc.stdout)
    assert payload == json.loads(out.read_text())
    assert payload["model"] == "logistic_regression" and payload["split"] == "test" and payload["n"] == 2478
    metrics = payload["metrics"]
    for key in ("accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "roc_auc"):
        assert 0.85 < metrics[key] <= 1.0, key
    assert set(metrics["per_label"]) == set(BINARY_LABELS)
    assert np.array(metrics["confusion_matrix"]).sum() == 2478
    # the same numbers the card recorded at training time
    card = nlp_classifier.load("logistic_regression", models_dir=baseline_models_dir).card
    assert metrics["f1_macro"] == pytest.approx(card.metrics["test"]["f1_macro"])


def test_evaluate_table_and_multi_label(baseline_models_dir):
    proc = run_cli(
        "evaluate",
        "--model",
        "logistic_regression_jigsaw",
        "--split",
        "validation",
        models_dir=baseline_models_dir,
        check=True,
    )
    assert "mean_roc_auc" in proc.stdout and "identity_hate" in proc.stdout
    payload = json.loads(
        run_cli(
            "evaluate", "--model", "logistic_regression_jigsaw", "--json", models_dir=baseline_models_dir, check=True
        ).stdout
    )
    per_label = payload["metrics"]["per_label"]
    assert list(per_label) == TOXICITY_LABELS
    assert payload["metrics"]["mean_roc_auc"] == pytest.approx(np.mean([v["roc_auc"] for v in per_label.values()]))


def test_evaluate_on_a_labelled_file(tmp_path, baseline_models_dir):
    path = tmp_path / "mine.csv"
    pd.DataFrame({"text": TEXTS[:2] * 3, "label": ["Regular Speech", "Hate Speech"] * 3}).to_csv(path, index=False)
    payload = json.loads(
        run_cli(
            "evaluate",
            "--model",
            "logistic_regression",
            "--data",
            str(path),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--split",
            "all",
            "--json",
            models_dir=baseline_models_dir,
            check=True,
        ).stdout
    )
    assert payload["n"] == 6 and payload["metrics"]["accuracy"] == 1.0


def test_evaluate_a_hate_model_on_a_file_labelled_for_it(tmp_path, hate_models_dir):
    """The ``hate`` task has no file format of its own: ``--data`` alone reads a user's file with the model's labels
    (columns ``text`` and ``label`` by default), and a split too small to hold a row says how to use every row."""
    path = tmp_path / "ours.csv"
    pd.DataFrame({"text": TEXTS[:2] * 2, "label": ["not_hateful", "hateful"] * 2}).to_csv(path, index=False)
    whole = run_cli("evaluate", "--data", str(path), "--split", "all", "--json", models_dir=hate_models_dir)
    assert whole.returncode == 0, whole.stderr
    payload = json.loads(whole.stdout)
    assert payload["model"] == "logistic_regression_hate_char" and payload["n"] == 4
    assert np.array(payload["metrics"]["confusion_matrix"]).sum() == 4
    assert set(payload["metrics"]["per_label"]) == {"not_hateful", "hateful"}

    empty = run_cli("evaluate", "--data", str(path), models_dir=hate_models_dir)
    message = " ".join(empty.stderr.split())
    assert empty.returncode == 2 and "Traceback" not in empty.stderr
    assert "the test split of" in message and "has no rows (4 in all;" in message and "pass --split all" in message


def test_evaluate_hate_model_reports_every_source_and_defaults_to_the_served_model(hate_models_dir):
    from nlp_classifier.data.hate_sources import SOURCES

    payload = json.loads(run_cli("evaluate", "--json", models_dir=hate_models_dir, check=True).stdout)
    assert payload["model"] == "logistic_regression_hate_char"
    per_source = payload["metrics"]["per_source"]
    assert list(per_source) == list(SOURCES)
    assert sum(m["n"] for m in per_source.values()) == payload["n"] == payload["metrics"]["n"]
    assert all(set(m["per_label"]) == {"not_hateful", "hateful"} for m in per_source.values())
    table = run_cli("evaluate", "--task", "hate", models_dir=hate_models_dir, check=True).stdout
    assert "per source, test split" in table and "hateful F1" in table
    assert all(name in table for name in SOURCES) and "overall" in table
