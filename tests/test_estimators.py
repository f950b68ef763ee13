"""Estimators inside saved models: they live on the inference side (``nlp_classifier.estimators``), and models
pickled while ``PriorShiftedClassifier`` lived in ``training/baseline_presets.py`` still load and score the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np

from nlp_classifier.estimators import PriorShiftedClassifier

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_model_pickled_before_the_move_loads_and_gives_the_recorded_probabilities():
    recorded = json.loads((FIXTURES / "prior_shifted_pre_move.json").read_text())
    model = joblib.load(FIXTURES / "prior_shifted_pre_move.joblib")
    assert isinstance(model, PriorShiftedClassifier)
    assert [str(c) for c in model.classes_] == recorded["classes"]
    X = np.array(recorded["X"])
    np.testing.assert_allclose(model.predict_proba(X), recorded["predict_proba"], rtol=0, atol=1e-12)
    assert model.predict(X).tolist() == recorded["predict"]


def test_the_fast_tfidf_backend_imports_nothing_from_training():
    code = (
        "import sys, nlp_classifier.backends.tfidf_fast, nlp_classifier.backends.sklearn_backend; "
        "print(sorted(m for m in sys.modules if m.startswith('nlp_classifier.training')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
