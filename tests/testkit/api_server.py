"""A live API for the tests: the real app under a real uvicorn on 127.0.0.1 (an ephemeral port), in a thread."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from nlp_classifier.cli.serve import listen
from nlp_classifier.serve import ServeSettings, create_app

API_KEY = "test-key-123"


class LiveServer:
    """``url``, ``client`` (httpx, keyed to ``url``) and ``app`` of a running server."""

    def __init__(self, settings: ServeSettings):
        self.settings = settings
        self.app = create_app(settings)
        self._sock = listen("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.client.close()
        self._server.should_exit = True
        self._thread.join(15)
        self._sock.close()

    @property
    def manager(self):
        return self.app.state.manager


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample in a Prometheus exposition (``GET /metrics``), its labels in the order the metric
    declares them (0 when absent)."""
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{selector}}} "):
            return float(line.split()[-1])
    return 0.0


def copy_models(source: Path, target: Path) -> Path:
    """A private copy of a models folder (the session fixture's must stay untouched)."""
    shutil.copytree(source, target)
    return target


def every_default(models: Path, folder: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """A copy of ``models`` with stand-ins for the default models the fixture did not train (a card of a trained
    model under the default's name), so `nlpc prepare` and `nlpc run` have nothing to train but ``leave_out``."""
    from nlp_classifier.cli.prepare import missing_defaults
    from nlp_classifier.training.baselines import default_name

    present = copy_models(models, folder)
    for task, algorithm, preset in missing_defaults(present):
        name = default_name(algorithm, task, preset)
        if name in leave_out:
            continue
        source = "logistic_regression_jigsaw" if task == "jigsaw" else algorithm
        card = json.loads((present / "baselines" / f"{source}.card.json").read_text())
        (present / "baselines" / f"{name}.card.json").write_text(json.dumps({**card, "name": name}))
    assert [default_name(a, t, p) for t, a, p in missing_defaults(present)] == list(leave_out)
    return present


@contextmanager
def live_server(models_dir: Path, **settings) -> Iterator[LiveServer]:
    """Serve ``models_dir`` with ``settings`` (defaults: logistic_regression current, one API key, the workflow
    database in a SQLite file of its own that goes away with the server)."""
    with tempfile.TemporaryDirectory(prefix="nlpc-api-db-") as folder:
        values = {
            "models_dir": models_dir,
            "default_model": "logistic_regression",
            "api_keys": [API_KEY],
            "max_wait_ms": 1.0,
            "database_url": f"sqlite:///{Path(folder) / 'nlpc.db'}",
            **settings,
        }
        server = LiveServer(ServeSettings(**values)).start()
        try:
            yield server
        finally:
            server.stop()
