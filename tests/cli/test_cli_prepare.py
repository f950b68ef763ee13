"""``nlpc prepare``: which default models are missing (training them is covered by the end-to-end tests)."""

from __future__ import annotations

from nlp_classifier.cli.prepare import missing_defaults
from nlp_classifier.defaults import DEFAULT_BASELINES
from nlp_classifier.training.baselines import default_name


def test_default_names_are_distinct_and_the_seed_paths_are_among_them():
    names = [default_name(algorithm, task, preset) for task, algorithm, preset in DEFAULT_BASELINES]
    assert len(set(names)) == len(names)
    assert {"logistic_regression", "linear_svm"} <= set(names)  # the seed's two files
    assert names[0] == "logistic_regression_hate_char"  # the hate model `make run` serves by default, trained first
    assert DEFAULT_BASELINES[0] == ("hate", "logistic_regression", "char")


def test_missing_defaults(tmp_path, baseline_models_dir):
    assert missing_defaults(tmp_path) == DEFAULT_BASELINES
    missing = missing_defaults(baseline_models_dir)  # has the seed baselines and logistic_regression_jigsaw
    assert ("davidson", "logistic_regression", "seed") not in missing
    assert ("davidson", "linear_svm", "char") in missing
    assert missing_defaults(baseline_models_dir, force=True) == DEFAULT_BASELINES
