"""Progress display for anything that takes seconds: a spinner per stage, bars for counted work (stderr)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

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
