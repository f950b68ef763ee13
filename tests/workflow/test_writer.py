"""The background record writer on SQLite and PostgreSQL: batches written, a bad record costs only itself, texts
with NUL characters stored, an unreachable database counted as lost with one log line and no text."""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import func, select

from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.models import Item, Prediction
from nlp_classifier.workflow.records import PredictionRecord, text_hash
from nlp_classifier.workflow.writer import RecordWriter


def record(text: str, **extra) -> PredictionRecord:
    values = {"model": "m", "model_version": "1", "labels": ["a", "b"], "label": "a", "flagged": []}
    values["scores"] = {"a": 0.7, "b": 0.3}
    return PredictionRecord(text=text, **{**values, **extra})


def run_writer(database: Database, records: list[PredictionRecord]) -> tuple[int, Counter]:
    written, lost = [0], Counter()
    writer = RecordWriter(
        database,
        store_text=True,
        on_written=lambda n: written.__setitem__(0, written[0] + n),
        on_lost=lambda n, reason: lost.update({reason: n}),
        max_wait_s=0.01,
    )
    writer.start()
    writer.submit(records)
    assert writer.flush(30)
    writer.close()
    return written[0], lost


def test_a_bad_record_costs_only_itself_and_nul_characters_and_lone_surrogates_are_stored(database_url):
    """NUL characters (PostgreSQL refuses them in text) and lone surrogates (JSON's "\\ud800", which no UTF-8
    database can hold) are texts a client may send on purpose: were such a prediction not recorded, a flagged
    text could keep itself out of the review queue and the log."""
    database = Database(database_url)
    database.upgrade()
    bad = record("not json", scores={"a": object()})
    surrogates = record("lone \ud800 surrogate", external_id="id-\udcff", channel="c\udfff", queue="requested")
    written, lost = run_writer(database, [record("first"), bad, record("nul \x00 inside"), surrogates])
    assert (written, dict(lost)) == (3, {"write_error": 1})
    with database.session() as session:
        texts = session.scalars(select(Item.text).order_by(Item.id)).all()
        assert texts == ["first", "nul \ufffd inside", "lone \ufffd surrogate"]
        item = session.scalars(select(Item).where(Item.text == "lone \ufffd surrogate")).one()
        assert (item.external_id, item.channel) == ("id-\ufffd", "c\ufffd")
        assert session.scalar(select(func.count()).select_from(Prediction)) == 3
        assert session.scalars(select(Item.text_hash).order_by(Item.id)).first() == text_hash("first")
    database.dispose()


def test_an_unreachable_database_is_counted_and_logged_once(caplog):
    caplog.set_level(logging.INFO)
    database = Database("postgresql+psycopg://nlpc@127.0.0.1:1/nlpc")
    written, lost = run_writer(database, [record("secret text one"), record("secret text two")])
    assert (written, dict(lost)) == (0, {"database_unavailable": 2})
    lines = [r.getMessage() for r in caplog.records if "recording predictions failed" in r.getMessage()]
    assert len(lines) == 1 and "127.0.0.1:1" in lines[0] and "secret" not in lines[0]
