"""``nlpc prepare``: which default models are missing, and training (and calibrating) the `hate` fallback."""

from __future__ import annotations

from testkit.api_server import every_default

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


def test_prepare_trains_the_missing_hate_fallback_and_calibrates_its_scores(baseline_models_dir, tmp_path):
    """The `hate` fallback is served by default, so `nlpc prepare` calibrates it after training it (on the real
    bundled data); the other defaults keep their scores."""
    import nlp_classifier
    from nlp_classifier.cli.prepare import prepare_models
    from nlp_classifier.defaults import CALIBRATED_DEFAULTS, PREFERRED_MODELS

    fallback = PREFERRED_MODELS[-1]
    models = every_default(baseline_models_dir, tmp_path / "models", leave_out=(fallback,))
    prepared = prepare_models(models)
    assert prepared.trained == [fallback] and prepared.calibrated == [f"{fallback} (isotonic)"]
    assert prepared.lines() == [f"trained: {fallback}", f"calibrated: {fallback} (isotonic)"]
    assert list(CALIBRATED_DEFAULTS) == [DEFAULT_BASELINES[0]]
    clf = nlp_classifier.load(fallback, models_dir=models)
    calibration = clf.card.calibration
    assert clf.calibrator is not None and calibration["method"] == "isotonic" and clf.card.version == "1.1.0"
    before, after = calibration["test"]["before"], calibration["test"]["after"]
    assert after["ece"] <= 0.03 < before["ece"]
    assert abs(after["roc_auc"] - before["roc_auc"]) < 0.002  # a monotone map: the ranking hardly moves (ties)
    assert nlp_classifier.load("logistic_regression", models_dir=models).calibrator is None
