"""The workflow's repository functions on SQLite and on a real PostgreSQL server: recording, the review queue
(ordering, pagination, claims, conflicting decisions, undo), statistics, feedback, keys, purge and forget."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nlp_classifier.errors import ConfigError
from nlp_classifier.workflow import keys, retention, reviews
from nlp_classifier.workflow.audit import audit_entries
from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.errors import ConflictError, NotFoundError
from nlp_classifier.workflow.feedback import add_feedback
from nlp_classifier.workflow.models import AuditEntry, Feedback, Item, Prediction, Review, utcnow
from nlp_classifier.workflow.records import PredictionRecord, record_predictions, text_hash
from nlp_classifier.workflow.stats import review_stats

LABELS = ["not_hateful", "hateful"]


def record(i: int, score: float = 0.5, queue: str | None = "band", **extra) -> PredictionRecord:
    label = "hateful" if score >= 0.5 else "not_hateful"
    values = {
        "text": f"text number {i}",
        "model": "m",
        "model_version": "1.0.0",
        "labels": LABELS,
        "scores": {"not_hateful": 1 - score, "hateful": score},
        "label": label,
        "flagged": ["hateful"] if label == "hateful" else [],
        "latency_ms": 1.5,
        "queue": queue,
        "score": score,
        "priority": 1 - abs(score - 0.5) * 2,
        **extra,
    }
    return PredictionRecord(**values)


def count(db: Database, table) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_recording_keeps_hashes_only_when_texts_are_not_stored(db):
    with db.session() as session:
        ids = record_predictions(session, [record(1, queue=None), record(2, queue=None)], store_text=False)
    assert len(ids) == 2
    with db.session() as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        assert [i.text for i in items] == [None, None]
        assert [i.text_hash for i in items] == [text_hash("text number 1"), text_hash("text number 2")]
        prediction = session.get(Prediction, ids[0])
        assert prediction is not None and prediction.scores["hateful"] == 0.5 and prediction.model_version == "1.0.0"
    assert count(db, Review) == 0


def test_asking_twice_for_a_review_of_one_external_id_queues_it_once(db):
    asked = record(1, 0.9, queue="requested", external_id="post-7", channel="forum")
    with db.session() as session:
        record_predictions(session, [asked, asked], store_text=True)
    with db.session() as session:
        record_predictions(session, [asked], store_text=True)
        other_channel = record(1, 0.9, queue="requested", external_id="post-7", channel="chat")
        record_predictions(session, [other_channel], store_text=True)
    assert (count(db, Item), count(db, Prediction), count(db, Review)) == (2, 4, 2)


def test_queue_lists_pending_first_by_uncertainty_and_pages_with_a_cursor(db):
    with db.session() as session:
        record_predictions(
            session, [record(i, score) for i, score in enumerate([0.4, 0.5, 0.6, 0.45])], store_text=True
        )
    with db.session() as session:
        first = reviews.list_reviews(session).reviews
        reviews.decide_review(session, first[0].id, "ann", "hateful")
    with db.session() as session:
        seen, cursor = [], None
        while True:
            page = reviews.list_reviews(session, limit=2, cursor=cursor)
            seen += [(r.state, r.score) for r in page.reviews]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == [("pending", 0.45), ("pending", 0.4), ("pending", 0.6), ("decided", 0.5)]
        by_age = reviews.list_reviews(session, state="pending", order="age").reviews
        assert [r.score for r in by_age] == [0.4, 0.6, 0.45]
        assert [r.score for r in reviews.list_reviews(session, label="hateful").reviews] == [0.6, 0.5]
        assert reviews.list_reviews(session, model="other").reviews == []
        with pytest.raises(ValueError, match="cursor"):
            reviews.list_reviews(session, cursor="not-a-cursor")


def test_a_page_of_reviews_with_their_scores_takes_a_fixed_number_of_queries(db):
    """The list endpoint answers each review with its prediction's scores: loading them must not cost one query
    per review."""
    from sqlalchemy import event

    with db.session() as session:
        record_predictions(session, [record(i, 0.3 + i / 100) for i in range(30)], store_text=True)
    statements: list[str] = []

    def count_statement(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_statement)
    try:
        with db.session() as session:
            page = reviews.list_reviews(session, limit=25)
            scores = [next(p.scores for p in r.item.predictions if p.id == r.prediction_id) for r in page.reviews]
    finally:
        event.remove(db.engine, "before_cursor_execute", count_statement)
    assert len(scores) == 25 and all("hateful" in s for s in scores)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects  # the reviews with their items, then the items' predictions


def test_claims_decisions_and_undo(db):
    with db.session() as session:
        record_predictions(session, [record(1), record(2)], store_text=True)
    with db.session() as session:
        one, two = (r.id for r in reviews.list_reviews(session, order="age").reviews)
        reviews.claim_review(session, one, "ann")
    with db.session() as session, pytest.raises(ConflictError, match="claimed by ann"):
        reviews.decide_review(session, one, "bob", "hateful")
    with db.session() as session, pytest.raises(reviews.LabelNotAllowed, match="'spam' is not one of"):
        reviews.decide_review(session, one, "ann", "spam")
    with db.session() as session, pytest.raises(NotFoundError):
        reviews.decide_review(session, 999_999, "ann", "hateful")
    with db.session() as session:
        reviews.decide_review(session, one, "ann", "hateful", "slur")
        reviews.decide_review(session, two, "ann", "not_hateful")
    with db.session() as session, pytest.raises(ConflictError, match="last one is review"):
        reviews.undo_decision(session, one, "ann")
    with db.session() as session, pytest.raises(ConflictError, match="no decision of bob"):
        reviews.undo_decision(session, two, "bob")
    with db.session() as session:
        undone = reviews.undo_decision(session, two, "ann")
        assert (undone.state, undone.decided_label, undone.reviewer) == ("pending", None, None)
        reviews.undo_decision(session, one, "ann")
    with db.session() as session:
        actions = [(e.actor, e.action, e.entity_id) for e in audit_entries(session, "review")]
        assert actions == [
            ("ann", "claim", str(one)),
            ("ann", "decide", str(one)),
            ("ann", "decide", str(two)),
            ("ann", "undo", str(two)),
            ("ann", "undo", str(one)),
        ]
        last = audit_entries(session, "review", one)[-1]
        assert last.before and last.before["decided_label"] == "hateful" and last.after["state"] == "pending"


def test_an_expired_claim_can_be_taken_over(db):
    with db.session() as session:
        record_predictions(session, [record(1)], store_text=True)
    with db.session() as session:
        review_id = reviews.list_reviews(session).reviews[0].id
        reviews.claim_review(session, review_id, "ann")
    with db.session() as session:
        taken = reviews.claim_review(session, review_id, "bob", claim_ttl=timedelta(0))
        assert taken.claimed_by == "bob"


def test_concurrent_reviewers_decide_each_item_exactly_once(db):
    with db.session() as session:
        record_predictions(session, [record(i, 0.4 + (i % 20) / 100) for i in range(40)], store_text=True)
    with db.session() as session:
        ids = [r.id for r in reviews.list_reviews(session, limit=100).reviews]
    wins: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def reviewer(name: str) -> None:
        mine = wins.setdefault(name, [])
        for review_id in ids:
            try:
                with db.session() as session:
                    reviews.decide_review(session, review_id, name, "hateful")
                mine.append(review_id)
            except ConflictError:
                pass
            except BaseException as exc:  # anything else is a failure of the test
                errors.append(exc)

    threads = [threading.Thread(target=reviewer, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    decided = sorted(i for won in wins.values() for i in won)
    assert decided == sorted(ids)
    with db.session() as session:
        assert session.scalar(select(func.count()).where(Review.state == "decided")) == len(ids)
        entries = audit_entries(session, "review")
        assert sorted(int(e.entity_id or 0) for e in entries) == sorted(ids)
        winners = {int(e.entity_id or 0): e.actor for e in entries}
        assert all(session.get(Review, i).reviewer == winners[i] for i in ids)


def test_stats_agreement_precision_and_overturned_labels(db):
    scores = [0.6, 0.55, 0.4, 0.45]
    with db.session() as session:
        record_predictions(session, [record(i, s) for i, s in enumerate(scores)], store_text=True)
    with db.session() as session:
        by_score = {r.score: r.id for r in reviews.list_reviews(session).reviews}
        reviews.decide_review(session, by_score[0.6], "ann", "hateful")  # agrees, flagged confirmed
        reviews.decide_review(session, by_score[0.55], "ann", "not_hateful")  # overturned flag
        reviews.decide_review(session, by_score[0.4], "ann", "not_hateful")  # agrees
    with db.session() as session:
        stats = review_stats(session)
    assert stats["queue"] == {"pending": 1, "claimed": 0, "decided": 3}
    overall = stats["overall"]
    assert (overall["reviewed"], overall["agreed"], overall["agreement"]) == (3, 2, 0.6667)
    assert (overall["flagged_reviewed"], overall["flagged_confirmed"], overall["flagged_precision"]) == (2, 1, 0.5)
    assert stats["by_model"] == [{"model": "m", "model_version": "1.0.0", **overall}]
    assert [d["reviewed"] for d in stats["by_day"]] == [3]
    assert stats["overturned"] == [
        {"model": "m", "predicted_label": "hateful", "decided_label": "not_hateful", "count": 1}
    ]


def test_keys_are_stored_hashed_with_a_role(db):
    with db.session() as session:
        key, row = keys.add_api_key(session, "reviewer", "alice")
    with db.session() as session:
        found = keys.find_api_key(session, key)
        assert found is not None and (found.name, found.role) == ("alice", "reviewer")
        assert found.key_hash != key and key not in str([e.after for e in audit_entries(session)])
        assert keys.find_api_key(session, key + "x") is None
    with db.session() as session, pytest.raises(ConflictError, match="already exists"):
        keys.add_api_key(session, "admin", "alice")
    with db.session() as session, pytest.raises(ConfigError, match="role must be one of"):
        keys.add_api_key(session, "owner", "bob")
    assert keys.role_allows("admin", "reviewer") and not keys.role_allows("client", "reviewer")
    with db.session() as session:
        keys.remove_api_key(session, "alice")
    with db.session() as session:
        assert keys.find_api_key(session, key) is None


def test_feedback_joins_the_recorded_item(db):
    with db.session() as session:
        record_predictions(session, [record(1, queue=None, external_id="c1")], store_text=True)
    with db.session() as session:
        joined = add_feedback(session, source="api", submitted_by="ann", external_id="c1", label="hateful")
        new = add_feedback(session, source="perspective", submitted_by="ann", text="fresh", scores={"TOXICITY": 0.9})
        stray = add_feedback(session, source="api", submitted_by="ann", external_id="unknown", label="hateful")
    with db.session() as session:
        item = session.scalar(select(Item).where(Item.external_id == "c1"))
        assert item is not None and joined.item_id == item.id
        fresh = session.get(Item, new.item_id)
        assert fresh is not None and fresh.text == "fresh"
        assert stray.item_id is None
        assert [e.action for e in audit_entries(session, "feedback")] == ["feedback"] * 3


def test_forget_removes_everything_about_one_external_id(db):
    with db.session() as session:
        record_predictions(
            session,
            [record(1, external_id="u1"), record(2, external_id="u1", channel="chat"), record(3, external_id="u2")],
            store_text=True,
        )
        add_feedback(session, source="api", submitted_by="ann", external_id="u1", label="hateful")
    with db.session() as session:
        counts = retention.forget_external_id(session, "u1", "admin")
    assert counts == {"items": 2, "predictions": 2, "reviews": 2, "feedback": 1}
    assert (count(db, Item), count(db, Prediction), count(db, Review), count(db, Feedback)) == (1, 1, 1, 0)
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "forget")).one()
        assert entry.entity_id == text_hash("u1") and "u1" not in str(entry.after)


def test_ids_of_deleted_rows_are_never_given_again(db):
    """A client or a reviewer's page may still hold the id of a review (or item, feedback, audit entry) that was
    forgotten; a later row must not answer to it. SQLite reuses the largest rowid once it is deleted unless the
    table is AUTOINCREMENT; PostgreSQL's sequences never reuse one."""
    with db.session() as session:
        record_predictions(session, [record(1, external_id="keep"), record(2, external_id="gone")], store_text=True)
        add_feedback(session, source="api", submitted_by="ann", external_id="gone", label="hateful")
    tables = (Item, Prediction, Review, Feedback)
    with db.session() as session:
        before = {t.__tablename__: session.scalar(select(func.max(t.id))) for t in tables}
        retention.forget_external_id(session, "gone", "admin")
        audit_before = session.scalar(select(func.max(AuditEntry.id)))
        session.execute(AuditEntry.__table__.delete().where(AuditEntry.id == audit_before))
    with db.session() as session:
        record_predictions(session, [record(3, external_id="new")], store_text=True)
        add_feedback(session, source="api", submitted_by="ann", external_id="new", label="hateful")
        keys.add_api_key(session, "reviewer", "dee")
    with db.session() as session:
        after = {t.__tablename__: session.scalar(select(func.max(t.id))) for t in tables}
        assert all(after[name] > before[name] for name in before), (before, after)
        assert session.scalar(select(func.max(AuditEntry.id))) > audit_before


def test_purge_removes_what_is_older_than_the_cutoff(db):
    old = utcnow() - timedelta(days=40)
    with db.session() as session:
        record_predictions(session, [record(1, created_at=old), record(2)], store_text=True)
        feedback = add_feedback(session, source="api", submitted_by="ann", external_id="gone", label="hateful")
        feedback.created_at = old
    with db.session() as session:
        counts = retention.purge_older_than(session, utcnow() - timedelta(days=30))
    assert counts == {"items": 1, "predictions": 1, "reviews": 1, "feedback": 1}
    with db.session() as session:
        assert session.scalars(select(Item.text)).all() == ["text number 2"]
