"""The help of `nlpc train` names what the commands accept: every built-in task and every shipped preset (the
multi-source `hate` task and its preset were missing from it)."""

from __future__ import annotations

import pytest
from testkit.cli import run_cli

from nlp_classifier.tasks import TASKS
from nlp_classifier.training.transformer_config import preset_names


@pytest.mark.parametrize("kind", ["baseline", "transformer"])
def test_train_help_lists_every_built_in_task(kind):
    result = run_cli("train", kind, "--help", check=True)
    text = " ".join(result.stdout.split())
    assert f"a built-in task ({', '.join(TASKS)}" in text
    assert "hate" in TASKS


def test_train_transformer_help_lists_every_shipped_preset():
    text = " ".join(run_cli("train", "transformer", "--help", check=True).stdout.split())
    assert f"{' | '.join(preset_names())} (default: standard" in text and "hate" in preset_names()
