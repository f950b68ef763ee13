"""Training the default ``hate`` transformer behind ``nlpc run`` (what `make run` asks for), so that a fresh
checkout ends up serving it without a second command.

`make run` serves the TF-IDF fallback within minutes; the fine-tuned model takes about an hour on 2 cores
(`make minilm`). With ``--train-in-background COMMAND``, ``nlpc run`` starts COMMAND when the registry lacks the
transformer: at the lowest CPU priority (``nice -n 19``, so requests to the API come first), in its own process
group, with ``NLPC_MODELS_DIR`` set to the folder the API serves, its output in a log file there. The log is held
locked while COMMAND runs (the lock goes with the open file, so it lasts as long as COMMAND does, even if
``nlpc run`` was killed): a second ``nlpc run`` on the same folder does not train beside it. When COMMAND
succeeds, the API switches to the new model, unless someone switched models in the meantime. Stopping
``nlpc run`` stops COMMAND too; `make run` passes a command that continues an interrupted run, so the next start
picks up from the last checkpoint.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from .common import stop_process

LOG_NAME = "background_training.log"
STOP_TIMEOUT_S = 10.0  # how long the command gets to end after SIGTERM before SIGKILL


class AlreadyTraining(Exception):
    """Another process holds the log: it is training into the same models folder."""


class BackgroundTraining:
    """``command`` run by the shell at nice 19 in a new process group, output appended to the log
    ``models_dir / LOG_NAME``."""

    def __init__(self, command: str, models_dir: Path):
        self.command = command
        self.models_dir = models_dir
        self.log = models_dir / LOG_NAME
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()

    def start(self, on_exit: Callable[[int], None]) -> None:
        """Start the command; ``on_exit(status)`` is called from a watcher thread when it ends on its own (not
        when ``stop`` ended it). Raises ``AlreadyTraining`` when another process holds the log."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            try:
                fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise AlreadyTraining(str(self.log)) from None
            self.process = subprocess.Popen(
                ["nice", "-n", "19", "/bin/sh", "-c", self.command],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "NLPC_MODELS_DIR": str(self.models_dir)},
            )
        process = self.process

        def watch() -> None:
            status = process.wait()
            if not self._stopping.is_set():
                on_exit(status)

        threading.Thread(target=watch, name="nlpc-background-training", daemon=True).start()

    def stop(self) -> None:
        """End the command and everything it started (SIGTERM to its process group, SIGKILL after
        ``STOP_TIMEOUT_S``)."""
        self._stopping.set()
        if self.process is not None:
            stop_process(self.process, STOP_TIMEOUT_S, group=True)


def switch_when_unchanged(api_url: str, api_key: str, expected: str | None, model: str) -> str:
    """Make ``model`` the API's current model if the current one is still ``expected`` (nobody switched since);
    returns what happened, in words."""
    with httpx.Client(base_url=api_url, timeout=600) as client:  # loading a transformer can take a while
        current = client.get("/models").json().get("current_model")
        if current != expected:
            return f"{model} is ready; the API stays on {current}, which was chosen since"
        response = client.post("/models/switch", json={"model_name": model}, headers={"X-API-Key": api_key})
    if response.status_code != 200:
        return f"{model} is ready, but switching to it failed ({response.status_code}: {response.text[:200]})"
    return f"{model} is ready: the API now serves it (was {expected})"
