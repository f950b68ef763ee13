"""The state of a training run started in the background by ``nlpc run --train-in-background``, kept in the
models folder so that whoever serves that folder can read it: the API (``GET /models/training``), the web UI
through the API, and a second ``nlpc run``.

Three things make it up: ``background_training.json``, written by the process that started the run when it
starts and when it ends; the run's log, ``background_training.log``, which the run holds locked for as long as
it lives (so a run whose starter was killed still shows as running, and one killed with it shows as
interrupted); and the last progress line the run wrote to that log (step, total, elapsed time and ETA).
Reading any of it imports nothing heavy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..backends.onnx_files import exported_backends
from ..card import ModelCard
from ..fileio import read_json, write_json
from ..locks import held_by_another

LOG_NAME = "background_training.log"
STATUS_NAME = "background_training.json"

RUNNING, SUCCEEDED, FAILED, STOPPED, INTERRUPTED = "running", "succeeded", "failed", "stopped", "interrupted"
# What a run is for (``purpose`` in the status): training the model, or finishing one a stopped run had saved but
# not finished (`make minilm-finish`: its int8 export and calibration).
TRAIN, FINISH = "train", "finish"

TAIL_BYTES = 64 * 1024  # how much of the log's end is read for the progress and the last line
LAST_LINE_CHARS = 300
# What `make minilm` does after its last step (threshold tuning, the test split, the int8 export and its check, the
# calibration) took about 10 minutes on the 2-core reference machine (docs/transformers.md: 4.5 for the test split,
# 4.3 for the export, 1.5 for the calibration, docs/evaluation.md).
AFTER_TRAINING = "about 10 more minutes on 2 cores"
FINISHING = "about 6 minutes on 2 cores"  # the export and the calibration alone, without the test split
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def format_progress(done: int, total: int, epoch: float, shown: dict, elapsed_s: float, eta_s: float) -> str:
    """The progress line a transformer run writes to its log (``parse_progress`` reads it back)."""
    return (
        f"step {done}/{total} ({100 * done / total:.0f}%) epoch {epoch:.2f} | {shown} | "
        f"elapsed {clock(elapsed_s)} ETA {clock(eta_s)}"
    )


def clock(seconds: float) -> str:
    """``H:MM:SS``."""
    seconds = max(int(seconds), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


PROGRESS = re.compile(r"^step (\d+)/(\d+) \(\d+%\) .* elapsed (\d+):(\d\d):(\d\d) ETA (\d+):(\d\d):(\d\d)\s*$")


def parse_progress(text: str) -> dict[str, int] | None:
    """The last progress line in ``text`` as ``{step, total, elapsed_s, eta_s}``; None when there is none."""
    for line in reversed(text.splitlines()):
        found = PROGRESS.match(ANSI.sub("", line).strip())
        if found:
            step, total, eh, em, es, th, tm, ts = (int(g) for g in found.groups())
            elapsed, eta = eh * 3600 + em * 60 + es, th * 3600 + tm * 60 + ts
            return {"step": step, "total": total, "elapsed_s": elapsed, "eta_s": eta}
    return None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_status(models_dir: Path, *, new_run: bool = False, **fields: Any) -> None:
    """Merge ``fields`` into the status file, written atomically; ``new_run`` (a run's start) drops what an
    earlier run left there."""
    path = models_dir / STATUS_NAME
    previous = {} if new_run else read_status_file(path)
    write_json(path, {**previous, **fields})


def read_status_file(path: Path) -> dict[str, Any]:
    try:
        status = read_json(path)
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def log_tail(log: Path, start: int = 0) -> str:
    """The end of the log from byte ``start`` on (at most ``TAIL_BYTES``)."""
    try:
        with log.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(start, size - TAIL_BYTES, 0))
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def read_status(models_dir: Path) -> dict[str, Any]:
    """What is known about the folder's background training: ``state`` (``none`` when nothing was ever started
    here, ``running``, ``succeeded``, ``failed``, ``stopped`` or ``interrupted``), the model, command, log, start
    and end times, exit status, what happened after it (``message``), the last ``progress`` line of this run and
    its ``last_line``. A run recorded as running whose log nobody holds any more was killed without being able to
    say so: ``interrupted``."""
    status = read_status_file(models_dir / STATUS_NAME)
    if not status:
        return {"state": "none"}
    log = Path(status.get("log") or models_dir / LOG_NAME)
    if status.get("state") == RUNNING and not held_by_another(log):  # the run holds its log while it lives
        status["state"] = INTERRUPTED
    tail = log_tail(log, int(status.get("log_offset") or 0))
    lines = [ANSI.sub("", line).strip() for line in tail.splitlines()]
    lines = [line for line in lines if line]
    status["progress"] = parse_progress(tail)
    status["last_line"] = lines[-1][:LAST_LINE_CHARS] if lines else None
    return status


def left_unfinished(status: Mapping[str, Any], card: ModelCard | None) -> bool:
    """Whether the folder's last background run for the model of ``card`` (``status``: ``read_status``; ``card``
    None when the folder lacks the model) ended before its command did, stopped or killed, after it had saved the
    model, and the model still lacks its int8 export or its calibrator: the run was cut short in what follows the
    training (in `make minilm`, the export and the calibration). A model saved after such a run ended (trained by
    hand since) is not that run's."""
    if card is None or status.get("model") != card.name or status.get("state") not in (STOPPED, INTERRUPTED):
        return False
    if "onnx-int8" in exported_backends(card) and card.calibration:  # a killed run's command may have gone on
        return False
    if status.get("purpose") == FINISH:  # the model was there before that run started
        return True
    saved, started = _instant(card.created_at), _instant(status.get("started_at"))
    ended = _instant(status.get("finished_at"))
    return saved is not None and started is not None and started <= saved and (ended is None or saved <= ended)


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def describe(status: Mapping[str, Any]) -> str | None:
    """One sentence on a running background training (for the UI and ``nlpc run``); None when none runs."""
    if status.get("state") != RUNNING:
        return None
    model = status.get("model", "the model")
    if status.get("purpose") == FINISH:
        return (
            f"{model} was saved, but what follows its training (the int8 export and the calibration) was cut short; "
            f"it is being finished in the background ({FINISHING}), and the API switches to the finished model "
            "when it is ready."
        )
    progress = status.get("progress")
    if not progress:
        return f"{model} is being trained in the background (starting); the API switches to it when it is ready."
    if progress["step"] >= progress["total"]:  # what follows the last step has no progress line of its own
        return (
            f"{model} has finished training ({progress['total']:,} steps) and is being tested, exported and "
            f"calibrated in the background ({AFTER_TRAINING}); the API switches to it when it is ready."
        )
    return (
        f"{model} is being trained in the background: step {progress['step']:,} of {progress['total']:,}, "
        f"about {max(progress['eta_s'] // 60, 1):,} min of training left, then {AFTER_TRAINING} to test, export "
        "and calibrate it; the API switches to it when it is ready."
    )
