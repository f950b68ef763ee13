"""``nlpc feedback export`` on SQLite and on a real PostgreSQL server: decided reviews become a labelled file that
``--extra-data`` reads (latest decision per item, undone decisions left out, items without text skipped and
counted), filtered by time and model; mixed or multi-label label sets are refused with a message."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import update
from testkit.cli import run_cli

from nlp_classifier.data.datasets import Dataset
from nlp_classifier.data.extra import read_extra
from nlp_classifier.errors import ConfigError
from nlp_classifier.tasks import MULTI_LABEL, SINGLE_LABEL
from nlp_classifier.workflow import reviews
from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.export import check_label_sets
from nlp_classifier.workflow.models import Review, utcnow
from nlp_classifier.workflow.records import PredictionRecord, record_predictions

LABELS = ["not_hateful", "hateful"]


def queued(text: str, score: float, model: str = "m", labels: list[str] = LABELS, **extra) -> PredictionRecord:
    label = labels[1] if score >= 0.5 else labels[0]
    return PredictionRecord(
        text=text,
        model=model,
        model_version="1.2.0",
        labels=labels,
        scores={labels[0]: 1 - score, labels[1]: score},
        label=label,
        flagged=[label] if label == labels[1] else [],
        queue="requested",
        score=score,
        **extra,
    )


def review_ids(db: Database) -> dict[str, int]:
    """Review id by the item's external id."""
    with db.session() as session:
        return {r.item.external_id: r.id for r in reviews.list_reviews(session, limit=100).reviews}


def decide(db: Database, review_id: int, label: str, reviewer: str = "ana", note: str | None = None) -> None:
    with db.session() as session:
        reviews.claim_review(session, review_id, reviewer)
    with db.session() as session:
        reviews.decide_review(session, review_id, reviewer, label, note=note)


def export(db: Database, output, *options: str):
    return run_cli("feedback", "--database-url", db.url.render_as_string(hide_password=False), "export",
                   "--output", str(output), *options)  # fmt: skip


def test_export_writes_the_latest_decision_of_each_item_and_skips_items_without_text(db, tmp_path):
    with db.session() as session:
        record_predictions(
            session,
            [
                queued("you people are vermin", 0.30, external_id="a"),
                queued("lovely weather for a picnic", 0.70, external_id="b"),
                queued("nobody decides this one", 0.55, external_id="c"),
                queued("changed my mind about this one", 0.45, external_id="d"),
            ],
            store_text=True,
        )
        record_predictions(session, [queued("kept as a hash only", 0.6, external_id="h")], store_text=False)
    ids = review_ids(db)
    decide(db, ids["a"], "hateful", note="slur")
    decide(db, ids["h"], "not_hateful")
    decide(db, ids["d"], "hateful")
    with db.session() as session:  # d's first decision is undone and decided again the other way
        reviews.undo_decision(session, ids["d"], "ana")
    decide(db, ids["b"], "not_hateful", reviewer="ben")
    decide(db, ids["d"], "not_hateful")

    output = tmp_path / "reviewed.parquet"
    proc = export(db, output)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 3 reviewed items" in proc.stdout and "skipped 1 stored without text" in proc.stdout
    frame = pd.read_parquet(output)
    assert list(frame["external_id"]) == ["a", "b", "d"]  # oldest decision first; c is still pending
    assert list(frame["text"]) == [
        "you people are vermin",
        "lovely weather for a picnic",
        "changed my mind about this one",
    ]
    assert list(frame["label"]) == ["hateful", "not_hateful", "not_hateful"]
    assert list(frame["predicted_label"]) == ["not_hateful", "hateful", "not_hateful"]
    assert list(frame["reviewer"]) == ["ana", "ben", "ana"]
    assert list(frame["note"])[0] == "slur" and set(frame["model_version"]) == {"1.2.0"}
    assert not list(tmp_path.glob(".*")), "no temporary file is left beside the output"

    # the file is exactly what --extra-data reads: the task's labels, one row per reviewed item
    like = Dataset("hate", ["x", "y"], pd.Series([0, 1]).to_numpy(), LABELS, SINGLE_LABEL, "test")
    extra = read_extra(output, like)
    assert extra.texts == list(frame["text"]) and extra.y.tolist() == [1, 0, 0]


def test_export_filters_by_decision_time_and_model_and_refuses_mixed_label_sets(db, tmp_path):
    other = ["clean", "toxic"]
    with db.session() as session:
        record_predictions(
            session,
            [
                queued("an old decision", 0.4, external_id="old"),
                queued("a new decision", 0.6, external_id="new"),
                queued("another model's item", 0.6, model="other", labels=other, external_id="o"),
            ],
            store_text=True,
        )
    ids = review_ids(db)
    decide(db, ids["old"], "hateful")
    decide(db, ids["new"], "not_hateful")
    decide(db, ids["o"], "clean")
    with db.session() as session:
        session.execute(update(Review).where(Review.id == ids["old"]).values(decided_at=utcnow() - timedelta(days=10)))

    proc = export(db, tmp_path / "all.csv")
    assert proc.returncode == 2 and not (tmp_path / "all.csv").exists()
    assert "different label sets (m: not_hateful, hateful; other: clean, toxic)" in proc.stderr
    assert "--model NAME" in proc.stderr

    since = (utcnow() - timedelta(days=3)).date().isoformat()
    proc = export(db, tmp_path / "recent.jsonl", "--model", "m", "--since", since, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["rows_written"], summary["skipped_without_text"]) == (1, 0)
    assert summary["models"] == ["m"] and summary["labels"] == LABELS
    rows = [json.loads(line) for line in (tmp_path / "recent.jsonl").read_text().splitlines()]
    assert [(r["text"], r["label"], r["model"]) for r in rows] == [("a new decision", "not_hateful", "m")]

    proc = export(db, tmp_path / "other.csv", "--model", "other")
    assert proc.returncode == 0
    assert pd.read_csv(tmp_path / "other.csv")[["text", "label"]].values.tolist() == [["another model's item", "clean"]]


def test_export_errors_name_the_problem(db, tmp_path):
    proc = export(db, tmp_path / "reviewed.xlsx")
    assert proc.returncode == 2 and "unsupported file type" in proc.stderr and "reviewed.xlsx" in proc.stderr
    proc = export(db, tmp_path / "r.csv", "--since", "last tuesday")
    assert proc.returncode == 2 and "--since: expected a date such as 2026-11-30" in proc.stderr
    proc = export(db, tmp_path / "r.csv", "--model", "nobody")
    assert proc.returncode == 2 and "no reviewed items with text to export (of model nobody)" in proc.stderr
    assert not (tmp_path / "r.csv").exists()


def test_multi_label_models_are_refused_since_the_queue_keeps_one_label_per_item():
    kinds = {"toxicity_lr": MULTI_LABEL, "hate_lr": SINGLE_LABEL}
    labels = {"toxicity_lr": ["toxic", "obscene"], "hate_lr": LABELS}
    with pytest.raises(ConfigError, match="toxicity_lr is multi-label: the review queue keeps one decided label"):
        check_label_sets(labels, kinds.get)
    assert check_label_sets({"hate_lr": LABELS, "gone": LABELS}, kinds.get) == LABELS  # a model not in the registry
    assert check_label_sets({}, kinds.get) is None
