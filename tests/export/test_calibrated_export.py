"""A calibrated transformer: PyTorch, ONNX fp32 and ONNX int8 all apply the model's calibrator, and the ONNX
export keeps it (pinned in the card) and checks like with like.

A tiny random-init BERT for binary Davidson (``testkit.tiny_transformers``), calibrated on the task's real
validation split; the export checks on the first test texts.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from testkit.tiny_transformers import make_tiny_model

import nlp_classifier
from nlp_classifier.data import load_dataset, split_dataset
from nlp_classifier.export import export_onnx
from nlp_classifier.model_calibration import calibrate_model
from nlp_classifier.registry import resolve

torch.set_num_threads(1)
CHECK = 100


@pytest.mark.parametrize("method", ["temperature", "isotonic"])
def test_torch_and_onnx_of_a_calibrated_model_agree(tmp_path, method):
    make_tiny_model(tmp_path, "tiny_calibrated", "davidson", "bert")
    result = calibrate_model("tiny_calibrated", models_dir=tmp_path, method=method)
    assert result.card.calibration["file"] == "calibration.json"
    export_onnx("tiny_calibrated", models_dir=tmp_path, quantize="int8", max_drop_points=100, check_limit=CHECK)

    card = resolve("tiny_calibrated", tmp_path)
    assert {"calibration.json", "model.onnx", "model.int8.onnx"} <= set(card.files) and card.verify() == []
    assert card.calibration == result.card.calibration  # the export kept the calibration record
    fp32_check = card.extra["onnx"]["onnx"]
    assert f"before the model's {method} calibrator" in fp32_check["checked_on"]
    assert fp32_check["agreement"]["max_abs_diff"] < 1e-5 and fp32_check["agreement"]["label_agreement"] == 1.0

    texts = split_dataset(load_dataset("davidson")).test.texts[:60]
    runs = {b: nlp_classifier.load(card.path, backend=b, num_threads=1) for b in ("torch", "onnx", "onnx-int8")}
    raw = {b: clf.predict_proba(texts, calibrated=False) for b, clf in runs.items()}
    calibrated = {b: clf.predict_proba(texts) for b, clf in runs.items()}
    for backend, clf in runs.items():
        assert clf.calibrator is not None and clf.calibrator.method == method
        assert np.array_equal(calibrated[backend], clf.calibrator.apply(raw[backend]))
    assert not np.allclose(calibrated["torch"], raw["torch"])  # the calibrator changes the scores
    assert np.abs(raw["onnx"] - raw["torch"]).max() < 1e-5
    # one map applied to both: the calibrated scores agree wherever the raw ones do (up to the map's slope)
    same = runs["torch"].calibrator.apply(raw["onnx"])
    assert np.array_equal(same, calibrated["onnx"])
    assert np.abs(calibrated["onnx"] - calibrated["torch"]).max() < 1e-3
    decisions = [[p.label for p in runs[b].predict(texts)] for b in ("torch", "onnx")]
    assert decisions[0] == decisions[1]
