"""Helpers shared by the sub-commands: common arguments and printing."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from ..tasks import MULTI_LABEL

# Wide enough for the metric tables when output goes to a file or a pipe.
stdout = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--data, --text-column, --label-column(s), --labels: point a command at any labelled file."""
    parser.add_argument(
        "--data",
        help="a labelled CSV/TSV/JSONL/Parquet file (optionally .gz) to use instead of the task's bundled data",
    )
    parser.add_argument("--text-column", help="column holding the text (default: the task's, or 'text')")
    parser.add_argument(
        "--label-column",
        "--label-columns",
        dest="label_columns",
        help="label column, or several comma-separated 0/1 columns for multi-label data",
    )
    parser.add_argument("--labels", help="comma-separated class names in id order (single-label files)")


def add_extra_data_argument(parser: argparse.ArgumentParser) -> None:
    """--extra-data: labelled rows (e.g. ``nlpc feedback export``) that join the training split only."""
    parser.add_argument(
        "--extra-data",
        help="a labelled file (text + label, or one 0/1 column per label) whose rows join the training split "
        "only: texts in validation or test are dropped, texts already in train are replaced; the card records it",
    )


def add_bump_argument(parser: argparse.ArgumentParser, default: str = "minor") -> None:
    """--bump: which part of the version a retrained model's new version bumps."""
    parser.add_argument(
        "--bump",
        choices=["major", "minor", "patch"],
        default=default,
        help=f"version part to bump when the model already exists (default: {default})",
    )


def data_options(args: argparse.Namespace) -> dict[str, Any]:
    """What ``add_data_arguments`` parsed, as the keyword arguments the trainers take."""
    return {
        "data": args.data,
        "text_column": args.text_column,
        "label_columns": split_list(args.label_columns),
        "labels": split_list(args.labels),
    }


def check_models_folder(flag_value: str | None) -> None:
    """Refuse a models folder that is a file or lies under one, before the command does any work (training found
    out only when it saved). Whether it is writable is left to the commands that write: a read-only models folder
    is fine to serve from."""
    from pathlib import Path

    from ..errors import ConfigError
    from ..fileio import nearest_existing
    from ..paths import models_dir

    folder = Path(flag_value) if flag_value else models_dir()
    existing = nearest_existing(folder)
    if existing is not None and not existing.is_dir():
        where = "--models-dir" if flag_value else "$NLPC_MODELS_DIR" if "NLPC_MODELS_DIR" in os.environ else "models"
        what = "is a file" if existing == folder else f"lies under {existing}, a file"
        raise ConfigError(f"{where} {folder}: {what}; give a folder")


def check_version_file(args: argparse.Namespace) -> None:
    """For a command that will record a model version (train, calibrate, export): refuse a broken
    MODEL_VERSION.json before the work, not when the model is saved."""
    from pathlib import Path

    from ..paths import models_dir
    from ..versioning import read_versions

    read_versions(Path(args.models_dir) if args.models_dir else models_dir())  # raises on a broken file


def task_choices() -> str:
    """The built-in tasks for a --task help text (from ``tasks.TASKS``, so a new task is listed where it is
    accepted)."""
    from ..tasks import TASKS

    return ", ".join(TASKS)


def split_list(value: str | None) -> list[str] | None:
    """'a,b' -> ['a', 'b']; None stays None."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def print_json(payload: Any) -> None:
    """Pretty JSON on stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A rich table with the given columns and rows (numbers right-aligned)."""
    out = Table(title=title, title_justify="left")
    for col in columns:
        out.add_column(col)
    for row in rows:
        out.add_row(*[fmt(v) for v in row])
    return out


def fmt(value: Any) -> str:
    """Floats to 4 decimals, None to '-', the rest as text."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def test_summary(card) -> str:
    """One line of a freshly trained model's test metrics (ROC-AUC shown as '-' where undefined)."""
    test = card.metrics["test"]
    if card.problem_type == MULTI_LABEL:
        per_label = ", ".join(f"{lab} {fmt(v['roc_auc'])}" for lab, v in test["per_label"].items())
        return (
            f"{card.name}: test mean ROC-AUC {fmt(test['mean_roc_auc'])}, macro-F1 {fmt(test['f1_macro'])} "
            f"(AUC per label: {per_label})"
        )
    return (
        f"{card.name}: test accuracy {fmt(test['accuracy'])}, macro-F1 {fmt(test['f1_macro'])}, "
        f"ROC-AUC {fmt(test['roc_auc'])}"
    )


def stop_process(process: subprocess.Popen, timeout: float = 10.0, *, group: bool = False) -> None:
    """Terminate a child process (with ``group``, its whole process group: a child started in a session of its
    own, and everything it started), killing it if it does not stop within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, None)):
        try:
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
