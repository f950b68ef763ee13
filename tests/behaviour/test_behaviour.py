"""The behavioural test suite: the shipped cases file (size, coverage, validity, no overlap with the ``hate``
task's training rows, reproducible from its templates), the label mapping for every model family, and
``nlpc check`` through the real CLI on a tiny model with known passing and failing cases."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest
from testkit.cli import run_cli

from nlp_classifier.behaviour import (
    EXPECTED_VALUES,
    FPR_FUNCTIONALITIES,
    default_cases_path,
    hateful_decision,
    load_cases,
)
from nlp_classifier.behaviour.generate import generate
from nlp_classifier.classifier import Prediction
from nlp_classifier.errors import ConfigError, DataError
from nlp_classifier.identity_terms import GROUPS
from nlp_classifier.metrics import wilson_interval
from nlp_classifier.tasks import (
    BINARY_LABELS,
    DAVIDSON3_LABELS,
    HATE_LABELS,
    MULTI_LABEL,
    SINGLE_LABEL,
    TOXICITY_LABELS,
)

REQUIRED_FUNCTIONALITIES = {
    "negated_hate",
    "counter_speech_quote",
    "counter_speech_direct",
    "neutral_identity_statement",
    "positive_identity_statement",
    "profanity_not_at_group",
    "insult_at_individual",
    "threat_against_group",
    "dehumanisation",
    "implicit_derogation",
    "derogation_explicit",
    "slur",
    "reclaimed_self_reference",
    "spelling_leetspeak",
    "spelling_spacing",
    "spelling_letters",
    "emoji_group_reference",
    "emoji_threat_or_insult",
    "call_for_exclusion",
    "hate_as_question",
    "hate_as_opinion",
    "other_sense_of_group_word",
}


@pytest.fixture(scope="module")
def shipped():
    return load_cases()


def test_shipped_cases_cover_the_suite(shipped):
    frame = shipped.frame
    assert len(frame) >= 2000
    assert frame["functionality"].nunique() >= 20
    assert REQUIRED_FUNCTIONALITIES <= set(frame["functionality"])
    groups = set(frame["target_group"]) - {""}
    assert len(groups) >= 12 and groups <= {g.key for g in GROUPS}
    assert set(frame["expected"]) == set(EXPECTED_VALUES)
    assert not frame["text"].duplicated().any() and not frame["case_id"].duplicated().any()
    assert (frame["text"].str.strip() != "").all()
    for name in FPR_FUNCTIONALITIES:  # the false-positive table has every group
        part = frame[frame["functionality"] == name]
        assert (part["expected"] == "not_hateful").all() and set(part["target_group"]) == {g.key for g in GROUPS}


def test_shipped_cases_match_their_templates(tmp_path):
    """The committed CSV is exactly what the generator makes from the templates (deterministic)."""
    out = tmp_path / "cases.csv"
    generate(output=out)
    assert out.read_bytes() == default_cases_path().read_bytes()


def test_no_case_is_in_the_hate_training_split(shipped):
    from nlp_classifier.data.hate import build_hate_frame, dedup_key

    frame = build_hate_frame()
    train_keys = set(frame.loc[frame["part"] == 0, "key"])
    keys = [dedup_key(t) for t in shipped.frame["text"]]
    assert len(set(keys)) == len(keys), "two cases are near-duplicates of each other"
    colliding = [t for t, k in zip(shipped.frame["text"], keys) if k in train_keys]
    assert colliding == []


def fake(labels, problem_type=SINGLE_LABEL, thresholds=None):
    return SimpleNamespace(
        name="fake",
        labels=list(labels),
        problem_type=problem_type,
        thresholds=thresholds or {lab: 0.5 for lab in labels},
    )


def pred(label, scores=None, flagged=None):
    return Prediction(label, 0.9, scores or {}, flagged if flagged is not None else ([label] if label else []))


def test_hateful_decision_for_every_label_set():
    assert hateful_decision(fake(HATE_LABELS))(pred("hateful"))
    assert not hateful_decision(fake(HATE_LABELS))(pred("not_hateful", flagged=[]))
    assert hateful_decision(fake(BINARY_LABELS))(pred("Hate Speech"))
    assert not hateful_decision(fake(BINARY_LABELS))(pred("Regular Speech"))
    davidson3 = hateful_decision(fake(DAVIDSON3_LABELS))
    assert davidson3(pred("hate")) and not davidson3(pred("offensive")) and not davidson3(pred("neither"))
    jigsaw = hateful_decision(
        fake(TOXICITY_LABELS, MULTI_LABEL, {**{lab: 0.5 for lab in TOXICITY_LABELS}, "identity_hate": 0.3})
    )
    low = {lab: 0.1 for lab in TOXICITY_LABELS}
    assert jigsaw(pred("identity_hate", {**low, "identity_hate": 0.6}, ["identity_hate"]))
    assert jigsaw(pred(None, {**low, "identity_hate": 0.35}, []))  # at or over the card's threshold
    assert not jigsaw(pred("toxic", {**low, "toxic": 0.9}, ["toxic", "insult"]))
    with pytest.raises(ConfigError, match="labels ok, abuse"):
        hateful_decision(fake(["ok", "abuse"]))
    with pytest.raises(ConfigError, match="identity_hate"):
        hateful_decision(fake(["toxic", "insult"], MULTI_LABEL))


# ------------------------------------------------------------------------------------------ nlpc check (CLI)
HATEFUL_WORDS = ["vermin", "filth", "scum", "parasites", "plague", "subhuman"]
KIND_WORDS = ["sunshine", "picnic", "garden", "teacup", "meadow", "violin"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A TF-IDF model with labels not_hateful / hateful trained on two disjoint vocabularies."""
    from nlp_classifier.training.baselines import train_baseline

    folder = tmp_path_factory.mktemp("behaviour")
    rows = []
    for i in range(60):
        rows.append({"body": f"{HATEFUL_WORDS[i % 6]} {HATEFUL_WORDS[(i + 1) % 6]} item{i}", "y": "hateful"})
        rows.append({"body": f"{KIND_WORDS[i % 6]} {KIND_WORDS[(i + 2) % 6]} item{i}", "y": "not_hateful"})
    data = folder / "tiny.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    models = folder / "models"
    card = train_baseline(
        task=str(data),
        algorithm="logistic_regression",
        preset="seed",
        models_dir=models,
        text_column="body",
        label_columns=["y"],
        labels=HATE_LABELS,
        name="tiny_hate",
    )
    assert card.labels == HATE_LABELS
    return models


CASES = pd.DataFrame(
    [
        {
            "case_id": "a",
            "functionality": "derogation",
            "text": "vermin filth scum",
            "expected": "hateful",
            "target_group": "muslim",
        },  # passes
        {
            "case_id": "b",
            "functionality": "derogation",
            "text": "sunshine picnic garden",
            "expected": "hateful",
            "target_group": "muslim",
        },  # fails
        {
            "case_id": "c",
            "functionality": "neutral_identity_statement",
            "text": "meadow violin teacup",
            "expected": "not_hateful",
            "target_group": "gay",
        },  # passes
        {
            "case_id": "d",
            "functionality": "positive_identity_statement",
            "text": "plague parasites subhuman",
            "expected": "not_hateful",
            "target_group": "gay",
        },  # fails: a false positive
        {
            "case_id": "e",
            "functionality": "positive_identity_statement",
            "text": "garden meadow sunshine",
            "expected": "not_hateful",
            "target_group": "jewish",
        },  # passes
    ]
)


def test_check_reports_exact_pass_counts(tmp_path, tiny_model):
    cases = tmp_path / "cases.csv"
    CASES.to_csv(cases, index=False)
    out = tmp_path / "report.json"
    proc = run_cli(
        "check",
        "--model",
        "tiny_hate",
        "--cases",
        str(cases),
        "--json",
        "--output",
        str(out),
        models_dir=tiny_model,
        check=True,
    )
    report = json.loads(proc.stdout)
    assert report == json.loads(out.read_text())
    assert report["model"] == "tiny_hate" and report["cases"] == str(cases)
    assert report["overall"] == {"n": 5, "passed": 3, "pass_rate": 0.6, "interval_95": wilson_interval(3, 5)}
    assert report["by_expected"] == {
        "not_hateful": {"n": 3, "passed": 2, "pass_rate": 2 / 3, "interval_95": wilson_interval(2, 3)},
        "hateful": {"n": 2, "passed": 1, "pass_rate": 0.5, "interval_95": wilson_interval(1, 2)},
    }
    assert report["functionalities"] == [
        {
            "functionality": "derogation",
            "expected": "hateful",
            "n": 2,
            "passed": 1,
            "pass_rate": 0.5,
            "interval_95": wilson_interval(1, 2),
        },
        {
            "functionality": "neutral_identity_statement",
            "expected": "not_hateful",
            "n": 1,
            "passed": 1,
            "pass_rate": 1.0,
            "interval_95": wilson_interval(1, 1),
        },
        {
            "functionality": "positive_identity_statement",
            "expected": "not_hateful",
            "n": 2,
            "passed": 1,
            "pass_rate": 0.5,
            "interval_95": wilson_interval(1, 2),
        },
    ]
    assert report["group_false_positive_rates"] == {
        "functionalities": list(FPR_FUNCTIONALITIES),
        "groups": [
            {
                "group": "gay",
                "n": 2,
                "false_positives": 1,
                "false_positive_rate": 0.5,
                "interval_95": wilson_interval(1, 2),
            },
            {
                "group": "jewish",
                "n": 1,
                "false_positives": 0,
                "false_positive_rate": 0.0,
                "interval_95": wilson_interval(0, 1),
            },
        ],
    }
    assert [(f["case_id"], f["predicted"]) for f in report["failures"]] == [("b", "not_hateful"), ("d", "hateful")]
    assert {f["model_label"] for f in report["failures"]} == {"not_hateful", "hateful"}

    table = run_cli(
        "check",
        "--model",
        "tiny_hate",
        "--cases",
        str(cases),
        "--show-failures",
        "1",
        models_dir=tiny_model,
        check=True,
    ).stdout
    assert "overall" in table and "0.6000" in table and "gay" in table and "positive_identity_statement" in table
    assert "95% interval" in table and "0.23-0.88" in table  # Wilson interval of 3 of 5, by hand
    assert "failed cases (1 of 2)" in table


def test_user_cases_file_without_optional_columns(tmp_path, tiny_model):
    cases = tmp_path / "mine.jsonl"
    CASES.drop(columns=["case_id", "target_group"]).to_json(cases, orient="records", lines=True)
    report = json.loads(
        run_cli(
            "check", "--model", "tiny_hate", "--cases", str(cases), "--json", models_dir=tiny_model, check=True
        ).stdout
    )
    assert report["overall"]["passed"] == 3
    assert report["group_false_positive_rates"]["groups"] == []
    assert [f["case_id"] for f in report["failures"]] == ["2", "4"]  # row numbers stand in for case ids


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns=["expected"]), "column 'expected': missing column 'expected'"),
        (
            lambda f: f.assign(expected=["hateful", "hateful", "maybe", "not_hateful", "hateful"]),
            "row 3, column 'expected': unknown expected label 'maybe'",
        ),
        (lambda f: f.assign(text=["a", "b", "c", " ", "e"]), "row 4, column 'text': empty text"),
    ],
)
def test_bad_cases_file_names_file_row_and_column(tmp_path, tiny_model, change, message):
    cases = tmp_path / "bad.csv"
    change(CASES.copy()).to_csv(cases, index=False)
    proc = run_cli("check", "--model", "tiny_hate", "--cases", str(cases), models_dir=tiny_model)
    assert proc.returncode == 2
    err = " ".join((proc.stderr + proc.stdout).split())
    assert str(cases) in err and message in err
    with pytest.raises(DataError, match="column 'expected'|column 'text'"):
        load_cases(cases)


def test_check_errors_on_a_missing_file_and_an_unknown_model(tmp_path, tiny_model):
    missing = run_cli("check", "--model", "tiny_hate", "--cases", str(tmp_path / "nope.csv"), models_dir=tiny_model)
    assert missing.returncode == 2 and "file not found" in missing.stderr + missing.stdout
    unknown = run_cli("check", "--model", "nope", models_dir=tiny_model)
    assert unknown.returncode == 2 and "no model named 'nope'" in unknown.stderr + unknown.stdout
