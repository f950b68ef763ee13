"""``nlpc calibrate`` through the real CLI on a copy of the session's Davidson model: the table, the JSON, the
new version listed by ``nlpc models``, and clear errors (exit status 2) for bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from testkit.cli import run_cli
from testkit.models import model_test_sample


@pytest.fixture
def models(baseline_models_dir, tmp_path):
    return shutil.copytree(baseline_models_dir, tmp_path / "models")


def test_calibrate_prints_before_and_after_and_saves_the_next_version(models):
    proc = run_cli("calibrate", "--model", "logistic_regression", "--method", "isotonic", models_dir=models, check=True)
    out = proc.stdout
    assert "isotonic regression, fitted points per label: Hate Speech" in out
    assert "positive-class ECE, 15 equal-width bins" in out and "Brier score" in out and "ROC-AUC" in out
    assert "thresholds (decisions kept)" in out and "saved logistic_regression version 1.1.0 (was 1.0.0)" in out

    proc = run_cli(
        "calibrate", "--model", "logistic_regression", "--target-recall", "0.9", "--json", models_dir=models, check=True
    )
    payload = json.loads(proc.stdout)
    assert payload["version"] == "1.2.0" and payload["calibration"]["method"] == "temperature"
    after = payload["test"]["after"]
    assert after["ece_kind"] == "positive-class ECE, 15 equal-width bins" and 0 <= after["ece"] <= 1
    point = payload["operating_point"]
    assert point["metric"] == "recall" and point["validation"]["Hate Speech"]["recall"] >= 0.9
    assert set(point["test"]["Hate Speech"]) == {"threshold", "precision", "recall", "f1", "flag_rate"}
    assert payload["thresholds"]["Hate Speech"] == point["test"]["Hate Speech"]["threshold"]

    listed = json.loads(run_cli("models", "list", "--json", models_dir=models, check=True).stdout)
    assert {m["name"]: m["version"] for m in listed}["logistic_regression"] == "1.2.0"
    assert "ok" in run_cli("models", "verify", "logistic_regression", models_dir=models, check=True).stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--target-precision", "1.2"], "the target precision must be between 0 and 1 (exclusive), got 1.2"),
        (["--target-precision", "0.9", "--target-recall", "0.9"], "give a target precision or a target recall, not"),
        (["--thresholds-only"], "--thresholds-only picks thresholds: add --target-precision P, --target-recall R or"),
        # the method was silently dropped, and the error asked for a calibration method
        (["--thresholds-only", "--method", "isotonic"], "--thresholds-only fits no calibrator: leave out --method"),
    ],
)
def test_bad_input_is_a_clear_error(models, args, message):
    before = {p: p.read_bytes() for p in models.rglob("*") if p.is_file()}
    proc = run_cli("calibrate", "--model", "logistic_regression", *args, models_dir=models)
    assert proc.returncode == 2 and message in " ".join(proc.stderr.split()), proc.stderr
    assert {p: p.read_bytes() for p in models.rglob("*") if p.is_file()} == before


def test_unknown_method_is_refused_by_the_parser(models):
    proc = run_cli("calibrate", "--model", "logistic_regression", "--method", "platt", models_dir=models)
    assert proc.returncode == 2 and "invalid choice: 'platt'" in proc.stderr


def test_calibrate_on_a_users_file_reports_on_its_held_back_half(models, tmp_path):
    """A model whose training data is not here can still be tuned to a labelled sample of the user's own posts."""
    path = model_test_sample("logistic_regression", models, tmp_path / "posts.csv", rows=400)
    args = ["--data", str(path), "--text-column", "post", "--label-column", "verdict"]
    proc = run_cli(
        "calibrate", "--model", "logistic_regression", *args, "--thresholds-only", "--best-f1", models_dir=models
    )
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "the other half of the file (n=200)" in out and "operating point: best F1 on fit half" in out
    payload = json.loads(
        run_cli("calibrate", "--model", "logistic_regression", *args, "--json", models_dir=models, check=True).stdout
    )
    assert payload["measured_on"] == "the other half of the file" and payload["test"]["after"]["n"] == 200
    assert payload["operating_point"]["metric"] == "f1"  # kept: re-picked for the best F1 on the new scores
    assert "posts.csv (200 of its 400 rows" in payload["calibration"]["fitted_on"]["data"]

    bad = tmp_path / "bad.csv"
    bad.write_text("post,verdict\nhello,Regular Speech\nbye,maybe\n")
    proc = run_cli(
        "calibrate",
        "--model",
        "logistic_regression",
        "--data",
        str(bad),
        "--text-column",
        "post",
        "--label-column",
        "verdict",
        models_dir=models,
    )
    assert proc.returncode == 2 and "bad.csv, row 2, column 'verdict': unknown label 'maybe'" in proc.stderr
