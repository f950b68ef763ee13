"""The repository root, the ``nlpc`` command line run in a child process, and the Makefile's recipes as ``make -n``
prints them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
DRY_RUN_VENV = "/nonexistent/.venv"  # a virtual environment that is never there, so `make -n` prints every step


def make_dry_run(target: str, *variables: str) -> str:
    """What ``make -n -B target`` would run, with ``VENV`` at ``DRY_RUN_VENV`` and ``variables`` ("NAME=value")."""
    return subprocess.run(
        ["make", "-n", "-B", target, f"VENV={DRY_RUN_VENV}", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def run_cli(
    *args: str,
    models_dir: Path | None = None,
    check: bool = False,
    timeout: float = 600,
    cwd: Path | None = None,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run ``nlpc`` in a new process (``python -m nlp_classifier``) and capture its output."""
    proc = subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=cli_env(models_dir, env),
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"nlpc {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def start_cli(*args: str, models_dir: Path | None = None, env: dict | None = None, **popen_options) -> subprocess.Popen:
    """Start ``nlpc`` in a new process and return at once (for tests that stop or kill it); output is piped as
    text unless ``popen_options`` say otherwise."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "cwd": ROOT, **popen_options}
    return subprocess.Popen(cli_command(*args), env=cli_env(models_dir, env), **options)


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "nlp_classifier", *args]


def cli_env(models_dir: Path | None = None, env: dict | None = None) -> dict[str, str]:
    """The test process's environment with ``env`` on top and ``$NLPC_MODELS_DIR`` set when ``models_dir`` is."""
    full = {**os.environ, **(env or {})}
    if models_dir is not None:
        full["NLPC_MODELS_DIR"] = str(models_dir)
    return full
