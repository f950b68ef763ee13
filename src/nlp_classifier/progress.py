"""Progress display for anything that takes seconds: a spinner per stage, bars for counted work (stderr)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
console = Console(stderr=True)


def enabled() -> bool:
    """Progress is drawn only on an interactive terminal; logs stay clean elsewhere."""
    return sys.stderr.isatty()


@contextmanager
def stage(description: str) -> Iterator[None]:
    """Show ``description`` with a spinner while the block runs, then how long it took."""
    start = time.perf_counter()
    if enabled():
        with console.status(description):
            yield
    else:
        yield
    console.print(f"[green]✓[/green] {description} ({time.perf_counter() - start:.1f} s)", highlight=False)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar (count, elapsed, ETA) when on a terminal."""
    if not enabled():
        yield from items
        return
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


class RowProgress:
    """Progress of a job that handles rows in chunks: on a terminal a bar with the rows done, rows/s and the ETA
    (from ``done``, the fraction of the work finished); elsewhere one log line per chunk."""

    def __init__(self, description: str):
        self.description = description
        self.rows = 0
        self.start = time.perf_counter()
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> RowProgress:
        if enabled():
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[rows]:,} rows"),
                TextColumn("{task.fields[rate]:,.0f} rows/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=1.0, rows=0, rate=0.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.start
        return self.rows / elapsed if elapsed > 0 else 0.0

    def advance(self, rows: int, done: float, line: str, rows_left: int | None = None) -> None:
        """``rows`` more rows handled; ``done`` of the whole work finished (0 to 1); ``line`` the log line;
        ``rows_left``, where the job knows it, puts an ETA at this run's rate in the line."""
        self.rows += rows
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=min(max(done, 0.0), 1.0), rows=self.rows, rate=self.rate)
            return
        eta = f", ETA {rows_left / self.rate / 60:.1f} min" if rows_left is not None and self.rate > 0 else ""
        console.print(f"{line} ({self.rows:,} rows, {self.rate:,.0f} rows/s{eta})", highlight=False, soft_wrap=True)
