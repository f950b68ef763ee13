"""``benchmarks/load_test.py``: each model is driven with a seeded sample of its own test split, and an unknown
model is named before any server starts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from testkit.benchmarks import benchmark_script, load_benchmark

from nlp_classifier.data import load_dataset, split_dataset

SCRIPT = benchmark_script("load_test")


@pytest.fixture(scope="module")
def load_test():
    return load_benchmark("load_test")


def test_each_model_is_driven_with_a_seeded_sample_of_its_own_test_split(load_test, baseline_models_dir):
    texts, source = load_test.sample_texts("logistic_regression_jigsaw", str(baseline_models_dir), n=50)
    again, _ = load_test.sample_texts("logistic_regression_jigsaw", str(baseline_models_dir), n=50)
    tweets, _ = load_test.sample_texts("logistic_regression", str(baseline_models_dir), n=50)

    assert len(set(texts)) == 50 and again == texts
    assert set(texts) <= set(split_dataset(load_dataset("jigsaw")).test.texts)
    assert set(tweets) <= set(split_dataset(load_dataset("davidson")).test.texts)
    assert "jigsaw" in source.lower()


def test_an_unknown_model_is_named_before_any_server_starts(baseline_models_dir):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--models-dir", str(baseline_models_dir), "--model", "no_such_model"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "error: no model named 'no_such_model'" in proc.stderr and "logistic_regression_jigsaw" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
