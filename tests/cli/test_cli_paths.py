"""A relative --models-dir is taken from the current folder (it used to crash when the card was finalised)."""

from __future__ import annotations

import json

from testkit.cli import run_cli


def test_relative_models_dir_trains_and_predicts(tmp_path):
    rows = [{"text": f"you are a horrible idiot number {i}", "label": "bad"} for i in range(30)]
    rows += [{"text": f"what a lovely sunny day number {i}", "label": "good"} for i in range(30)]
    (tmp_path / "posts.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    trained = run_cli(
        "--models-dir",
        "rel/models",
        "train",
        "baseline",
        "--task",
        "posts.jsonl",
        "--algorithm",
        "logistic_regression",
        cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr
    card = json.loads((tmp_path / "rel/models/baselines/logistic_regression_posts.card.json").read_text())
    assert card["labels"] == ["bad", "good"]

    predicted = run_cli(
        "--models-dir",
        "rel/models",
        "predict",
        "--model",
        "logistic_regression_posts",
        "--json",
        "a horrible idiot",
        cwd=tmp_path,
    )
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)[0]["label"] == "bad"
