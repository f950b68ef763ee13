"""--extra-data: labelled rows join the training split only, de-duplicated against every split, and the card
records them; bad files are refused naming the file and column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from testkit.cli import run_cli
from testkit.frames import tiny_frame

from nlp_classifier.data.datasets import Dataset
from nlp_classifier.data.extra import EXTRA_SOURCE, add_extra_rows
from nlp_classifier.data.splits import Splits
from nlp_classifier.errors import DataError

LABELS = ["not_hateful", "hateful"]


def _part(texts, y, sources=None) -> Dataset:
    return Dataset("hate", list(texts), np.array(y), LABELS, "single_label", "test", sources=sources)


def _splits(sources: bool = False) -> Splits:
    train_texts = ["muslims are lovely", "go away you idiot", "kill all of them"]
    return Splits(
        _part(train_texts, [0, 0, 1], ["a", "b", "a"] if sources else None),
        _part(["a validation text"], [0], ["a"] if sources else None),
        _part(["A test text!!"], [1], ["b"] if sources else None),
    )


def test_rows_join_train_only_replacing_and_dropping_duplicates(tmp_path):
    path = tmp_path / "reviewed.csv"
    pd.DataFrame(
        {
            "text": [
                "Muslims are LOVELY",  # same text as a training row (after normalisation): the correction wins
                "a test text",  # in the test split: dropped
                "new text one",
                "new text one",  # repeated: the last row wins
                "another new text",
            ],
            "label": ["hateful", "not_hateful", "hateful", "not_hateful", "hateful"],
        }
    ).to_csv(path, index=False)
    before = _splits(sources=True)
    after, rows = add_extra_rows(before, path)
    assert after.validation is before.validation and after.test is before.test
    assert rows.rows == 5 and rows.added == 3 and rows.replaced == 1 and rows.held_out == 1 and rows.repeated == 1
    labelled = dict(zip(after.train.texts, after.train.y.tolist(), strict=True))
    assert "muslims are lovely" not in labelled and labelled["Muslims are LOVELY"] == 1
    assert labelled["new text one"] == 0 and labelled["another new text"] == 1
    assert "a test text" not in labelled and len(after.train) == 3 - 1 + 3
    assert after.train.sources[-3:] == [EXTRA_SOURCE] * 3 and after.train.sources[:2] == ["b", "a"]
    record = rows.record()
    assert record["path"] == str(path) and record["fingerprint"].startswith("sha256:")


def test_bad_extra_files_are_refused_naming_file_and_column(tmp_path):
    unknown = tmp_path / "unknown.csv"
    pd.DataFrame({"text": ["x", "y"], "label": ["hateful", "spam"]}).to_csv(unknown, index=False)
    with pytest.raises(DataError, match=r"unknown\.csv.*label|label.*unknown\.csv"):
        add_extra_rows(_splits(), unknown)
    no_text = tmp_path / "no_text.csv"
    pd.DataFrame({"comment": ["x"], "label": ["hateful"]}).to_csv(no_text, index=False)
    with pytest.raises(DataError, match="text"):
        add_extra_rows(_splits(), no_text)
    with pytest.raises(DataError, match="not found"):
        add_extra_rows(_splits(), tmp_path / "missing.parquet")


@pytest.mark.slow
def test_train_baseline_with_extra_data_learns_the_corrections(tmp_path):
    data = tmp_path / "tiny.csv"
    tiny_frame(40)[["text", "label"]].to_csv(data, index=False)
    # polite-looking texts labelled abuse by a reviewer, each repeated so a tiny model can learn them
    corrections = ["sunflower marmalade picnic", "quiet violet umbrella"]
    extra = tmp_path / "reviewed.parquet"
    pd.DataFrame({"text": corrections * 6, "label": ["abuse"] * 12}).to_parquet(extra)
    models = tmp_path / "models"
    common = ["train", "baseline", "--task", str(data), "--algorithm", "logistic_regression", "--labels", "ok,abuse"]
    run_cli(*common, "--name", "plain", models_dir=models, check=True)
    run_cli(*common, "--name", "reviewed", "--extra-data", str(extra), models_dir=models, check=True)
    card = json.loads((models / "baselines" / "reviewed.card.json").read_text())
    assert card["extra"]["extra_data"]["rows"] == 12 and card["extra"]["extra_data"]["added"] == 2
    assert "extra_data" not in json.loads((models / "baselines" / "plain.card.json").read_text())["extra"]
    labels = {}
    for name in ("plain", "reviewed"):
        out = run_cli("predict", "--model", name, "--json", *corrections, models_dir=models, check=True)
        labels[name] = [r["label"] for r in json.loads(out.stdout)]
    assert labels["plain"] == ["ok", "ok"] and labels["reviewed"] == ["abuse", "abuse"]
