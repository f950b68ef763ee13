"""``nlpc db`` in a child process, on SQLite and on a real PostgreSQL server: migrations up, status and down;
a key printed once and stored hashed; purge and forget with their counts; bad input as one clear line, exit 2,
nothing written."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from testkit.cli import run_cli

from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.keys import find_api_key
from nlp_classifier.workflow.models import ApiKey, AuditEntry, Item, utcnow
from nlp_classifier.workflow.records import PredictionRecord, record_predictions


def record(external_id: str, days_old: int = 0) -> PredictionRecord:
    return PredictionRecord(
        text=f"text of {external_id}",
        model="m",
        model_version="1.0.0",
        labels=["a", "b"],
        scores={"a": 0.5, "b": 0.5},
        label="a",
        flagged=[],
        external_id=external_id,
        queue="band",
        created_at=utcnow() - timedelta(days=days_old),
    )


def test_migrations_from_the_command_line(database_url):
    status = run_cli("db", "--database-url", database_url, "status", "--json", check=True)
    assert json.loads(status.stdout)["current"] is None
    run_cli("db", "--database-url", database_url, "upgrade", check=True)
    info = json.loads(run_cli("db", "--database-url", database_url, "status", "--json", check=True).stdout)
    assert info["up_to_date"] and info["current"] == info["head"] == Database(database_url).head_revision()
    assert "password" not in info["database"]
    down = run_cli("db", "--database-url", database_url, "downgrade", "base", check=True)
    assert "base (no tables)" in down.stdout
    assert Database(database_url).table_names() == ["alembic_version"]


def test_keys_purge_and_forget(database_url):
    db = Database(database_url)
    db.upgrade()
    made = run_cli("db", "--database-url", database_url, "add-key", "--role", "reviewer", "--name", "alice", check=True)
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("nlpc_") and "shown only now" in made.stdout
    with db.session() as session:
        found = find_api_key(session, key)
        assert found is not None and (found.name, found.role) == ("alice", "reviewer") and found.key_hash != key
    again = run_cli("db", "--database-url", database_url, "add-key", "--role", "admin", "--name", "alice")
    assert again.returncode == 2 and "an API key named 'alice' already exists" in again.stderr
    bad_role = run_cli("db", "--database-url", database_url, "add-key", "--role", "owner", "--name", "bob")
    assert bad_role.returncode == 2 and "invalid choice: 'owner'" in bad_role.stderr

    with db.session() as session:
        record_predictions(session, [record("old", 40), record("new"), record("u-1"), record("u-1")], store_text=True)
    audits = count(db, AuditEntry)
    bad = run_cli("db", "--database-url", database_url, "purge", "--older-than", "thirty days")
    assert bad.returncode == 2 and "expected a number and a unit (d, h or m) such as 30d" in bad.stderr
    assert (count(db, Item), count(db, AuditEntry)) == (3, audits)

    purged = run_cli("db", "--database-url", database_url, "purge", "--older-than", "30d", "--json", check=True)
    assert json.loads(purged.stdout) == {"items": 1, "predictions": 1, "reviews": 1, "feedback": 0}
    forgot = run_cli("db", "--database-url", database_url, "forget", "u-1", "--json", check=True)
    assert json.loads(forgot.stdout) == {"items": 1, "predictions": 2, "reviews": 1, "feedback": 0}
    with db.session() as session:
        assert session.scalars(select(Item.external_id)).all() == ["new"]
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["add", "purge", "forget"]
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
    db.dispose()


def test_an_unreachable_database_is_one_clear_line():
    down = run_cli("db", "--database-url", "postgresql://nlpc@127.0.0.1:1/nlpc", "status")
    assert down.returncode == 2
    assert "the workflow database (postgresql+psycopg://nlpc@127.0.0.1:1/nlpc) is unavailable" in down.stderr
    unsupported = run_cli("db", "--database-url", "mysql://x@127.0.0.1/y", "upgrade")
    assert unsupported.returncode == 2 and "--database-url: unsupported database 'mysql'" in unsupported.stderr
    from_environment = run_cli("db", "status", env={"NLPC_DATABASE_URL": "mysql://x@127.0.0.1/y"})
    assert "NLPC_DATABASE_URL: unsupported database 'mysql'" in from_environment.stderr  # named where it came from


def test_a_sqlite_database_under_a_file_is_one_clear_line(tmp_path):
    (tmp_path / "blocker").write_text("a file, not a folder\n")
    path = tmp_path / "blocker" / "nlpc.db"
    for verb in ("status", "upgrade"):
        result = run_cli("db", "--database-url", f"sqlite:///{path}", verb)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        message = " ".join(result.stderr.split())
        assert f"--database-url: the SQLite database {path} lies under {tmp_path / 'blocker'}, a file" in message


def test_forget_refuses_an_external_id_the_api_could_never_have_recorded(tmp_path):
    """`nlpc db forget "$ID"` with an unset variable used to say "forgot ... 0 items": a blank id matches nothing,
    and the API records none; nor one over its 200-character limit."""
    url = f"sqlite:///{tmp_path / 'nlpc.db'}"
    run_cli("db", "--database-url", url, "upgrade", check=True)
    blank = run_cli("db", "--database-url", url, "forget", "  ")
    assert blank.returncode == 2 and "the external id to forget is blank" in blank.stderr, blank.stdout
    long = run_cli("db", "--database-url", url, "forget", "x" * 201)
    assert long.returncode == 2 and "has 201 characters; the API records at most 200" in long.stderr
    db = Database(url)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0  # nothing recorded as forgotten
    db.dispose()


def count(db: Database, table) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_key_name_longer_than_its_column_and_a_purge_age_past_year_one_are_refused(database_url):
    """A key name longer than the 200 characters the ``api_keys`` table holds was stored on SQLite (which ignores
    lengths) and ended in a traceback on PostgreSQL; ``purge --older-than 99999999d`` ended in an OverflowError."""
    run_cli("db", "--database-url", database_url, "upgrade", check=True)
    long = run_cli("db", "--database-url", database_url, "add-key", "--role", "reviewer", "--name", "n" * 201)
    assert long.returncode == 2 and "the key name has 201 characters; the limit is 200" in long.stderr, long.stderr
    assert "Traceback" not in long.stderr
    far = run_cli("db", "--database-url", database_url, "purge", "--older-than", "99999999d")
    assert far.returncode == 2 and "--older-than 99999999d reaches back before the year 1" in far.stderr, far.stderr
    db = Database(database_url)
    assert count(db, ApiKey) == 0 and count(db, AuditEntry) == 0  # nothing added, nothing purged or logged
    db.dispose()
