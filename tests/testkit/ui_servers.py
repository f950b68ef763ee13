"""Real servers for the web UI's tests: ``nlpc serve`` and ``nlpc ui`` as child processes on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from testkit.ports import free_port

ROOT = Path(__file__).resolve().parents[2]  # the repository
API_KEY = "ui-test-key"
# The browser tests' headless Debian chromium, where their screenshots go, and how long a step may take.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts" / "ui"
TIMEOUT_MS = 60_000


def _wait_until_up(process: subprocess.Popen, url: str, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def _child(args: list[str], health_url: str, log: Path, env: dict[str, str]) -> Iterator[None]:
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "nlp_classifier", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
    try:
        _wait_until_up(process, health_url, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def api_server(
    models_dir: Path, log: Path, default_model: str | None = "logistic_regression", **settings: str
) -> Iterator[str]:
    """``nlpc serve`` over ``models_dir`` (``default_model`` current; None: the service chooses; ``API_KEY``
    accepted); yields its URL."""
    port = free_port()
    env = {
        "NLPC_MODELS_DIR": str(models_dir),
        "NLPC_API_KEYS": API_KEY,
        "NLPC_DEFAULT_MODEL": default_model or "",
        "NLPC_THREADS": "1",
        "NLPC_LOG_LEVEL": "warning",
        **{f"NLPC_{key.upper()}": value for key, value in settings.items()},
    }
    url = f"http://127.0.0.1:{port}"
    with _child(["serve", "--host", "127.0.0.1", "--port", str(port)], f"{url}/health", log, env):
        yield url


@contextmanager
def ui_server(api_url: str, log: Path, *options: str) -> Iterator[str]:
    """``nlpc ui`` pointed at ``api_url``, with more command-line ``options``; yields the UI's URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with _child(["ui", "--api-url", api_url, "--port", str(port), *options], f"{url}/_stcore/health", log, {}):
        yield url
