"""Model cards, the sha256 check before unpickling, and MODEL_VERSION.json."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
from testkit.cli import run_cli

import nlp_classifier
from nlp_classifier.card import ModelCard, sha256_file
from nlp_classifier.errors import IntegrityError, ModelNotFoundError
from nlp_classifier.training.baselines import train_baseline
from nlp_classifier.versioning import bump, read_versions


class _TouchOnUnpickle:
    """Unpickling this creates a marker file: proof that a file was (or was not) unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


@pytest.fixture
def tiny_model(tiny_csv, models_dir) -> ModelCard:
    return train_baseline(str(tiny_csv), "logistic_regression", models_dir=models_dir)


def test_card_fields(tiny_model, models_dir):
    card = ModelCard.read(models_dir / "baselines" / "logistic_regression_tiny.card.json")
    assert card.name == "logistic_regression_tiny" and card.family == "tfidf" and card.task == "tiny"
    assert card.labels == ["abuse", "ok"] and card.problem_type == "single_label"
    assert card.thresholds == {"abuse": 0.5, "ok": 0.5}
    assert card.training_config["algorithm"] == "logistic_regression" and card.training_config["preset"] == "seed"
    assert card.training_config["pipeline"]["features"]["word"] == {"max_features": 10000, "ngram_range": [1, 3]}
    assert card.data_fingerprint.startswith("sha256:") and card.data_source.endswith("tiny.csv")
    assert card.splits["seed"] == 42 and card.splits["train"] + card.splits["validation"] + card.splits["test"] == 80
    assert set(card.metrics) == {"validation", "test"} and card.metrics["test"]["accuracy"] == 1.0
    assert card.version == "1.0.0" and card.previous_version is None and card.created_at
    assert set(card.files) == {
        "logistic_regression_tiny_tfidf.joblib",
        "logistic_regression_tiny_tfidf.training_info.json",
    }
    for rel, digest in card.files.items():
        assert sha256_file(models_dir / "baselines" / rel) == digest
    assert card.verify() == []


def test_training_info_has_the_seed_fields(tiny_model, models_dir):
    info = json.loads((models_dir / "baselines" / "logistic_regression_tiny_tfidf.training_info.json").read_text())
    for key in (
        "accuracy",
        "f1_macro",
        "f1_weighted",
        "precision_macro",
        "precision_weighted",
        "recall_macro",
        "recall_weighted",
        "roc_auc",
    ):
        assert isinstance(info["metrics"][key], float), key
    for key in ("training_time_seconds", "training_time_minutes", "avg_inference_time_ms"):
        assert info[key] >= 0
    assert info["num_classes"] == 2 and info["classes"] == ["abuse", "ok"] and info["version"] == "1.0.0"


def test_tampered_file_is_refused_before_unpickling(tiny_model, tmp_path):
    marker = tmp_path / "unpickled"
    artifact = tiny_model.artifact_path
    artifact.write_bytes(pickle.dumps(_TouchOnUnpickle(marker)))
    with pytest.raises(IntegrityError) as err:
        nlp_classifier.load(tiny_model.name)
    assert str(artifact) in str(err.value) and "sha256 does not match" in str(err.value)
    assert not marker.exists()
    proc = run_cli("predict", "--model", tiny_model.name, "hello")
    assert proc.returncode == 2 and "logistic_regression_tiny_tfidf.joblib" in proc.stderr
    assert "refusing to load" in proc.stderr and not marker.exists()
    verify = run_cli("models", "verify")
    assert verify.returncode == 1 and "FAIL" in verify.stdout


def test_missing_file_is_refused(tiny_model):
    tiny_model.artifact_path.unlink()
    with pytest.raises(IntegrityError, match="missing"):
        nlp_classifier.load(tiny_model.name)


def test_uncarded_file_is_not_loaded(tmp_path):
    path = tmp_path / "stray.joblib"
    marker = tmp_path / "unpickled"
    path.write_bytes(pickle.dumps(_TouchOnUnpickle(marker)))
    with pytest.raises(ModelNotFoundError, match="no model card"):
        nlp_classifier.load(path)
    assert not marker.exists()


def test_load_by_name_by_file_and_by_card(tiny_model):
    for ref in (tiny_model.name, tiny_model.artifact_path, tiny_model.path):
        clf = nlp_classifier.load(ref)
        assert clf.labels == ["abuse", "ok"] and clf.predict(["you stupid idiot"])[0].label == "abuse"
    with pytest.raises(ModelNotFoundError, match="available: logistic_regression_tiny"):
        nlp_classifier.load("nope")


def test_model_version_file(tiny_csv, models_dir):
    first = train_baseline(str(tiny_csv), "logistic_regression", models_dir=models_dir)
    versions = read_versions(models_dir)
    assert versions == {"version": "1.0.0", "models": {"logistic_regression_tiny": "1.0.0"}}
    other = train_baseline(str(tiny_csv), "linear_svm", models_dir=models_dir)
    assert other.version == "1.0.0"
    assert read_versions(models_dir)["version"] == "1.0.0"  # a new model does not bump the set
    again = train_baseline(str(tiny_csv), "logistic_regression", models_dir=models_dir)
    assert (first.version, again.version, again.previous_version) == ("1.0.0", "1.1.0", "1.0.0")
    data = json.loads((models_dir / "MODEL_VERSION.json").read_text())
    assert data == {"version": "1.1.0", "models": {"logistic_regression_tiny": "1.1.0", "linear_svm_tiny": "1.0.0"}}
    patched = train_baseline(str(tiny_csv), "logistic_regression", models_dir=models_dir, version_part="patch")
    assert (patched.version, patched.previous_version) == ("1.1.1", "1.1.0")
    info = json.loads((models_dir / "baselines" / "logistic_regression_tiny_tfidf.training_info.json").read_text())
    assert info["version"] == "1.1.1" and ModelCard.read(patched.path).verify() == []


def test_cli_retrain_bumps_and_lists(tiny_csv, models_dir):
    for _ in range(2):
        run_cli("train", "baseline", "--task", str(tiny_csv), "--algorithm", "logistic_regression", check=True)
    listed = json.loads(run_cli("models", "list", "--json", check=True).stdout)
    assert [(m["name"], m["version"]) for m in listed] == [("logistic_regression_tiny", "1.1.0")]
    shown = json.loads(run_cli("models", "show", "logistic_regression_tiny", check=True).stdout)
    assert shown["previous_version"] == "1.0.0"


@pytest.mark.parametrize(
    "version, part, expected", [("1.2.3", "major", "2.0.0"), ("1.2.3", "minor", "1.3.0"), ("1.2.3", "patch", "1.2.4")]
)
def test_bump(version, part, expected):
    assert bump(version, part) == expected


def test_copied_models_folder_still_verifies(tiny_model, tmp_path):
    """Card paths are relative, so a models folder can be moved or copied."""
    moved = tmp_path / "elsewhere"
    shutil.copytree(tiny_model.root.parent, moved)
    assert nlp_classifier.load(tiny_model.name, models_dir=moved).card.verify() == []
