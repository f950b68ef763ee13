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


def test_prepare_calibrates_the_hate_fallback_once_when_it_lacks_one(baseline_models_dir, tmp_path, monkeypatch):
    """The `hate` fallback is served by default, so `nlpc prepare` calibrates it (on the real bundled data) when it
    has no calibrator: after training it, and when it was pulled from a set published before, or trained here
    before, the defaults were calibrated; the other defaults keep their scores."""
    import nlp_classifier
    from nlp_classifier import defaults
    from nlp_classifier.cli.prepare import prepare_models

    fallback = defaults.PREFERRED_MODELS[-1]
    assert list(defaults.CALIBRATED_DEFAULTS) == [DEFAULT_BASELINES[0]]
    models = every_default(baseline_models_dir, tmp_path / "models", leave_out=(fallback,))
    with monkeypatch.context() as older:  # `nlpc prepare` as it was before it calibrated anything
        older.setattr(defaults, "CALIBRATED_DEFAULTS", {})
        trained = prepare_models(models)
    assert trained.lines() == [f"trained: {fallback}"]
    assert nlp_classifier.load(fallback, models_dir=models).calibrator is None

    prepared = prepare_models(models)
    assert prepared.trained == [] and prepared.calibrated == [f"{fallback} (isotonic)"]
    assert prepared.lines() == [f"calibrated: {fallback} (isotonic)"]
    clf = nlp_classifier.load(fallback, models_dir=models)
    calibration = clf.card.calibration
    assert clf.calibrator is not None and calibration["method"] == "isotonic" and clf.card.version == "1.1.0"
    before, after = calibration["test"]["before"], calibration["test"]["after"]
    assert after["ece"] <= 0.03 < before["ece"]
    assert abs(after["roc_auc"] - before["roc_auc"]) < 0.002  # a monotone map: the ranking hardly moves (ties)
    assert nlp_classifier.load("logistic_regression", models_dir=models).calibrator is None
    assert prepare_models(models).lines() == []  # calibrated once, not at every start


def test_prepare_names_a_fallback_it_cannot_calibrate_and_leaves_it_served_as_it_is(hate_models_dir, tmp_path):
    """A `logistic_regression_hate_char` trained on data the registry cannot read again (here a tiny frame) has no
    validation split to calibrate on: `nlpc prepare` says so and goes on."""
    from nlp_classifier.cli.prepare import prepare_models, uncalibrated_defaults
    from nlp_classifier.registry import resolve

    models = every_default(hate_models_dir, tmp_path / "models")
    assert uncalibrated_defaults(models) == [("logistic_regression_hate_char", "isotonic")]
    lines = prepare_models(models).lines()
    assert len(lines) == 1 and lines[0].startswith(
        "not calibrated, served with its raw scores: logistic_regression_hate_char (model "
        "'logistic_regression_hate_char' has no validation split to calibrate on"
    )
    assert resolve("logistic_regression_hate_char", models).version == "1.0.0"
