"""Advisory file locks (``flock``) taken without waiting: whoever finds one held says so and stops, rather than
queueing behind another process. A lock lasts as long as the open file it was taken on."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO


def take(handle: IO | int, *, shared: bool = False) -> bool:
    """Lock the open file ``handle`` (exclusively, or ``shared``); False when another process holds it."""
    try:
        fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def held_by_another(path: Path) -> bool:
    """Whether another process holds an exclusive lock on ``path`` (False when there is no such file)."""
    try:
        with path.open("rb") as handle:
            return not take(handle, shared=True)  # closing the file lets go of the probe's own lock
    except FileNotFoundError:
        return False
