"""Loaders: every supported file format, gzip, the generic labelled-file loader and the built-in tasks."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from nlp_classifier.data import load_dataset
from nlp_classifier.data.readers import read_table, table_format, write_table
from nlp_classifier.errors import ConfigError, DataError
from nlp_classifier.tasks import MULTI_LABEL, SINGLE_LABEL, TOXICITY_LABELS

FRAME = pd.DataFrame(
    {"body": ["good morning", "you idiot", 'nice, "quoted" text', "tab\tinside"], "y": ["ok", "bad", "ok", "bad"]}
)


@pytest.mark.parametrize("name", ["f.csv", "f.tsv", "f.jsonl", "f.parquet", "f.csv.gz", "f.tsv.gz", "f.jsonl.gz"])
def test_round_trip_every_format(tmp_path, name):
    path = tmp_path / name
    write_table(FRAME, path)
    if name.endswith(".gz"):
        assert gzip.decompress(path.read_bytes())  # really compressed
    back = read_table(path)
    pd.testing.assert_frame_equal(back[["body", "y"]].astype(str), FRAME)


def test_json_suffix_reads_as_jsonl_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "f.json"
    path.write_text('{"text": "a", "label": "x"}\n\n{"text": "b", "label": "y"}\n')
    assert read_table(path)["text"].tolist() == ["a", "b"]


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftext,label\nhello,a\n")
    assert list(read_table(path).columns) == ["text", "label"]


def test_unsupported_suffix_names_the_file(tmp_path):
    with pytest.raises(DataError, match=r"data\.xlsx.*unsupported file type"):
        table_format(tmp_path / "data.xlsx")


def test_generic_single_label_file_with_named_columns(tmp_path):
    path = tmp_path / "mine.parquet"
    write_table(FRAME, path)
    ds = load_dataset(str(path), text_column="body", label_columns=["y"])
    assert ds.problem_type == SINGLE_LABEL
    assert ds.labels == ["bad", "ok"]  # sorted class names when --labels is not given
    assert ds.y.tolist() == [1, 0, 1, 0]
    assert ds.name == "mine"
    ordered = load_dataset(str(path), text_column="body", label_columns=["y"], labels=["ok", "bad"])
    assert ordered.labels == ["ok", "bad"] and ordered.y.tolist() == [0, 1, 0, 1]


def test_generic_multi_label_file(tmp_path):
    path = tmp_path / "tox.jsonl.gz"
    write_table(pd.DataFrame({"comment": ["a", "b", "c"], "rude": [1, 0, 1], "mean": [0, 0, 1.0]}), path)
    ds = load_dataset(str(path), text_column="comment", label_columns=["rude", "mean"])
    assert ds.problem_type == MULTI_LABEL
    assert ds.labels == ["rude", "mean"]
    assert ds.y.tolist() == [[1, 0], [0, 0], [1, 1]]


def test_fingerprint_depends_on_content_only(tmp_path):
    write_table(FRAME, tmp_path / "a.csv")
    write_table(FRAME, tmp_path / "b.parquet")
    a = load_dataset(str(tmp_path / "a.csv"), text_column="body", label_columns=["y"])
    b = load_dataset(str(tmp_path / "b.parquet"), text_column="body", label_columns=["y"])
    assert a.fingerprint == b.fingerprint and a.fingerprint.startswith("sha256:")
    write_table(FRAME.assign(y=["ok", "ok", "bad", "bad"]), tmp_path / "c.csv")
    assert load_dataset(str(tmp_path / "c.csv"), text_column="body", label_columns=["y"]).fingerprint != a.fingerprint


def test_builtin_tasks():
    binary = load_dataset("davidson")
    three = load_dataset("davidson3")
    jigsaw = load_dataset("jigsaw")
    assert len(binary) == len(three) == 24783
    assert binary.labels == ["Regular Speech", "Hate Speech"]
    assert three.labels == ["hate", "offensive", "neither"]
    assert three.label_counts() == {"hate": 1430, "offensive": 19190, "neither": 4163}
    # the seed's binary mapping: hate or offensive -> Hate Speech (1), neither -> Regular Speech (0)
    assert np.array_equal(binary.y, (three.y != 2).astype(int))
    assert jigsaw.labels == TOXICITY_LABELS and jigsaw.problem_type == MULTI_LABEL
    assert len(jigsaw) == 14735 and jigsaw.label_counts()["toxic"] == 5185


def test_builtin_task_from_another_file_with_its_columns(tmp_path):
    """The full Kaggle train.csv (or any file with the task's columns) trains the same way."""
    path = tmp_path / "kaggle.csv"
    frame = pd.DataFrame({"id": ["1", "2"], "comment_text": ["x", "y"], **{lab: [1, 0] for lab in TOXICITY_LABELS}})
    frame.to_csv(path, index=False)
    ds = load_dataset("jigsaw", path)
    assert ds.labels == TOXICITY_LABELS and ds.y.shape == (2, 6) and ds.source == str(path)


def test_unknown_task_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown task 'nope'"):
        load_dataset("nope")


def test_empty_label_is_named_as_such(tmp_path):
    path = tmp_path / "gaps.parquet"
    write_table(pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", None, "y"]}), path)
    with pytest.raises(DataError, match=r"gaps\.parquet, row 2, column 'label': empty label"):
        load_dataset(str(path))
