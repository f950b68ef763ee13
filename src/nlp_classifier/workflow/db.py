"""Opening the workflow database and migrating it.

``Database(url)`` holds the engine and a session factory. SQLite (the embedded default, a file under the data
folder) runs in WAL mode with foreign keys on, and every transaction starts with ``BEGIN IMMEDIATE`` so that
concurrent writers queue on the busy timeout instead of failing; PostgreSQL goes through psycopg 3 with
pre-ping, so a restarted server is picked up again by itself. Any failure to reach the database becomes a
``DatabaseUnavailable`` that names the database (never its password) and what to do."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import ConfigError
from ..fileio import nearest_existing
from ..paths import database_path
from .errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30


def default_database_url() -> str:
    """The embedded SQLite database: ``sqlite:///<data folder>/nlpc.db``."""
    return f"sqlite:///{database_path()}"


def parse_url(url: str, setting: str = "NLPC_DATABASE_URL") -> URL:
    """``url`` as a SQLAlchemy URL; only SQLite and PostgreSQL are supported (a ``ConfigError`` naming
    ``setting``, where the URL came from, otherwise)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{setting} is not a database URL: expected e.g. sqlite:///path/nlpc.db or "
            f"postgresql+psycopg://user@host:5432/nlpc, got {url!r}"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{setting}: unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql")
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver the project installs
    return parsed


class Database:
    """One database: ``engine``, ``session()`` (a transaction), migrations (``upgrade``, ``downgrade``,
    ``current_revision``) and ``describe()`` (its URL without the password)."""

    def __init__(self, url: str | None = None, setting: str = "NLPC_DATABASE_URL"):
        """``setting`` names where ``url`` came from in error messages (e.g. ``--database-url``)."""
        self.setting = setting
        self.url = parse_url(url or default_database_url(), setting)
        self.engine = self._create_engine()
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file (None for PostgreSQL or an in-memory SQLite)."""
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def describe(self) -> str:
        """The URL without its password, for messages and logs."""
        return self.url.render_as_string(hide_password=True)

    def _create_engine(self) -> Engine:
        if self.is_sqlite:
            path = self.sqlite_path
            if path is not None:
                self._make_folder(path)
            engine = create_engine(
                self.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_begin_immediate)
            return engine
        try:
            return create_engine(
                self.url,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=20,
                pool_timeout=10,
                connect_args={"connect_timeout": 5},
            )
        except NoSuchModuleError as exc:
            raise ConfigError(f"{self.setting}: {exc}") from None

    def _make_folder(self, path: Path) -> None:
        """Create the SQLite file's folder, or say why it cannot be: a ``ConfigError`` naming the setting."""
        existing = nearest_existing(path.parent)
        if existing is not None and not existing.is_dir():
            raise ConfigError(f"{self.setting}: the SQLite database {path} lies under {existing}, a file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{self.setting}: cannot create the folder of the SQLite database {path}: {exc.strerror or exc}"
            ) from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on an error. A database that
        cannot be reached raises ``DatabaseUnavailable``."""
        try:
            with self.sessions() as session, session.begin():
                yield session
        except DBAPIError as exc:
            if _is_unavailable(exc):
                raise self.unavailable(exc) from None
            if _is_unmigrated(exc):
                raise DatabaseUnavailable(
                    f"the workflow database ({self.describe()}) has no tables yet: run `nlpc db upgrade` "
                    "(or start the API with NLPC_DB_AUTO_MIGRATE=true)"
                ) from None
            raise

    def unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        """The error for a database that did not answer, naming it and the cause's first line."""
        cause = str(getattr(exc, "orig", exc)).strip().splitlines()
        return DatabaseUnavailable(
            f"the workflow database ({self.describe()}) is unavailable: {cause[0] if cause else type(exc).__name__}"
        )

    # --- migrations -----------------------------------------------------------------------------------------
    def alembic_config(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations up to ``revision`` (default: the newest)."""
        from alembic import command

        self._run(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Revert the migrations down to ``revision`` (``base``: an empty database)."""
        from alembic import command

        self._run(command.downgrade, revision)

    def _run(self, step: Any, revision: str) -> None:
        from alembic.util import CommandError

        try:
            step(self.alembic_config(), revision)
        except CommandError as exc:
            raise ConfigError(f"migration to {revision!r}: {exc}") from None
        except DBAPIError as exc:
            if _is_unavailable(exc):
                raise self.unavailable(exc) from None
            raise

    def current_revision(self) -> str | None:
        """The revision the database is at (None: not migrated yet)."""
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except DBAPIError as exc:
            raise self.unavailable(exc) from None

    def head_revision(self) -> str | None:
        """The newest revision shipped with the package."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def revisions(self) -> list[tuple[str, str | None, str]]:
        """Every shipped revision, oldest first: (revision, down_revision, message)."""
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(self.alembic_config())
        out = [(s.revision, _single(s.down_revision), s.doc or "") for s in script.walk_revisions()]
        return list(reversed(out))

    def table_names(self) -> list[str]:
        """The tables in the database now (for status and tests)."""
        with self.engine.connect() as connection:
            return sorted(inspect(connection).get_table_names())

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _single(revision: str | Sequence[str] | None) -> str | None:
    """A down-revision as one id (the migrations form a line, never a merge)."""
    if revision is None or isinstance(revision, str):
        return revision
    return ",".join(revision)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_unavailable(exc: DBAPIError) -> bool:
    """True for a database that cannot be reached (connection refused, server gone, SQLite file unopenable),
    as opposed to a bad statement."""
    if exc.connection_invalidated:
        return True
    name = type(exc.orig).__name__ if exc.orig is not None else ""
    text = str(exc.orig).lower()
    if name in ("OperationalError", "InterfaceError"):
        return "no such table" not in text and "syntax error" not in text
    return any(word in text for word in ("connection", "server closed", "terminating", "shutting down"))


def _is_unmigrated(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
