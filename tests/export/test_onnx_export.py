"""ONNX export round trips (fp32 and int8), the int8 quality gate, and backend selection with its errors.

Tiny random-init BERT (binary Davidson) and DistilBERT (six-label Jigsaw) models; the agreement check runs on
the first texts of each task's real test split.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from testkit.cli import run_cli
from testkit.tiny_transformers import make_tiny_model

import nlp_classifier
from nlp_classifier.card import ModelCard
from nlp_classifier.data import load_dataset, split_dataset
from nlp_classifier.errors import ConfigError, IntegrityError
from nlp_classifier.export import ExportRefused, export_onnx
from nlp_classifier.registry import resolve

torch.set_num_threads(1)
CHECK = 100  # test-split texts the export checks on (keeps the tests quick)
FP32_ATOL = 1e-5  # ONNX fp32 vs PyTorch, per probability
INT8_ATOL = 0.1  # dynamic int8 vs PyTorch, per probability, for these tiny random models (hidden size 32)
LONG_TEXT = " ".join(["you are a stupid idiot and nobody likes you"] * 30)  # several 48-token windows


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Both tiny models exported to fp32 + int8 (the int8 gate disabled: random models are not the point)."""
    models = tmp_path_factory.mktemp("onnx-models")
    make_tiny_model(models, "tiny_binary", "davidson", "bert")
    make_tiny_model(models, "tiny_toxicity", "jigsaw", "distilbert")
    for name in ("tiny_binary", "tiny_toxicity"):
        export_onnx(name, models_dir=models, quantize="int8", max_drop_points=100, check_limit=CHECK, num_threads=1)
    return models


def sample_texts(task: str) -> list[str]:
    return split_dataset(load_dataset(task)).test.texts[:40] + [LONG_TEXT, "", "ok"]


@pytest.mark.parametrize("name,task", [("tiny_binary", "davidson"), ("tiny_toxicity", "jigsaw")])
def test_export_round_trip_matches_pytorch(exported, name, task):
    card = resolve(name, exported)
    folder = card.artifact_path
    assert (folder / "model.onnx").is_file() and (folder / "model.int8.onnx").is_file()
    assert {"model.onnx", "model.int8.onnx"} <= set(card.files) and card.verify() == []
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left behind

    texts = sample_texts(task)
    torch_clf = nlp_classifier.load(name, backend="torch", models_dir=exported, num_threads=1)
    fp32 = nlp_classifier.load(name, backend="onnx", models_dir=exported, num_threads=1)
    int8 = nlp_classifier.load(name, models_dir=exported, num_threads=1)  # default: the fastest export
    assert (torch_clf.backend, fp32.backend, int8.backend) == ("torch", "onnx", "onnx-int8")
    expected = torch_clf.predict_proba(texts)
    assert expected.shape == (len(texts), len(card.labels))
    assert np.abs(fp32.predict_proba(texts) - expected).max() < FP32_ATOL
    one_by_one = np.vstack([fp32.predict_proba([t]) for t in texts])  # the single-text fast path
    assert np.abs(one_by_one - expected).max() < FP32_ATOL
    assert np.abs(int8.predict_proba(texts) - expected).max() < INT8_ATOL
    assert np.abs(expected[:, 1].max() - expected[:, 1].min()) > 0.01  # the model is not constant

    record = card.extra["onnx"]
    fp32_check = record["onnx"]["agreement"]
    assert fp32_check["n"] == CHECK and fp32_check["label_agreement"] == 1.0
    assert fp32_check["max_abs_diff"] < FP32_ATOL
    assert record["onnx"]["fused_operators"]["Attention"] == 2
    int8_record = record["onnx-int8"]
    assert int8_record["quantization"]["weight_type"] == "QInt8"
    assert int8_record["int8_check"]["metric"] == ("mean_roc_auc" if task == "jigsaw" else "f1_macro")
    assert set(int8_record["agreement"]["deltas"]) >= {"f1_macro"}
    assert 0.5 <= int8_record["agreement"]["label_agreement"] <= 1.0


def test_int8_refused_past_the_allowed_drop_unless_forced(tmp_path):
    make_tiny_model(tmp_path, "gated", "davidson", "bert")
    # A negative allowance makes any int8 model fail the gate, so the refusal path is exercised for sure.
    with pytest.raises(ExportRefused, match=r"refused: test f1_macro .* more than the -5 allowed.*--force"):
        export_onnx("gated", models_dir=tmp_path, quantize="int8", max_drop_points=-5, check_limit=CHECK, num_threads=1)
    card = resolve("gated", tmp_path)
    folder = card.artifact_path
    assert (folder / "model.onnx").is_file() and not (folder / "model.int8.onnx").exists()
    assert "model.onnx" in card.files and card.verify() == []
    assert card.extra["onnx"]["int8_refused"]["passed"] is False
    with pytest.raises(ConfigError, match="nlpc export onnx --model gated --quantize int8"):
        nlpc_load("gated", tmp_path, "onnx-int8")
    assert nlpc_load("gated", tmp_path, None).backend == "onnx"  # the fp32 export is the default now

    result = export_onnx(
        "gated", models_dir=tmp_path, quantize="int8", max_drop_points=-5, force=True, check_limit=CHECK, num_threads=1
    )
    assert result.published == ["model.onnx", "model.int8.onnx"]
    card = resolve("gated", tmp_path)
    assert card.extra["onnx"]["onnx-int8"]["int8_check"] == {
        **card.extra["onnx"]["onnx-int8"]["int8_check"],
        "passed": False,
        "forced": True,
    }
    assert "int8_refused" not in card.extra["onnx"]
    assert nlpc_load("gated", tmp_path, None).backend == "onnx-int8"


def nlpc_load(name: str, models: Path, backend: str | None):
    return nlp_classifier.load(name, backend=backend, models_dir=models, num_threads=1)


def test_backend_selection_errors(tmp_path, exported):
    make_tiny_model(tmp_path, "plain", "davidson", "bert")
    assert nlpc_load("plain", tmp_path, None).backend == "torch"  # no export: PyTorch
    with pytest.raises(
        ConfigError, match=r"no onnx export .*model.onnx does not exist.*`nlpc export onnx --model plain`"
    ):
        nlpc_load("plain", tmp_path, "onnx")
    with pytest.raises(ConfigError, match="`nlpc export onnx --model plain --quantize int8`"):
        nlpc_load("plain", tmp_path, "onnx-int8")
    # An ONNX file the card does not pin is never run.
    shutil.copy(resolve("tiny_binary", exported).artifact_path / "model.onnx", tmp_path / "transformer/plain")
    with pytest.raises(ConfigError, match="not recorded in its model card"):
        nlpc_load("plain", tmp_path, "onnx")
    with pytest.raises(ConfigError, match="unknown option.*colour"):
        nlp_classifier.load("tiny_binary", backend="onnx", models_dir=exported, colour="red")
    tfidf = ModelCard(
        name="a_baseline",
        family="tfidf",
        task="davidson",
        labels=["Regular Speech", "Hate Speech"],
        problem_type="single_label",
        artifact="a_baseline_tfidf.joblib",
    )
    tfidf.path = tmp_path / "baselines" / "a_baseline.card.json"
    tfidf.save()
    with pytest.raises(ConfigError, match="a tfidf model; only transformer models export to ONNX"):
        export_onnx("a_baseline", models_dir=tmp_path)
    with pytest.raises(ConfigError, match="unknown quantization 'int4'"):
        export_onnx("plain", models_dir=tmp_path, quantize="int4")


def test_tampered_export_is_refused(tmp_path, exported):
    shutil.copytree(exported / "transformer" / "tiny_binary", tmp_path / "transformer" / "tiny_binary")
    onnx_file = tmp_path / "transformer" / "tiny_binary" / "model.int8.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match="model.int8.onnx: sha256 does not match"):
        nlpc_load("tiny_binary", tmp_path, None)


def test_cli_export(tmp_path):
    make_tiny_model(tmp_path, "cli_model", "jigsaw", "distilbert")
    proc = run_cli(
        "export",
        "onnx",
        "--model",
        "cli_model",
        "--quantize",
        "int8",
        "--max-drop",
        "100",
        "--check-limit",
        "60",
        "--threads",
        "1",
        "--json",
        models_dir=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["onnx"]["agreement"]["n"] == 60 and record["onnx-int8"]["file"] == "model.int8.onnx"
    assert record["onnx-int8"]["int8_check"]["passed"] is True
    prediction = nlpc_load("cli_model", tmp_path, None).predict(["you are an idiot"])[0]
    assert set(prediction.scores) == {"toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"}
    proc = run_cli("export", "onnx", "--model", "cli_model", "--quantize", "int4", models_dir=tmp_path)
    assert proc.returncode == 2 and "invalid choice: 'int4'" in proc.stderr
