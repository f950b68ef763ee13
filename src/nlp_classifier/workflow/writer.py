"""The background writer: predictions are recorded from a thread of their own, in batches, so serving never
waits on the database. ``submit`` only puts records on a bounded queue; when the queue is full or a batch cannot
be written (the database is down) the records are dropped and counted through ``on_lost`` and one log line says
why (never a text); the next batch tries again, and a line says when recording works again."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from .db import Database
from .errors import DatabaseUnavailable
from .records import PredictionRecord, record_predictions

log = logging.getLogger("nlp_classifier.workflow")

_STOP = object()


class RecordWriter:
    """Writes ``PredictionRecord``s to ``database`` in batches of up to ``batch_size``, waiting at most
    ``max_wait_s`` to fill one. ``on_lost(n, reason)`` and ``on_written(n)`` report what happened."""

    def __init__(
        self,
        database: Database,
        *,
        store_text: bool,
        before_write: Callable[[], None] | None = None,
        on_lost: Callable[[int, str], None] | None = None,
        on_written: Callable[[int], None] | None = None,
        batch_size: int = 500,
        max_wait_s: float = 0.05,
        max_queued: int = 50_000,
        logger: logging.Logger | None = None,
    ):
        self.database = database
        self.log = logger or log
        self.store_text = store_text
        self.before_write = before_write
        self.on_lost = on_lost or (lambda n, reason: None)
        self.on_written = on_written or (lambda n: None)
        self.batch_size, self.max_wait_s = batch_size, max_wait_s
        self._queue: queue.Queue[object] = queue.Queue(max_queued)
        self._thread = threading.Thread(target=self._run, name="nlpc-record-writer", daemon=True)
        self._failing = False
        self._full = False
        self.started = False

    def start(self) -> None:
        self._thread.start()
        self.started = True

    def submit(self, records: Sequence[PredictionRecord]) -> None:
        """Queue ``records`` without waiting; a full queue drops them (counted as lost)."""
        for i, record in enumerate(records):
            try:
                self._queue.put_nowait(record)
            except queue.Full:
                self._lose(len(records) - i, "queue_full", "the recording queue is full (the database is too slow)")
                return
        self._full = False

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is written or counted lost; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        if not self.started:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self.started = False

    def _lose(self, n: int, reason: str, why: str) -> None:
        self.on_lost(n, reason)
        flag = "_full" if reason == "queue_full" else "_failing"
        if not getattr(self, flag):
            setattr(self, flag, True)
            self.log.warning("recording predictions failed, records are being dropped: %s", why)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                self._queue.task_done()
                return
            batch = [first]
            stop = False
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.batch_size:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    self._queue.task_done()
                    break
                batch.append(item)
            self._write(batch)  # type: ignore[arg-type]
            for _ in batch:
                self._queue.task_done()
            if stop:
                return

    def _write(self, batch: list[PredictionRecord]) -> None:
        try:
            if self.before_write is not None:
                self.before_write()
            self._insert(batch)
        except DatabaseUnavailable as exc:
            self._lose(len(batch), "database_unavailable", str(exc))
            return
        except Exception as exc:  # one bad record must not cost the batch: write them one by one
            written = 0
            for record in batch:
                try:
                    self._insert([record])
                    written += 1
                except Exception:  # its type says what went wrong, never its text
                    self._lose(1, "write_error", f"{type(exc).__name__} while writing a record")
            if written:
                self.on_written(written)
            return
        if self._failing:
            self._failing = False
            self.log.info("recording predictions works again")
        self.on_written(len(batch))

    def _insert(self, batch: list[PredictionRecord]) -> None:
        with self.database.session() as session:
            record_predictions(session, batch, store_text=self.store_text)
