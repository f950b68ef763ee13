"""Calibration and operating points: the metrics against hand-computed cases, the calibrators on synthetic data
with a known answer, and ``calibrate_model`` on the session's real TF-IDF models (Davidson binary, Jigsaw six
labels, trained on real data) copied to a temporary folder: ranking kept, test ECE not worse, the calibrator
pinned and checked at load, every TF-IDF backend applying it, thresholds reaching their target on validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score
from testkit.models import model_test_sample, train_small_baseline

import nlp_classifier
from nlp_classifier.calibration import (
    brier_score,
    calibration_metrics,
    expected_calibration_error,
    reliability_bins,
)
from nlp_classifier.calibrators import Calibrator, fit_calibrator
from nlp_classifier.card import ModelCard, sha256_file
from nlp_classifier.data.model_data import load_for_labels, model_splits
from nlp_classifier.errors import ConfigError, DataError, IntegrityError
from nlp_classifier.evaluation import dataset_metrics, predict_proba_batched
from nlp_classifier.metrics import tune_thresholds
from nlp_classifier.model_calibration import calibrate_model, file_halves
from nlp_classifier.operating_points import at_thresholds, curve, pick_thresholds, threshold_for_target
from nlp_classifier.registry import resolve
from nlp_classifier.tasks import MULTI_LABEL, SINGLE_LABEL
from nlp_classifier.versioning import read_versions

DAVIDSON, JIGSAW = "logistic_regression", "logistic_regression_jigsaw"


# --- metrics -------------------------------------------------------------------------------------------------
def test_reliability_bins_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    bins = reliability_bins(y, p, n_bins=2)  # (0, 0.5] with 0 included, (0.5, 1]
    assert bins.edges.tolist() == [0.0, 0.5, 1.0]
    assert bins.counts.tolist() == [3, 2]
    assert bins.confidence == pytest.approx([0.7 / 3, 0.95])
    assert bins.accuracy == pytest.approx([2 / 3, 0.5])
    expected = 3 / 5 * abs(2 / 3 - 0.7 / 3) + 2 / 5 * abs(0.5 - 0.95)
    assert bins.ece == pytest.approx(expected)
    assert expected_calibration_error(y, p, 2) == pytest.approx(expected)
    empty = reliability_bins(np.array([1, 0]), np.array([0.95, 0.97]), n_bins=4)
    assert empty.counts.tolist() == [0, 0, 0, 2] and np.isnan(empty.confidence[0])
    assert empty.to_dict()["accuracy"] == [None, None, None, 0.5]
    assert expected_calibration_error(np.array([1, 1, 0, 0]), np.array([1.0, 1.0, 0.0, 0.0])) == 0.0


def test_brier_score_conventions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p1 = rng.random(200)
    binary = np.column_stack([1 - p1, p1])
    assert brier_score(y, binary, SINGLE_LABEL) == pytest.approx(brier_score_loss(y, p1))
    three = rng.dirichlet([1, 1, 1], 200)
    y3 = rng.integers(0, 3, 200)
    assert brier_score(y3, three, SINGLE_LABEL) == pytest.approx(np.mean(((three - np.eye(3)[y3]) ** 2).sum(axis=1)))
    multi = rng.random((200, 4))
    y_multi = rng.integers(0, 2, (200, 4))
    assert brier_score(y_multi, multi, MULTI_LABEL) == pytest.approx(np.mean((multi - y_multi) ** 2))


def test_positive_class_ece_sees_a_prior_shift_that_top_label_ece_hides():
    # The positive class scored too high everywhere: 0.6 where 20% are positive, 0.4 where none is. Folded into
    # one "confidence 0.6" bin (right 20% and 100% of the time), the two errors cancel in the top-label ECE.
    p1 = np.r_[np.full(1000, 0.6), np.full(1000, 0.4)]
    y = np.r_[np.arange(1000) < 200, np.zeros(1000)].astype(int)
    metrics = calibration_metrics(y, np.column_stack([1 - p1, p1]), ["no", "yes"], SINGLE_LABEL)
    assert metrics["ece_top_label"] == pytest.approx(0.0)
    assert metrics["ece"] == pytest.approx(0.4)
    assert metrics["ece_kind"] == "positive-class ECE, 15 equal-width bins"


# --- calibrators on synthetic data ---------------------------------------------------------------------------
def overconfident_binary(n: int = 20000, true_t: float = 2.0, seed: int = 0):
    """Scores sigmoid(z) from a model twice as confident as the truth sigmoid(z / 2)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z / true_t))).astype(int)
    p1 = 1 / (1 + np.exp(-z))
    return y, np.column_stack([1 - p1, p1])


def test_temperature_recovers_a_known_temperature_and_keeps_decisions():
    y, proba = overconfident_binary()
    cal = fit_calibrator("temperature", y, proba, ["no", "yes"], SINGLE_LABEL)
    assert cal.params["temperature"] == pytest.approx(2.0, rel=0.08)
    out = cal.apply(proba)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert roc_auc_score(y, out[:, 1]) == pytest.approx(roc_auc_score(y, proba[:, 1]), abs=1e-12)
    assert expected_calibration_error(y, out[:, 1]) < expected_calibration_error(y, proba[:, 1]) / 3
    mapped = cal.map_thresholds({"no": 0.5, "yes": 0.8})
    assert mapped["no"] == 0.5 and mapped["yes"] < 0.8
    assert np.array_equal(proba[:, 1] >= 0.8, out[:, 1] >= mapped["yes"])


def test_multi_label_temperature_per_label_and_identity_without_positives():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (20000, 3))
    truth = 1 / (1 + np.exp(-z / np.array([0.5, 3.0, 1.0])))
    y = (rng.random(z.shape) < truth).astype(int)
    y[:, 2] = 0  # a label never positive in validation is left alone
    proba = 1 / (1 + np.exp(-z))
    cal = fit_calibrator("temperature", y, proba, ["a", "b", "c"], MULTI_LABEL)
    temps = cal.params["temperatures"]
    assert temps["a"] == pytest.approx(0.5, rel=0.1) and temps["b"] == pytest.approx(3.0, rel=0.1)
    assert temps["c"] == 1.0
    out = cal.apply(proba)
    assert np.allclose(out[:, 2], proba[:, 2])
    thresholds = cal.map_thresholds({"a": 0.3, "b": 0.7, "c": 0.5})
    for i, lab in enumerate("abc"):
        assert np.array_equal(proba[:, i] >= [0.3, 0.7, 0.5][i], out[:, i] >= thresholds[lab])


def test_a_threshold_on_an_isotonic_step_keeps_the_raw_decisions():
    # every text under 0.55 is negative, so the map is one flat step at 0 from 0 to 0.55, and the raw threshold 0.5
    # is on it: mapped plainly, all the step's texts tie with the threshold and every text would be flagged
    scores = np.linspace(0.0, 1.0, 2001)
    y = (scores >= 0.55).astype(int)
    proba = np.column_stack([1 - scores, scores])
    cal = fit_calibrator("isotonic", y, proba, ["no", "yes"], SINGLE_LABEL)
    out = cal.apply(proba)[:, 1]
    raw = scores >= 0.5
    plain = cal.map_thresholds({"yes": 0.5})["yes"]
    assert plain == 0.0 and (out >= plain).all()
    settled = cal.map_thresholds({"yes": 0.5}, proba)["yes"]
    kept = (out >= settled) == raw
    assert kept.mean() > 0.95 and kept.sum() > ((out >= plain) == raw).sum()
    assert not (out[scores < 0.5] >= settled).any()  # the step's texts are no longer flagged
    # a multi-label map settles each label the same way; temperature maps have no steps and are left exact
    two = np.column_stack([scores, scores])
    multi = fit_calibrator("isotonic", np.column_stack([y, y]), two, ["a", "b"], MULTI_LABEL)
    both = multi.map_thresholds({"a": 0.5, "b": 0.5}, two)
    assert both["a"] == both["b"] == settled
    warm = fit_calibrator("temperature", y, proba, ["no", "yes"], SINGLE_LABEL)
    assert warm.map_thresholds({"yes": 0.5}, proba) == warm.map_thresholds({"yes": 0.5})


def test_isotonic_is_monotone_and_multi_class_rows_sum_to_one():
    y, proba = overconfident_binary(5000)
    cal = fit_calibrator("isotonic", y, proba, ["no", "yes"], SINGLE_LABEL)
    assert set(cal.params["isotonic"]) == {"yes"}  # binary: the positive class only
    out = cal.apply(proba)
    order = np.argsort(proba[:, 1])
    assert np.all(np.diff(out[order, 1]) >= 0)  # no pair of texts changes order
    assert np.allclose(out[:, 0], 1 - out[:, 1])
    rng = np.random.default_rng(2)
    three = rng.dirichlet([0.5, 0.5, 0.5], 3000)
    y3 = np.array([rng.choice(3, p=row) for row in three**2 / (three**2).sum(axis=1, keepdims=True)])
    cal3 = fit_calibrator("isotonic", y3, three, ["a", "b", "c"], SINGLE_LABEL)
    assert set(cal3.params["isotonic"]) == {"a", "b", "c"}
    assert np.allclose(cal3.apply(three).sum(axis=1), 1.0)
    # the saved form round-trips through JSON
    again = Calibrator.from_dict(json.loads(json.dumps(cal3.to_dict())))
    assert np.array_equal(again.apply(three), cal3.apply(three))


def test_bad_calibrator_input():
    y, proba = overconfident_binary(100)
    with pytest.raises(ConfigError, match="unknown calibration method 'platt'; use one of temperature, isotonic"):
        fit_calibrator("platt", y, proba, ["no", "yes"], SINGLE_LABEL)
    with pytest.raises(ConfigError, match="not a calibrator file"):
        Calibrator.from_dict({"format": "something else"})


# --- operating points on synthetic data ----------------------------------------------------------------------
def test_threshold_for_target_is_the_extreme_one_reaching_it():
    y = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    thresholds, precision, recall = curve(y, scores)
    assert precision.tolist() == pytest.approx([1, 1, 2 / 3, 3 / 4, 3 / 5, 1 / 2, 4 / 7, 1 / 2])
    assert threshold_for_target(y, scores, "precision", 0.75) == 0.6  # the smallest with precision >= 0.75
    assert threshold_for_target(y, scores, "precision", 0.55) == 0.3
    assert threshold_for_target(y, scores, "recall", 0.5) == 0.8  # the largest with recall >= 0.5
    assert threshold_for_target(y, scores, "recall", 0.9) == 0.3
    tied = np.array([0.9, 0.9, 0.5, 0.5])
    assert threshold_for_target(np.array([1, 0, 1, 1]), tied, "precision", 0.7) == 0.5  # ties move together
    with pytest.raises(ConfigError, match=r"no threshold reaches precision 0.9 for label 'x'.*best is 0.5000"):
        threshold_for_target(np.array([0, 1, 0, 1]), np.array([0.9, 0.8, 0.7, 0.6]), "precision", 0.9, "x")
    with pytest.raises(ConfigError, match="label 'x' has no positive texts"):
        threshold_for_target(np.zeros(4), scores[:4], "recall", 0.5, "x")


def test_operating_points_need_a_threshold_that_decides():
    proba = np.random.default_rng(0).dirichlet([1, 1, 1], 30)
    with pytest.raises(ConfigError, match="multi-class model .* decides by arg-max"):
        pick_thresholds(np.zeros(30, dtype=int), proba, ["a", "b", "c"], SINGLE_LABEL, "precision", 0.9)


# --- real models ---------------------------------------------------------------------------------------------
def copy_models(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def raw_and_calibrated(name: str, models: Path, part: str = "test", backend: str | None = None):
    """The part's targets, and the model's raw and calibrated probabilities on it."""
    clf = nlp_classifier.load(name, models_dir=models, backend=backend)
    data = model_splits(clf.card)[0].part(part)
    raw = predict_proba_batched(clf, data.texts, calibrated=False)
    return data.y, raw, clf.calibrate(raw), clf


@pytest.fixture(scope="module")
def temperature_models(baseline_models_dir, tmp_path_factory):
    """The session's models, the Davidson and Jigsaw ones calibrated by temperature scaling."""
    models = copy_models(baseline_models_dir, tmp_path_factory.mktemp("calibrated") / "models")
    results = {name: calibrate_model(name, models_dir=models, method="temperature") for name in (DAVIDSON, JIGSAW)}
    return models, results


def test_temperature_keeps_roc_auc_and_does_not_worsen_test_ece(temperature_models, baseline_models_dir):
    models, results = temperature_models
    y, raw, calibrated, _ = raw_and_calibrated(DAVIDSON, models)
    assert not np.allclose(raw, calibrated)  # the calibrator does something
    assert roc_auc_score(y, calibrated[:, 1]) == pytest.approx(roc_auc_score(y, raw[:, 1]), abs=1e-12)
    before, after = results[DAVIDSON].test["before"], results[DAVIDSON].test["after"]
    assert after["ece"] <= before["ece"] and after["brier"] <= before["brier"]
    assert after["ece"] == pytest.approx(calibration_metrics(y, calibrated, ["a", "b"], SINGLE_LABEL)["ece"])
    # the decisions are kept: the threshold moved onto the calibrated scale
    old = resolve(DAVIDSON, baseline_models_dir).thresholds["Hate Speech"]
    new = resolve(DAVIDSON, models).thresholds["Hate Speech"]
    assert np.array_equal(raw[:, 1] >= old, calibrated[:, 1] >= new)

    y, raw, calibrated, clf = raw_and_calibrated(JIGSAW, models)
    for i in range(len(clf.labels)):
        assert roc_auc_score(y[:, i], calibrated[:, i]) == pytest.approx(roc_auc_score(y[:, i], raw[:, i]), abs=1e-12)
    before, after = results[JIGSAW].test["before"], results[JIGSAW].test["after"]
    assert after["ece"] <= before["ece"] and after["roc_auc"] == pytest.approx(before["roc_auc"], abs=1e-12)
    assert set(clf.calibrator.params["temperatures"]) == set(clf.labels)


def test_calibrator_is_pinned_versioned_and_tamper_checked(temperature_models, baseline_models_dir, tmp_path):
    models, _ = temperature_models
    card = resolve(DAVIDSON, models)
    rel = card.calibration["file"]
    assert rel == "logistic_regression.calibration.json" and (card.root / rel).is_file()
    assert card.files[rel] == sha256_file(card.root / rel) and card.verify() == []
    assert card.calibration["method"] == "temperature" and card.calibration["fitted_on"]["split"] == "validation"
    old = resolve(DAVIDSON, baseline_models_dir)
    assert (card.previous_version, card.version) == (old.version, "1.1.0")
    assert read_versions(models)["models"][DAVIDSON] == "1.1.0"
    assert resolve(JIGSAW, models).calibration["ece"] == "mean per-label ECE, 15 equal-width bins"

    tampered = copy_models(models, tmp_path / "tampered")
    path = resolve(DAVIDSON, tampered).root / rel
    data = json.loads(path.read_text())
    data["params"]["temperature"] = 100.0
    path.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match=r"logistic_regression.calibration.json: sha256 does not match"):
        nlp_classifier.load(DAVIDSON, models_dir=tampered)
    unpinned = copy_models(models, tmp_path / "unpinned")
    card = resolve(DAVIDSON, unpinned)
    del card.files[rel]
    card.save()
    with pytest.raises(IntegrityError, match="calibrator logistic_regression.calibration.json is not pinned"):
        nlp_classifier.load(DAVIDSON, models_dir=unpinned)


def test_every_tfidf_backend_applies_the_calibrator(temperature_models):
    models, _ = temperature_models
    texts = ["you are a stupid idiot", "have a nice day", "go back to where you came from", ""]
    for name in (DAVIDSON, JIGSAW):
        fast = nlp_classifier.load(name, models_dir=models)
        plain = nlp_classifier.load(name, models_dir=models, backend="sklearn")
        assert (fast.backend, plain.backend) == ("fast", "sklearn")
        expected = fast.calibrator.apply(plain.predict_proba(texts, calibrated=False))
        assert np.allclose(plain.predict_proba(texts), expected, atol=1e-12)
        assert np.allclose(fast.predict_proba(texts), expected, atol=1e-9)
        prediction = fast.predict(texts)[0]
        assert prediction.scores == pytest.approx(dict(zip(fast.labels, expected[0])))


def test_isotonic_keeps_the_order_and_does_not_worsen_test_ece(baseline_models_dir, tmp_path):
    models = copy_models(baseline_models_dir, tmp_path / "models")
    result = calibrate_model(DAVIDSON, models_dir=models, method="isotonic")
    y, raw, calibrated, _ = raw_and_calibrated(DAVIDSON, models)
    order = np.argsort(raw[:, 1], kind="stable")
    assert np.all(np.diff(calibrated[order, 1]) >= 0)  # no pair of texts reversed...
    pos, neg = raw[y == 1, 1], raw[y == 0, 1]
    cal_pos, cal_neg = calibrated[y == 1, 1], calibrated[y == 0, 1]
    newly_tied = (cal_pos[:, None] == cal_neg[None, :]) & (pos[:, None] != neg[None, :])
    assert newly_tied.any()  # ...but some become ties: each moves ROC-AUC by half a pair, either way
    change = roc_auc_score(y, calibrated[:, 1]) - roc_auc_score(y, raw[:, 1])
    assert abs(change) <= 0.5 * newly_tied.mean() + 1e-12
    assert result.test["after"]["ece"] <= result.test["before"]["ece"]
    assert result.test["after"]["roc_auc"] == pytest.approx(roc_auc_score(y, calibrated[:, 1]))


def test_operating_point_reaches_its_target_on_validation(baseline_models_dir, tmp_path):
    models = copy_models(baseline_models_dir, tmp_path / "models")
    result = calibrate_model(DAVIDSON, models_dir=models, method="temperature", target_precision=0.97)
    y, _, calibrated, clf = raw_and_calibrated(DAVIDSON, models, "validation")
    t = clf.thresholds["Hate Speech"]
    positive = y == 1
    assert np.mean(positive[calibrated[:, 1] >= t]) >= 0.97
    lower = calibrated[:, 1][calibrated[:, 1] < t]  # every smaller candidate threshold misses the target
    assert all(np.mean(positive[calibrated[:, 1] >= s]) < 0.97 for s in np.unique(lower))
    point = clf.card.operating_point
    assert point["metric"] == "precision" and point["target"] == 0.97 and point["calibrated"] is True
    assert point["validation"]["Hate Speech"]["precision"] >= 0.97
    test_y, _, test_cal, _ = raw_and_calibrated(DAVIDSON, models)
    report = at_thresholds(test_y, test_cal, clf.labels, clf.problem_type, clf.thresholds)
    assert result.operating_point["test"] == report
    assert report["Hate Speech"]["flag_rate"] == pytest.approx(np.mean(test_cal[:, 1] >= t))

    # thresholds only, per label, on the Jigsaw model's own scores
    calibrate_model(JIGSAW, models_dir=models, method=None, target_recall=0.8)
    y, raw, calibrated, clf = raw_and_calibrated(JIGSAW, models, "validation")
    assert clf.calibrator is None and np.array_equal(raw, calibrated)
    for i, lab in enumerate(clf.labels):
        t = clf.thresholds[lab]
        flagged = raw[:, i] >= t
        assert flagged[y[:, i] == 1].mean() >= 0.8
        higher = np.unique(raw[:, i][raw[:, i] > t])
        assert not len(higher) or (raw[y[:, i] == 1, i] >= higher[0]).mean() < 0.8


def test_calibrating_on_a_users_file_fits_one_half_and_measures_the_other(baseline_models_dir, tmp_path):
    models = copy_models(baseline_models_dir, tmp_path / "models")
    card = resolve(DAVIDSON, models)
    path = model_test_sample(DAVIDSON, models, tmp_path / "our_posts.csv", rows=600)
    data = load_for_labels(path, card.labels, card.problem_type, text_column="post", label_columns=["verdict"])
    fit, check, note = file_halves(data, card)
    assert len(fit) + len(check) == 600 and "our_posts.csv (300 of its 600 rows, seed" in note
    assert all(abs(np.sum(fit.y == i) - np.sum(check.y == i)) <= 1 for i in range(2))  # stratified halves

    result = calibrate_model(DAVIDSON, models_dir=models, method="isotonic", best_f1=True, data=data)
    clf = nlp_classifier.load(DAVIDSON, models_dir=models)
    assert result.measured_on == "the other half of the file" and result.test["after"]["n"] == len(check)
    assert clf.calibrator.fitted_on["n"] == len(fit) and "our_posts.csv" in clf.calibrator.fitted_on["data"]
    fit_scores = clf.calibrate(predict_proba_batched(clf, fit.texts, calibrated=False))
    tuned = tune_thresholds(fit.y, fit_scores, clf.labels, clf.problem_type)
    assert clf.thresholds["Hate Speech"] == tuned["Hate Speech"]  # picked on the fit half, as training picks
    point = clf.card.operating_point
    assert point["metric"] == "f1" and point["target"] == "max" and "our_posts.csv" in point["picked_on"]
    check_scores = clf.calibrate(predict_proba_batched(clf, check.texts, calibrated=False))
    assert result.test["after"]["ece"] == pytest.approx(
        calibration_metrics(check.y, check_scores, clf.labels, clf.problem_type)["ece"]
    )
    assert point["test"] == at_thresholds(check.y, check_scores, clf.labels, clf.problem_type, clf.thresholds)
    assert clf.card.metrics["calibration_data"]["check"]["n"] == len(check)
    # the card's figures on the model's own test split are those of the new scores and threshold
    own_test = model_splits(clf.card)[0].test
    _, _, calibrated, _ = raw_and_calibrated(DAVIDSON, models)
    own = dataset_metrics(own_test, calibrated, clf.thresholds)
    assert clf.card.metrics["test"]["f1_macro"] == pytest.approx(own["f1_macro"])


def test_a_users_file_with_too_few_rows_or_other_labels_is_refused(baseline_models_dir, tmp_path):
    models = copy_models(baseline_models_dir, tmp_path / "models")
    before = {p: p.read_bytes() for p in models.rglob("*") if p.is_file()}
    card = resolve(DAVIDSON, models)
    tiny = tmp_path / "tiny.csv"
    pd.DataFrame({"text": [f"post {i}" for i in range(6)], "label": ["Regular Speech"] * 5 + ["Hate Speech"]}).to_csv(
        tiny, index=False
    )
    data = load_for_labels(tiny, card.labels, card.problem_type)
    with pytest.raises(DataError, match=r"tiny\.csv: label 'Hate Speech' has 1 row\(s\); calibrating on a file needs"):
        calibrate_model(DAVIDSON, models_dir=models, data=data)
    other = tmp_path / "other.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["Regular Speech", "spam", "Hate Speech"]}).to_csv(
        other, index=False
    )
    with pytest.raises(DataError, match=r"other\.csv, row 2, column 'label': unknown label 'spam'"):
        load_for_labels(other, card.labels, card.problem_type)
    with pytest.raises(ConfigError, match="give a target precision, a target recall or the best F1, not two of them"):
        calibrate_model(DAVIDSON, models_dir=models, best_f1=True, target_recall=0.9)
    assert {p: p.read_bytes() for p in models.rglob("*") if p.is_file()} == before


def test_bad_input_is_refused_before_anything_changes(baseline_models_dir, tmp_path):
    models = copy_models(baseline_models_dir, tmp_path / "models")
    card_path = resolve(DAVIDSON, models).path
    before = card_path.read_bytes()
    with pytest.raises(ConfigError, match="unknown calibration method 'platt'"):
        calibrate_model(DAVIDSON, models_dir=models, method="platt")
    for bad in (0.0, 1.0, 1.5, -0.2):
        with pytest.raises(ConfigError, match=r"target precision must be between 0 and 1 \(exclusive\)"):
            calibrate_model(DAVIDSON, models_dir=models, target_precision=bad)
    with pytest.raises(ConfigError, match="give a target precision or a target recall, not both"):
        calibrate_model(DAVIDSON, models_dir=models, target_precision=0.9, target_recall=0.9)
    with pytest.raises(ConfigError, match="nothing to do"):
        calibrate_model(DAVIDSON, models_dir=models, method=None)
    card = ModelCard.read(card_path)
    task, source = card.task, card.data_source
    card.task, card.data_source = "my_own_labels", None
    card.save()
    with pytest.raises(ConfigError, match=r"'logistic_regression' has no validation split to calibrate on: the train"):
        calibrate_model(DAVIDSON, models_dir=models)
    card.task, card.data_source = task, source
    card.save()
    assert card_path.read_bytes() == before and read_versions(models) == read_versions(baseline_models_dir)


def test_multi_class_model(tmp_path):
    """Three Davidson classes: temperature keeps every arg-max; operating points are refused."""
    models = tmp_path / "models"
    card = train_small_baseline("davidson3", models, tmp_path)
    with pytest.raises(ConfigError, match="multi-class model"):
        calibrate_model(card.name, models_dir=models, target_recall=0.5)
    result = calibrate_model(card.name, models_dir=models, method="temperature")
    assert result.card.calibration["ece"] == "top-label ECE, 15 equal-width bins"
    y, raw, calibrated, _ = raw_and_calibrated(card.name, models)
    assert np.array_equal(raw.argmax(axis=1), calibrated.argmax(axis=1))
    assert np.allclose(calibrated.sum(axis=1), 1.0)
