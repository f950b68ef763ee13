"""Estimators inside saved models: they live on the inference side (``nlp_classifier.estimators``), and models
pickled while ``PriorShiftedClassifier`` lived in ``training/baseline_presets.py`` still load and score the same
(such a pickle is made here by pickling under the old module path, so no pickle is kept in the repository)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from nlp_classifier.estimators import PriorShiftedClassifier

OLD_MODULE = "nlp_classifier.training.baseline_presets"  # where the class lived when davidson3 models were saved


def pickled_at_the_old_path(model: PriorShiftedClassifier) -> bytes:
    """``model`` pickled as it was before the move: the class referenced as ``OLD_MODULE.PriorShiftedClassifier``
    (what every davidson3 pickle saved then holds). Pickle checks that the old path still names the same class,
    which is the alias this test is about."""
    buffer = io.BytesIO()
    moved = PriorShiftedClassifier.__module__
    PriorShiftedClassifier.__module__ = OLD_MODULE
    try:
        joblib.dump(model, buffer)
    finally:
        PriorShiftedClassifier.__module__ = moved
    return buffer.getvalue()


def test_a_model_pickled_before_the_move_loads_and_gives_the_same_probabilities(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).round(3)
    y = np.array(["hate", "neither", "offensive"])[np.argmax(X[:, :3], axis=1)]
    model = PriorShiftedClassifier.around(LogisticRegression(random_state=0).fit(X, y), {"hate": 2.5, "neither": 0.8})
    saved = pickled_at_the_old_path(model)
    assert OLD_MODULE.encode() in saved and b"nlp_classifier.estimators" not in saved
    path = tmp_path / "pre_move.joblib"
    path.write_bytes(saved)
    # A fresh interpreter, as when a server loads a model saved before the move.
    code = (
        "import json, sys, joblib, numpy as np; "
        f"m = joblib.load({str(path)!r}); X = np.array(json.loads(sys.stdin.read())); "
        "print(json.dumps({'type': type(m).__module__ + '.' + type(m).__qualname__, "
        "'classes': [str(c) for c in m.classes_], 'proba': m.predict_proba(X).tolist(), "
        "'predict': [str(p) for p in m.predict(X)]}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(X.tolist()), capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert loaded["type"] == "nlp_classifier.estimators.PriorShiftedClassifier"
    assert loaded["classes"] == [str(c) for c in model.classes_]
    np.testing.assert_allclose(loaded["proba"], model.predict_proba(X), rtol=0, atol=1e-12)
    assert loaded["predict"] == model.predict(X).tolist()


def test_the_fast_tfidf_backend_imports_nothing_from_training():
    code = (
        "import sys, nlp_classifier.backends.tfidf_fast, nlp_classifier.backends.sklearn_backend; "
        "print(sorted(m for m in sys.modules if m.startswith('nlp_classifier.training')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
