"""The registry's versions and integrity: ``nlpc models bump``, retraining's minor bump, ``nlpc models verify``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from testkit.cli import run_cli

import nlp_classifier
from nlp_classifier.card import ModelCard, sha256_file
from nlp_classifier.errors import ConfigError, IntegrityError
from nlp_classifier.paths import data_dir
from nlp_classifier.registry import bump_model, resolve
from nlp_classifier.versioning import read_versions


@pytest.fixture
def local_models(baseline_models_dir, tmp_path) -> Path:
    """A copy of the session's trained baselines (logistic_regression, linear_svm, logistic_regression_jigsaw)."""
    return Path(shutil.copytree(baseline_models_dir, tmp_path / "models"))


def ok_lines(output: str) -> int:
    return sum(line.startswith("ok ") for line in output.splitlines())


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_bump_updates_the_card_and_model_version_json(local_models):
    result = run_cli("models", "bump", "linear_svm", "major", models_dir=local_models)
    assert result.returncode == 0, result.stderr
    assert "linear_svm: 1.0.0 -> 2.0.0" in result.stdout
    card = resolve("linear_svm", local_models)
    assert (card.version, card.previous_version) == ("2.0.0", "1.0.0")
    assert read_versions(local_models) == {
        "version": "2.0.0",
        "models": {"logistic_regression": "1.0.0", "linear_svm": "2.0.0", "logistic_regression_jigsaw": "1.0.0"},
    }
    info = json.loads((local_models / "baselines/linear_svm_tfidf.training_info.json").read_text())
    assert info["version"] == "2.0.0"
    assert card.verify() == [], "the re-stamped training_info.json must stay pinned by the card"
    nlp_classifier.load("linear_svm", models_dir=local_models)  # still loads: hashes checked

    bump_model("linear_svm", "patch", local_models)
    bump_model("linear_svm", "minor", local_models)
    card = resolve("linear_svm", local_models)
    assert (card.version, card.previous_version) == ("2.1.0", "2.0.1")
    assert read_versions(local_models)["version"] == "2.1.0"
    assert read_versions(local_models)["models"]["logistic_regression"] == "1.0.0"


def test_bump_refuses_bad_parts_unknown_models_and_tampered_files(local_models):
    with pytest.raises(ConfigError, match="unknown version part 'huge'"):
        bump_model("linear_svm", "huge", local_models)
    result = run_cli("models", "bump", "no_such_model", "patch", models_dir=local_models)
    assert result.returncode == 2 and "no model named 'no_such_model'" in result.stderr
    before = read_versions(local_models)
    flip_byte(local_models / "baselines/logistic_regression_tfidf.joblib", 200)
    with pytest.raises(IntegrityError, match="logistic_regression_tfidf.joblib: sha256 does not match"):
        bump_model("logistic_regression", "minor", local_models)
    assert read_versions(local_models) == before and resolve("logistic_regression", local_models).version == "1.0.0"


def test_verify_detects_a_changed_byte_and_names_the_file(local_models):
    ok = run_cli("models", "verify", models_dir=local_models)
    assert ok.returncode == 0 and ok_lines(ok.stdout) == 3, ok.stdout
    target = local_models / "baselines/linear_svm_tfidf.joblib"
    flip_byte(target, target.stat().st_size // 2)
    bad = run_cli("models", "verify", models_dir=local_models)
    assert bad.returncode == 1
    assert "FAIL linear_svm" in bad.stdout and f"{target}: sha256 does not match" in bad.stdout, bad.stdout
    assert ok_lines(bad.stdout) == 2
    with pytest.raises(IntegrityError, match="linear_svm_tfidf.joblib"):
        nlp_classifier.load("linear_svm", models_dir=local_models)
    (local_models / "baselines/logistic_regression_tfidf.training_info.json").unlink()
    missing = run_cli("models", "verify", "logistic_regression", models_dir=local_models)
    assert missing.returncode == 1 and "logistic_regression_tfidf.training_info.json: missing" in missing.stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{bad json", "not valid JSON (line 1, column 2)"),
        ("[1, 2]", "not a JSON object"),
        ('{"name": "linear_svm"}', "missing family, task, labels, problem_type, artifact"),
    ],
)
def test_a_broken_card_is_named_by_every_command(local_models, content, problem):
    """A card left truncated or edited by hand ended every command that lists the models (list, verify, predict
    with any model, serve) in a JSONDecodeError or TypeError traceback."""
    card = local_models / "baselines" / "linear_svm.card.json"
    card.write_text(content)
    for command in (("models", "list"), ("models", "verify"), ("predict", "--model", "logistic_regression", "hi")):
        proc = run_cli(*command, models_dir=local_models)
        message = " ".join(proc.stderr.split())
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (command, proc.stderr)
        assert f"{card}: not a readable model card: {problem}" in message, (command, message)
        assert "restore it" in message


def test_a_broken_version_file_stops_commands_that_record_a_version_before_their_work(local_models):
    """MODEL_VERSION.json cut short ended `nlpc train` in a JSONDecodeError after the whole training (for MiniLM,
    an hour), and `nlpc calibrate` after writing the calibrator next to a model whose card it could not update."""
    version_file = local_models / "MODEL_VERSION.json"
    version_file.write_text('{"version": "1.0.0", "models": {"linear')
    before = {p: p.read_bytes() for p in local_models.rglob("*") if p.is_file()}
    commands = [
        ("train", "baseline", "--task", "davidson", "--algorithm", "logistic_regression"),
        ("calibrate", "--model", "logistic_regression", "--method", "temperature"),
    ]
    for command in commands:
        proc = run_cli(*command, models_dir=local_models)
        message = " ".join(proc.stderr.split())
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (command, proc.stderr)
        assert f"{version_file}: not a readable version file: not valid JSON (line 1, column" in message, message
        assert "training" not in proc.stdout.lower(), proc.stdout  # refused before any work
    assert {p: p.read_bytes() for p in local_models.rglob("*") if p.is_file()} == before
    assert run_cli("models", "list", models_dir=local_models).returncode == 0  # reading the models does not need it


def test_retraining_bumps_minor_and_records_the_previous_version(tmp_path):
    """Two trainings of the same model on a small slice of the Davidson data: 1.0.0, then 1.1.0."""
    small = tmp_path / "small.csv"
    frame = pd.read_csv(data_dir() / "davidson" / "labeled_data.csv.gz")
    frame.groupby("class").head(150).to_csv(small, index=False)
    models = tmp_path / "models"
    from nlp_classifier.training.baselines import train_baseline

    first = train_baseline("davidson", "logistic_regression", data=small, name="lr_small", models_dir=models)
    assert (first.version, first.previous_version) == ("1.0.0", None)
    second = train_baseline("davidson", "logistic_regression", data=small, name="lr_small", models_dir=models)
    assert (second.version, second.previous_version) == ("1.1.0", "1.0.0")
    card = ModelCard.read(second.path)
    assert (card.version, card.previous_version) == ("1.1.0", "1.0.0") and card.verify() == []
    assert read_versions(models) == {"version": "1.1.0", "models": {"lr_small": "1.1.0"}}
    assert sha256_file(models / "baselines/lr_small_tfidf.joblib") == card.files["lr_small_tfidf.joblib"]


def test_listing_the_models_while_a_model_folder_is_replaced_leaves_it_out_rather_than_failing(tmp_path):
    """Publishing a model replaces its folder whole (``publish_folder``: the old one moved aside, then removed), as
    a training does with each preview. Listing the folder meanwhile may find a card that is gone a moment later:
    it is left out of that listing; a card file that is there but cannot be read still fails."""
    import threading
    import time

    from nlp_classifier.artifacts import publish_folder
    from nlp_classifier.registry import list_cards

    models = tmp_path / "models"
    final = models / "transformer" / "often_replaced"

    def write(folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "weights.bin").write_bytes(b"0" * 64)
        card = ModelCard("often_replaced", "transformer", "hate", ["a", "b"], "single_label", ".")
        card.path = folder / "model_card.json"
        card.hash_files()
        card.save()

    write(final)
    stop = threading.Event()

    def replace_again_and_again() -> None:
        n = 0
        while not stop.is_set():
            staging = final.with_name(f".often_replaced.{n}")
            write(staging)
            publish_folder(staging, final)
            n += 1

    writer = threading.Thread(target=replace_again_and_again)
    writer.start()
    seen = []
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            seen.append([c.name for c in list_cards(models)])
    finally:
        stop.set()
        writer.join()
    assert seen and all(names in ([], ["often_replaced"]) for names in seen)
    (final / "model_card.json").write_text("{not json")
    with pytest.raises(IntegrityError, match="often_replaced/model_card.json: not a readable model card"):
        list_cards(models)
