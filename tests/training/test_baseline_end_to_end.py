"""End to end through the CLI: train both Davidson baselines, reload them from disk in new processes, predict,
and hold the issue's quality bar on the fixed test split; and the seed's joblib snippet, verbatim."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from testkit.cli import run_cli

from nlp_classifier.tasks import BINARY_LABELS

# The numbers on the fixed Davidson binary test split, reached by the "char" preset.
TARGETS = {
    "logistic_regression_char": {"accuracy": 0.94, "f1_macro": 0.90},
    "linear_svm_char": {"accuracy": 0.95, "f1_macro": 0.915},
}

SEED_SNIPPET = """import joblib
pipeline = joblib.load('models/baselines/logistic_regression_tfidf.joblib')
prediction = pipeline.predict(["sample text"])
print(prediction)
"""


@pytest.mark.slow
def test_train_reload_predict_and_reach_the_targets(tmp_path):
    models = tmp_path / "models"
    trained = run_cli("train", "baseline", "--task", "davidson", "--preset", "char", models_dir=models, check=True)
    assert "logistic_regression_char: test accuracy" in trained.stdout and "linear_svm_char" in trained.stdout
    assert sorted(p.name for p in (models / "baselines").glob("*.joblib")) == [
        "linear_svm_char_tfidf.joblib",
        "logistic_regression_char_tfidf.joblib",
    ]
    assert json.loads((models / "MODEL_VERSION.json").read_text())["models"] == {
        "logistic_regression_char": "1.0.0",
        "linear_svm_char": "1.0.0",
    }

    for name, targets in TARGETS.items():
        # each command is a new process that loads the model from disk (hashes checked first)
        evaluated = json.loads(run_cli("evaluate", "--model", name, "--json", models_dir=models, check=True).stdout)
        metrics = evaluated["metrics"]
        assert evaluated["n"] == 2478
        for key, minimum in targets.items():
            assert metrics[key] >= minimum, (name, key, metrics[key])
        predicted = json.loads(
            run_cli(
                "predict",
                "--model",
                name,
                "--json",
                "have a lovely day",
                "you stupid bitch",
                models_dir=models,
                check=True,
            ).stdout
        )
        assert [p["label"] for p in predicted] == ["Regular Speech", "Hate Speech"]
        assert all(abs(sum(p["scores"].values()) - 1) < 1e-9 for p in predicted)


@pytest.mark.slow
def test_davidson3_reaches_the_papers_weighted_f1(tmp_path):
    """Davidson 3-class: weighted F1 >= 0.90 (the dataset paper's figure) with the char preset's SVM, whose
    settings and class priors were chosen on the validation split only; hate-class F1 is reported beside it."""
    models = tmp_path / "models"
    run_cli(
        "train",
        "baseline",
        "--task",
        "davidson3",
        "--preset",
        "char",
        "--algorithm",
        "linear_svm",
        models_dir=models,
        check=True,
    )
    evaluated = json.loads(
        run_cli("evaluate", "--model", "linear_svm_davidson3_char", "--json", models_dir=models, check=True).stdout
    )
    metrics = evaluated["metrics"]
    assert evaluated["n"] == 2478 and metrics["f1_weighted"] >= 0.90, metrics["f1_weighted"]
    assert metrics["per_label"]["hate"]["f1"] >= 0.45  # measured 0.469; the seed preset's SVM gets 0.237
    card = json.loads(run_cli("models", "show", "linear_svm_davidson3_char", models_dir=models, check=True).stdout)
    weights = card["training_config"]["class_weights"]
    assert weights["offensive"] == 1.0 and weights["hate"] > 1.0  # the priors moved towards the rare class


def test_seed_snippet_works_verbatim(tmp_path, baseline_models_dir):
    """The seed's documented loading code, run as-is from a folder holding models/baselines/."""
    (tmp_path / "models").mkdir()
    shutil.copytree(baseline_models_dir / "baselines", tmp_path / "models" / "baselines")
    for snippet in (SEED_SNIPPET, SEED_SNIPPET.replace("logistic_regression_tfidf", "linear_svm_tfidf")):
        proc = subprocess.run(
            [sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        printed = proc.stdout.strip()
        assert printed in {f"['{label}']" for label in BINARY_LABELS}, printed
