"""The identity-bias audit: its metrics against a case computed by hand, the shipped terms and templates, the
choice of the scored label per model family, bad files, and ``nlpc audit`` end to end on small real models
(JSON parsed and checked against the metrics recomputed from the model's own scores, the chart a valid PNG)."""

from __future__ import annotations

import json
import math
import struct
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from testkit.cli import run_cli

from nlp_classifier.audit import (
    KINDS,
    auc,
    audit_scored,
    bnsp_auc,
    bpsn_auc,
    build_cases,
    default_templates_path,
    default_terms_path,
    false_positive_rate,
    final_bias_score,
    load_templates,
    load_terms,
    power_mean,
    scored_label,
    subgroup_auc,
)
from nlp_classifier.audit.run import IDENTITY_COLUMNS, identity_rows
from nlp_classifier.errors import ConfigError, DataError
from nlp_classifier.tasks import BINARY_LABELS, DAVIDSON3_LABELS, HATE_LABELS, TOXICITY_LABELS, harmless_labels

REQUIRED_CATEGORIES = {
    "race",
    "ethnicity",
    "religion",
    "nationality",
    "gender",
    "sexual_orientation",
    "disability",
    "age",
}

# A tiny table, computed on paper. Two identities, four sentences each: (identity, label, score, flagged).
#   A: harmless 0.1, 0.6 | harmful 0.4, 0.9
#   B: harmless 0.2, 0.5 | harmful 0.7, 0.8
TABLE = [
    ("A", 0, 0.1, False),
    ("A", 0, 0.6, True),
    ("A", 1, 0.4, False),
    ("A", 1, 0.9, True),
    ("B", 0, 0.2, False),
    ("B", 0, 0.5, False),
    ("B", 1, 0.7, True),
    ("B", 1, 0.8, True),
]
# AUC = share of (harmful, harmless) pairs where the harmful one scores higher:
#   subgroup A: harmful {0.4, 0.9} vs harmless {0.1, 0.6}: 0.4>0.1, 0.9>0.1, 0.9>0.6 -> 3/4
#   subgroup B: {0.7, 0.8} vs {0.2, 0.5}: all four -> 1
#   BPSN A: background harmful {0.7, 0.8} vs A harmless {0.1, 0.6}: all four -> 1
#   BPSN B: background harmful {0.4, 0.9} vs B harmless {0.2, 0.5}: 0.4>0.2, 0.9>0.2, 0.9>0.5 -> 3/4
#   BNSP A: A harmful {0.4, 0.9} vs background harmless {0.2, 0.5}: 3/4
#   BNSP B: B harmful {0.7, 0.8} vs background harmless {0.1, 0.6}: 1
#   overall: harmful {0.4, 0.9, 0.7, 0.8} vs harmless {0.1, 0.6, 0.2, 0.5}: 2 + 4 + 4 + 4 = 14 of 16
# Each metric's power mean (p = -5) over {3/4, 1}: ((4/3) ** 5 + 1) / 2 = (1024/243 + 1) / 2, to the power -1/5.
HAND_POWER_MEAN = ((1024 / 243 + 1) / 2) ** (-1 / 5)  # 0.825604...
HAND_FINAL = 0.25 * 14 / 16 + 3 * 0.25 * HAND_POWER_MEAN  # 0.837953...


def _table():
    ids = np.array([r[0] for r in TABLE])
    y = np.array([r[1] for r in TABLE])
    s = np.array([r[2] for r in TABLE])
    f = np.array([r[3] for r in TABLE])
    return ids, y, s, f


def test_metrics_match_the_hand_computed_case():
    ids, y, s, f = _table()
    a, b = ids == "A", ids == "B"
    assert subgroup_auc(y, s, a) == pytest.approx(0.75)
    assert subgroup_auc(y, s, b) == pytest.approx(1.0)
    assert bpsn_auc(y, s, a) == pytest.approx(1.0)
    assert bpsn_auc(y, s, b) == pytest.approx(0.75)
    assert bnsp_auc(y, s, a) == pytest.approx(0.75)
    assert bnsp_auc(y, s, b) == pytest.approx(1.0)
    assert auc(y, s) == pytest.approx(14 / 16)
    assert false_positive_rate(y[a], f[a]) == pytest.approx(0.5)  # A's harmless 0.6 flagged
    assert false_positive_rate(y[b], f[b]) == pytest.approx(0.0)
    assert HAND_POWER_MEAN == pytest.approx(0.825604, abs=1e-6)
    assert power_mean([0.75, 1.0]) == pytest.approx(HAND_POWER_MEAN)
    assert final_bias_score(14 / 16, [0.75, 1.0], [1.0, 0.75], [0.75, 1.0]) == pytest.approx(HAND_FINAL)
    assert HAND_FINAL == pytest.approx(0.837953, abs=1e-6)


def test_audit_of_scored_cases_matches_the_hand_computed_case():
    ids, y, s, f = _table()
    kinds = ["neutral", "positive", "hateful", "hateful"] * 2
    frame = pd.DataFrame(
        {
            "identity": ids,
            "category": ["x", "x", "x", "x", "y", "y", "y", "y"],
            "kind": kinds,
            "label": y,
            "template_id": kinds,
        }
    )
    result = audit_scored(frame.assign(score=s, flagged=f), model="m", label="hateful")
    assert [r.identity for r in result.identities] == ["A", "B"]  # both worst AUCs are 0.75, neutral FPRs 0: file order
    a = result.identity("A")
    assert (a.subgroup_auc, a.bpsn_auc, a.bnsp_auc) == pytest.approx((0.75, 1.0, 0.75))
    assert (a.fpr_neutral, a.fpr_positive, a.fpr, a.false_negative_rate) == pytest.approx((0.0, 1.0, 0.5, 0.5))
    assert a.fpr_neutral_interval == pytest.approx([0.0, 0.7934], abs=1e-4)  # 0 of 1 neutral sentence, Wilson 95%
    # the table row the CLI and the HTML report print, interval beside the rate
    assert identity_rows(result)[0] == ["A", "x", 0.75, 1.0, 0.75, 0.0, "0.00-0.79", 1.0, 0.5]
    assert len(IDENTITY_COLUMNS) == 9 and IDENTITY_COLUMNS[5:7] == ["FPR neutral", "95% interval"]
    b = result.identity("B")
    assert (b.subgroup_auc, b.bpsn_auc, b.bnsp_auc) == pytest.approx((1.0, 0.75, 1.0))
    assert result.overall_auc == pytest.approx(14 / 16)
    assert result.power_mean_bpsn_auc == pytest.approx(HAND_POWER_MEAN)
    assert result.final_bias_score == pytest.approx(HAND_FINAL)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["final_bias_score"] == pytest.approx(HAND_FINAL)
    assert payload["identities"][0]["worst_auc"] == pytest.approx(0.75)


def test_metric_edge_cases():
    assert math.isnan(auc([1, 1], [0.2, 0.3]))  # one class only: undefined
    assert math.isnan(subgroup_auc([0, 1, 1], [0.1, 0.2, 0.3], [False, True, True]))
    assert power_mean([0.0, 1.0]) == 0.0  # p < 0: a zero pulls the mean to its limit, 0
    assert power_mean([0.5, float("nan")]) == pytest.approx(0.5)  # undefined values are left out
    assert math.isnan(power_mean([float("nan")]))
    assert power_mean([0.9, 0.9, 0.9]) == pytest.approx(0.9)
    # p = -5 sits near the minimum: one bad identity of ten drags the mean well below the arithmetic one
    assert power_mean([0.3] + [1.0] * 9) < 0.5 < np.mean([0.3] + [1.0] * 9)
    assert auc([0, 0, 1, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)  # ties count one half
    with pytest.raises(ValueError):
        auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError):
        bpsn_auc([0, 1], [0.1, 0.2], [True])


def test_shipped_terms_and_templates():
    terms = load_terms()
    templates = load_templates()
    assert len(terms) >= 40
    assert REQUIRED_CATEGORIES <= {t.category for t in terms}
    for category in REQUIRED_CATEGORIES:
        assert sum(t.category == category for t in terms) >= 4, category
    by_kind = {k: [t for t in templates if t.kind == k] for k in KINDS}
    assert all(len(v) >= 10 for v in by_kind.values()), {k: len(v) for k, v in by_kind.items()}
    cases = build_cases(terms, templates)
    assert len(cases) == len(terms) * len(templates)
    assert cases["text"].is_unique
    for term in terms:
        texts = cases.loc[cases["identity"] == term.term, "text"]
        assert len(texts) >= 36  # dozens of sentences per identity
        assert all(term.term in t or term.term[:1].upper() + term.term[1:] in t for t in texts)
    assert not cases["text"].str.contains(r"[{}]").any()  # every placeholder filled
    assert cases["text"].str[0].str.isupper().all()
    assert set(cases.loc[cases["kind"] == "hateful", "label"]) == {1}
    assert set(cases.loc[cases["kind"] != "hateful", "label"]) == {0}
    articles = {t.term: t.article for t in terms}
    assert articles["Asian"] == "an" and articles["Muslim"] == "a" and articles["Ukrainian"] == "a"
    assert "I am an Asian person." in set(cases["text"])


def _model(labels, task=None, problem_type="single_label"):
    return SimpleNamespace(
        name="m", labels=list(labels), problem_type=problem_type, harmless_labels=harmless_labels(labels, task)
    )


def test_scored_label_per_model_family():
    assert scored_label(_model(HATE_LABELS, "hate")) == "hateful"
    assert scored_label(_model(BINARY_LABELS, "davidson")) == "Hate Speech"
    assert scored_label(_model(DAVIDSON3_LABELS, "davidson3")) == "hate"  # not 'offensive'
    assert scored_label(_model(TOXICITY_LABELS, "jigsaw", "multi_label")) == "identity_hate"
    assert scored_label(_model(TOXICITY_LABELS, "jigsaw", "multi_label"), "toxic") == "toxic"
    assert scored_label(_model(["ok", "spam"])) == "spam"
    with pytest.raises(ConfigError, match="--label"):
        scored_label(_model(["neutral", "spam", "scam"]))
    with pytest.raises(ConfigError, match="harmless"):
        scored_label(_model(HATE_LABELS, "hate"), "not_hateful")
    with pytest.raises(ConfigError, match="unknown label"):
        scored_label(_model(HATE_LABELS, "hate"), "toxic")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("categories: [a, b]\n", "mapping 'categories:'"),
        ("categories:\n  religion: []\n", "category 'religion': expected a non-empty list"),
        ("categories:\n  Religion: [Muslim]\n", "category 'Religion'"),
        ("categories:\n  religion: [Muslim, '']\n", "category 'religion', entry 2: a term must be a non-empty"),
        ("categories:\n  religion: [Muslim]\n  race: [muslim]\n", "entry 1: term 'muslim' is already listed"),
        ("categories:\n  religion: [{term: Hindu, article: the}]\n", "article of 'Hindu' must be"),
        ("categories:\n  religion: [{term: Hindu, plural: Hindus}]\n", "unknown key(s) plural"),
        ("categories:\n  religion: ['{x}']\n", "contains a brace"),
        ("categories: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_terms_file_names_file_and_entry(tmp_path, text, message):
    path = tmp_path / "terms.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_terms(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


GOOD_TEMPLATES = "\n".join(
    [
        "neutral: ['I am {identity}.']",
        "positive: ['{identity} people are great.']",
        "hateful: ['I hate {identity} people.']",
    ]
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD_TEMPLATES.replace("positive", "nice"), "unknown template kind(s) nice"),
        (GOOD_TEMPLATES.replace("['I hate {identity} people.']", "[]"), "'hateful': expected a non-empty list"),
        (GOOD_TEMPLATES.replace("I am {identity}.", "I am here."), "'neutral' template 1 ('I am here.'): has no"),
        (GOOD_TEMPLATES.replace("{identity} people are", "{group} people are"), "unknown placeholder(s) {group}"),
        (GOOD_TEMPLATES.replace("I hate {identity}", "I hate {identity"), "'hateful' template 1"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_bad_templates_file_names_file_and_entry(tmp_path, text, message):
    path = tmp_path / "templates.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_templates(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_terms(tmp_path / "nope.yaml")
    assert default_terms_path().is_file() and default_templates_path().is_file()


def _is_png(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR" and data[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


def test_cli_audit_end_to_end_on_a_small_hate_model(hate_models_dir, tmp_path):
    import nlp_classifier

    out, chart = tmp_path / "audit.json", tmp_path / "charts" / "audit.png"
    proc = run_cli(
        "audit",
        "--model",
        "logistic_regression_hate_char",
        "--json",
        "--output",
        str(out),
        "--chart",
        str(chart),
        models_dir=hate_models_dir,
        check=True,
    )
    report = json.loads(proc.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == report
    terms, templates = load_terms(), load_templates()
    assert report["label"] == "hateful"
    assert report["n_cases"] == len(terms) * len(templates)
    assert report["n_templates"] == {k: sum(t.kind == k for t in templates) for k in KINDS}
    rows = report["identities"]
    assert sorted(r["identity"] for r in rows) == sorted(t.term for t in terms)
    worst = [r["worst_auc"] for r in rows]
    assert worst == sorted(worst)  # worst identities first
    # recompute everything from the model's own scores and decisions
    clf = nlp_classifier.load("logistic_regression_hate_char", models_dir=hate_models_dir)
    cases = build_cases(terms, templates)
    proba = clf.predict_proba(cases["text"].tolist())[:, clf.labels.index("hateful")]
    flagged = np.array(["hateful" in p.flagged for p in clf.predict(cases["text"].tolist())])
    y = cases["label"].to_numpy()
    assert report["overall_auc"] == pytest.approx(auc(y, proba))
    for row in rows[:5] + rows[-5:]:
        g = (cases["identity"] == row["identity"]).to_numpy()
        assert row["subgroup_auc"] == pytest.approx(subgroup_auc(y, proba, g))
        assert row["bpsn_auc"] == pytest.approx(bpsn_auc(y, proba, g))
        assert row["bnsp_auc"] == pytest.approx(bnsp_auc(y, proba, g))
        neutral = g & (cases["kind"] == "neutral").to_numpy()
        assert row["fpr_neutral"] == pytest.approx(flagged[neutral].mean())
        assert row["n"] == len(templates)
    expected = final_bias_score(
        auc(y, proba),
        [r["subgroup_auc"] for r in rows],
        [r["bpsn_auc"] for r in rows],
        [r["bnsp_auc"] for r in rows],
    )
    assert report["final_bias_score"] == pytest.approx(expected)
    assert 0.0 <= report["final_bias_score"] <= 1.0
    width, height = _is_png(chart)
    assert width > 500 and height > 500


def test_cli_audit_table_and_multi_label_model(baseline_models_dir, tmp_path):
    proc = run_cli("audit", "--model", "logistic_regression_jigsaw", models_dir=baseline_models_dir, check=True)
    assert "identity-bias audit of logistic_regression_jigsaw (score: identity_hate" in proc.stdout
    assert "final bias score" in proc.stdout and "BPSN AUC" in proc.stdout
    report = json.loads(
        run_cli(
            "audit", "--model", "logistic_regression_jigsaw", "--label", "toxic", "--json",
            models_dir=baseline_models_dir, check=True,
        ).stdout
    )  # fmt: skip
    assert report["label"] == "toxic"
    assert all(r["fpr_neutral"] is not None for r in report["identities"])


def test_cli_audit_bad_files_fail_before_the_model_loads(tmp_path):
    terms = tmp_path / "terms.yaml"
    terms.write_text("categories:\n  religion: [Muslim, Muslim]\n", encoding="utf-8")
    proc = run_cli("audit", "--model", "no_such_model", "--terms", str(terms), models_dir=tmp_path)
    assert proc.returncode == 2
    assert str(terms) in proc.stderr and "entry 2: term 'Muslim' is already listed" in proc.stderr
    templates = tmp_path / "templates.yaml"
    templates.write_text(GOOD_TEMPLATES.replace("{identity} people are great", "{who} are great"), encoding="utf-8")
    proc = run_cli("audit", "--model", "no_such_model", "--templates", str(templates), models_dir=tmp_path)
    assert proc.returncode == 2
    assert "'positive' template 1" in proc.stderr and "{who}" in proc.stderr
    proc = run_cli("audit", "--model", "no_such_model", "--chart", str(tmp_path / "c.svg"), models_dir=tmp_path)
    assert proc.returncode == 2 and "PNG" in proc.stderr


def test_cli_audit_needs_two_terms(tmp_path):
    terms = tmp_path / "terms.yaml"
    terms.write_text("categories:\n  religion: [Muslim]\n", encoding="utf-8")
    proc = run_cli("audit", "--model", "no_such_model", "--terms", str(terms), models_dir=tmp_path)
    assert proc.returncode == 2 and "at least two identity terms" in proc.stderr
