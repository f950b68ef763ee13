"""The repository root and the ``nlpc`` command line run in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository


def run_cli(
    *args: str,
    models_dir: Path | None = None,
    check: bool = False,
    timeout: float = 600,
    cwd: Path | None = None,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run ``nlpc`` in a new process (``python -m nlp_classifier``) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    if models_dir is not None:
        full_env["NLPC_MODELS_DIR"] = str(models_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "nlp_classifier", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=full_env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"nlpc {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc
