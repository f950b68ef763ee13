"""The API's side of the moderation workflow: one ``Workflow`` per app (``app.state.workflow``) holds the
database, the background record writer and a short cache of database API keys.

- ``observe`` turns a request's predictions into records for the writer, following ``NLPC_RECORD`` and the
  review band (``serve/recording.py`` decides); it never waits on the database and never fails a prediction.
- ``run(fn)`` runs ``fn(session)`` in one transaction on a worker thread, for the queue and feedback routes;
  the database being down becomes a 503 that says so, and the next call simply tries again.
- ``principal_for(key)`` is the database half of the API-key check (``security.py`` owns the rule).

Migrations run at start-up when ``NLPC_DB_AUTO_MIGRATE`` is true and the database is in use (recording on or
``NLPC_DATABASE_URL`` set), otherwise on first use, so a server that never records never creates a database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from ..errors import NlpcError
from ..workflow.db import Database
from ..workflow.errors import DatabaseUnavailable
from ..workflow.keys import find_api_key
from ..workflow.records import PredictionRecord
from ..workflow.writer import RecordWriter
from .errors import from_nlpc_error
from .logs import log
from .metrics import ServiceMetrics
from .settings import ServeSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """Who called: a key's name and role (keys from NLPC_API_KEYS are ``admin`` and named ``admin``)."""

    name: str
    role: str


class Workflow:
    def __init__(self, settings: ServeSettings, metrics: ServiceMetrics):
        self.settings = settings
        self.metrics = metrics
        self._database: Database | None = None
        self._ready = False
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, Principal | None]] = {}
        self.writer: RecordWriter | None = None

    @property
    def database(self) -> Database:
        with self._lock:
            if self._database is None:
                self._database = Database(self.settings.database_url)
            return self._database

    @property
    def in_use(self) -> bool:
        """Whether the server records predictions or was given a database explicitly."""
        return self.settings.record != "off" or self.settings.database_url is not None

    # --- life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the record writer; migrate now when the database is in use (a failure is logged, not fatal: the
        writer and the routes try again)."""
        self.writer = RecordWriter(
            self.database,
            store_text=self.settings.store_text,
            before_write=self.ensure_ready,
            on_lost=lambda n, reason: self.metrics.records_lost.labels(reason).inc(n),
            on_written=self.metrics.records_written.inc,
            logger=log,
        )
        self.writer.start()
        if self.in_use and self.settings.db_auto_migrate:
            try:
                self.ensure_ready()
            except NlpcError as exc:
                log.warning("workflow database not ready at start-up; will retry on use", extra={"error": str(exc)})

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self._database is not None:
            self._database.dispose()

    def ensure_ready(self) -> None:
        """Migrate once (``NLPC_DB_AUTO_MIGRATE``), or check that someone did; ``DatabaseUnavailable`` otherwise."""
        if self._ready:
            return
        database = self.database
        with self._lock:
            if self._ready:
                return
            if self.settings.db_auto_migrate:
                database.upgrade()
            elif database.current_revision() != database.head_revision():
                raise DatabaseUnavailable(
                    f"the workflow database ({database.describe()}) is not at the newest revision: run "
                    "`nlpc db upgrade` or start the API with NLPC_DB_AUTO_MIGRATE=true"
                )
            self._ready = True

    # --- recording ------------------------------------------------------------------------------------------
    def submit(self, records: Sequence[PredictionRecord]) -> None:
        """Hand records to the writer (never waits); before start-up they are counted as lost."""
        if not records:
            return
        if self.writer is None or not self.writer.started:
            self.metrics.records_lost.labels("not_started").inc(len(records))
            return
        self.writer.submit(records)

    # --- queries --------------------------------------------------------------------------------------------
    async def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in one transaction on a worker thread; our errors become API errors (404, 409, 422,
        503)."""
        try:
            return await asyncio.to_thread(self._run, work)
        except NlpcError as exc:
            raise from_nlpc_error(exc) from None

    def _run(self, work: Callable[[Session], T]) -> T:
        self.ensure_ready()
        with self.database.session() as session:
            return work(session)

    # --- keys -----------------------------------------------------------------------------------------------
    def cached_principal(self, key: str) -> tuple[bool, Principal | None]:
        """(True, the key's principal or None) when the cache knows the key and is fresh; (False, None) otherwise.
        Lets a keyed prediction skip the worker thread."""
        cached = self._keys.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.settings.key_cache_seconds:
            return True, cached[1]
        return False, None

    def principal_for(self, key: str) -> Principal | None:
        """The database key's name and role (cached for ``key_cache_seconds``); None when no such key exists.
        Without the database, a key seen recently still works; otherwise ``DatabaseUnavailable``."""
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is not None and now - cached[0] < self.settings.key_cache_seconds:
            return cached[1]
        database = self.database
        if database.sqlite_path is not None and not database.sqlite_path.exists():
            return None  # no database yet, so no keys in it (and none is created by a bad key)
        try:
            self.ensure_ready()
            with database.session() as session:
                row = find_api_key(session, key)
                principal = Principal(row.name, row.role) if row is not None else None
        except DatabaseUnavailable:
            if cached is not None:
                return cached[1]
            raise
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[key] = (now, principal)
        return principal
