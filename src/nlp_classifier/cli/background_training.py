"""Training the default ``hate`` transformer behind ``nlpc run`` (what `make run` asks for), so that a fresh
checkout ends up serving it without a second command.

`make run` serves the TF-IDF fallback within minutes; the fine-tuned model takes about an hour on 2 cores
(`make minilm`). With ``--train-in-background COMMAND``, ``nlpc run`` starts COMMAND when the registry lacks the
transformer: at the lowest CPU priority (``nice -n 19``, so requests to the API come first), in its own process
group, with ``NLPC_MODELS_DIR`` set to the folder the API serves, its output in a log file there. The log is held
locked while COMMAND runs (the lock goes with the open file, so it lasts as long as COMMAND does, even if
``nlpc run`` was killed): a second ``nlpc run`` on the same folder does not train beside it. When COMMAND
succeeds, the API switches to the new model, unless someone switched models in the meantime. A run stopped after
it saved the model but before its command ended (`make minilm` exports and calibrates the model it trained) leaves
the model unfinished: the next ``nlpc run`` serves it as saved and runs ``--finish-in-background COMMAND`` (`make
minilm-finish`) the same way, then switches to the finished model (the switch loads the model anew). Stopping
``nlpc run`` stops COMMAND too; `make run` passes a command that continues an interrupted run, so the next start
picks up from the last checkpoint. A ``nlpc run`` that finds another process training (one started by a
``nlpc run`` that was killed, or by a second one still running) waits for it to end and then switches its own
API when the model is there. The state of the run is kept beside the log for the API's ``GET /models/training``
(``training.background_status``).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from ..locks import take
from ..training.background_status import (
    FAILED,
    INTERRUPTED,
    LOG_NAME,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    TRAIN,
    now,
    read_status,
    write_status,
)
from .common import stop_process

STOP_TIMEOUT_S = 10.0  # how long the command gets to end after SIGTERM before SIGKILL
PREVIEW_POLL_S = 15.0  # how often ``PreviewFollower`` looks for a new preview, unless $NLPC_PREVIEW_POLL_SECONDS says
PREVIEW_POLL_ENV = "NLPC_PREVIEW_POLL_SECONDS"


class AlreadyTraining(Exception):
    """Another process holds the log: it is training into the same models folder."""


class BackgroundTraining:
    """``command`` run by the shell at nice 19 in a new process group, output appended to the log
    ``models_dir / LOG_NAME``."""

    def __init__(self, command: str, models_dir: Path, model: str, purpose: str = TRAIN):
        self.command = command
        self.models_dir = models_dir
        self.model = model
        self.purpose = purpose  # TRAIN, or FINISH a model a stopped run saved (background_status)
        self.log = models_dir / LOG_NAME
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()

    def start(self, on_exit: Callable[[int], None]) -> None:
        """Start the command; ``on_exit(status)`` is called from a watcher thread when it ends on its own (not
        when ``stop`` ended it). Raises ``AlreadyTraining`` when another process holds the log."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            if not take(out):
                raise AlreadyTraining(str(self.log))
            write_status(
                self.models_dir,
                new_run=True,
                state=RUNNING,
                model=self.model,
                purpose=self.purpose,
                command=self.command,
                log=str(self.log),
                log_offset=self.log.stat().st_size,
                started_at=now(),
            )
            try:
                self.process = subprocess.Popen(
                    ["nice", "-n", "19", "/bin/sh", "-c", self.command],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env={**os.environ, "NLPC_MODELS_DIR": str(self.models_dir)},
                )
            except OSError as exc:
                write_status(self.models_dir, state=FAILED, message=f"could not start: {exc}", finished_at=now())
                raise
        process = self.process

        def watch() -> None:
            status = process.wait()
            if self._stopping.is_set():  # ``stop`` records it
                return
            # with its own message: the one there is from the run (a preview's switch), and would read as the end's
            message = "the command succeeded" if status == 0 else f"the command stopped with status {status}"
            write_status(
                self.models_dir,
                state=SUCCEEDED if status == 0 else FAILED,
                exit_status=status,
                finished_at=now(),
                message=f"{message}; see {self.log}",
            )
            on_exit(status)

        threading.Thread(target=watch, name="nlpc-background-training", daemon=True).start()

    def stop(self) -> None:
        """End the command and everything it started (SIGTERM to its process group, SIGKILL after
        ``STOP_TIMEOUT_S``)."""
        self._stopping.set()
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process, STOP_TIMEOUT_S, group=True)
            write_status(self.models_dir, state=STOPPED, exit_status=self.process.returncode, finished_at=now())

    def wait_for_other(self, on_end: Callable[[], None]) -> None:
        """When another process trains (``AlreadyTraining``): call ``on_end()`` from a watcher thread once it has
        ended, however it ended (not after ``stop``)."""

        def watch() -> None:
            with self.log.open("ab") as held:
                fcntl.flock(held, fcntl.LOCK_SH)  # waits for the training's exclusive lock to go
            if not self._stopping.is_set():
                on_end()

        threading.Thread(target=watch, name="nlpc-background-training-wait", daemon=True).start()

    def record(self, message: str) -> str:
        """Keep ``message`` (what happened once the training ended) in the status; returns it."""
        write_status(self.models_dir, message=message)
        return message

    def record_other_success(self, message: str) -> str:
        """After ``wait_for_other``, when the model is there: if the process that started that training was
        killed (so nobody recorded how it ended), record that it succeeded, with ``message``; returns it."""
        if read_status(self.models_dir).get("state") == INTERRUPTED:
            write_status(self.models_dir, state=SUCCEEDED, finished_at=now(), message=message)
        return message


def request_switch(api_url: str, api_key: str, expected: str | None, model: str) -> httpx.Response:
    """``POST /models/switch`` to ``model`` if the API's current model is still ``expected`` (the API checks and
    switches in one step: 409 when someone switched since)."""
    with httpx.Client(base_url=api_url, timeout=600) as client:  # loading a transformer can take a while
        return client.post(
            "/models/switch", json={"model_name": model, "if_current": expected}, headers={"X-API-Key": api_key}
        )


def switch_when_unchanged(api_url: str, api_key: str, expected: str | None, model: str) -> str:
    """Make ``model`` the API's current model if the current one is still ``expected`` (nobody switched since);
    returns what happened, in words."""
    response = request_switch(api_url, api_key, expected, model)
    if response.status_code == 409:
        with httpx.Client(base_url=api_url, timeout=30) as client:
            current = client.get("/models").json().get("current_model")
        return f"{model} is ready; the API stays on {current}, which was chosen since"
    if response.status_code != 200:
        return f"{model} is ready, but switching to it failed ({response.status_code}: {response.text[:200]})"
    if expected == model:  # it served the model as saved before it was finished: the switch loads it anew
        return f"{model} is ready: the API now serves the finished model ({response.json()['message']})"
    return f"{model} is ready: the API now serves it (was {expected})"


def preview_poll_seconds() -> float:
    """``$NLPC_PREVIEW_POLL_SECONDS`` when set (a positive number), else ``PREVIEW_POLL_S``."""
    from ..errors import ConfigError

    raw = os.environ.get(PREVIEW_POLL_ENV, "").strip()
    if not raw:
        return PREVIEW_POLL_S
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigError(f"{PREVIEW_POLL_ENV} must be a positive number of seconds, not '{raw}'")
    return value


class PreviewFollower:
    """While a background training runs with ``--preview`` (training.preview), switch the API to each new preview
    it publishes (a new version of ``<model>_preview``), as long as nobody else switched: from the model the API
    served when the training started, then from one preview to the next. Once the training has published ``model``
    (which removes the preview) while the API serves the preview, switch to ``model`` as saved, for the minutes its
    command still takes (in `make minilm`: the int8 export and the calibration). ``served`` is the model the API
    serves as far as this follower knows; the switch to the finished model starts from it."""

    def __init__(self, api_url: str, api_key: str, models_dir: Path, model: str, served: str | None):
        from ..training.preview import preview_name

        self.api_url, self.api_key, self.models_dir = api_url, api_key, models_dir
        self.model = model
        self.preview = preview_name(model)
        self.served = served
        self.lock = threading.Lock()  # a preview switch and the final one never cross
        self._done = threading.Event()
        self._switched_to: tuple[str, int] | None = None  # the preview switched to: version, card file's time
        self._refused: tuple[str, int] | None = None  # the last preview the API could not load: tried once only

    def start(self, on_switch: Callable[[str], None]) -> None:
        """Look for a new preview every ``preview_poll_seconds()`` until ``stop``; ``on_switch(message)`` after
        each switch."""
        interval_s = preview_poll_seconds()

        def follow() -> None:
            while not self._done.wait(interval_s):
                message = self.check()
                if message:
                    on_switch(message)

        threading.Thread(target=follow, name="nlpc-preview-follower", daemon=True).start()

    def check(self) -> str | None:
        """Switch to the preview if a new one is there and the API still serves ``served``; what happened, or None
        when nothing did. A preview the API cannot load is not tried again (the next one is). Gives up for good once
        someone else has switched."""
        from ..errors import NlpcError
        from ..registry import resolve

        try:
            card = resolve(self.preview, self.models_dir)
            assert card.path is not None  # a registry card is read from its file
            seen = (card.version, card.path.stat().st_mtime_ns)  # each preview is written anew, card last
        except NlpcError:  # none yet, or removed: the finished model replaced it
            return self._check_model()
        except (OSError, ValueError):  # a folder moved or replaced while it was read: look again next time
            return None
        with self.lock:
            if self._done.is_set() or seen in (self._switched_to, self._refused):
                return None
            response = self._switch(self.preview)
            if response is None or response.status_code == 404:  # the API busy, or the preview removed: look again
                return None
            if response.status_code not in (200, 409):  # it cannot be loaded (broken files): wait for the next one
                self._refused = seen
                return (
                    f"{self.preview} {card.version} could not be served ({response.status_code}: "
                    f"{response.text[:200]}); the API stays on {self.served} until the next preview"
                )
            if response.status_code == 409:  # someone chose a model: leave it
                self._done.set()
                return f"{self.preview} {card.version} is there; the API stays on the model chosen since"
            self.served, self._switched_to = self.preview, seen
        step = card.extra.get("preview", {}).get("step")
        at = f" (step {step:,})" if isinstance(step, int) else ""
        return f"the API now serves {self.preview} {card.version}, the best checkpoint so far{at}"

    def _check_model(self) -> str | None:
        """With the preview gone: if the API serves it and ``model`` is saved, switch to ``model`` as saved."""
        from ..errors import NlpcError
        from ..registry import model_names

        with self.lock:
            if self._done.is_set() or self.served != self.preview:
                return None
            try:
                if self.model not in model_names(self.models_dir):
                    return None
            except (NlpcError, OSError, ValueError):  # a folder moved or replaced while it was read: look again
                return None
            response = self._switch(self.model)
            if response is None or response.status_code not in (200, 409):
                return None
            self._done.set()  # nothing more to follow: the switch to the finished model starts from here
            if response.status_code == 409:
                return f"{self.model} is saved; the API stays on the model chosen since"
            self.served = self.model
        return f"the API now serves {self.model} as saved, until what follows its training has finished it"

    def _switch(self, model: str) -> httpx.Response | None:
        try:
            return request_switch(self.api_url, self.api_key, self.served, model)
        except httpx.HTTPError:  # the API is stopping, or too busy this time: the next look tries again
            return None

    def stop(self) -> None:
        self._done.set()
