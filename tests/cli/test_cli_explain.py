"""``nlpc explain`` through the real CLI on small real baselines: JSON, plain and coloured output, errors."""

from __future__ import annotations

import json

import pytest
from testkit.cli import run_cli
from testkit.models import train_small_baseline

import nlp_classifier

TEXTS = ["you are a stupid worthless idiot 😡", "have a lovely day &amp; thanks @friend"]


@pytest.fixture(scope="module")
def explain_models_dir(tmp_path_factory):
    """A binary Davidson and a multi-label Jigsaw baseline, trained on a few hundred rows each."""
    folder = tmp_path_factory.mktemp("explain-models")
    data = tmp_path_factory.mktemp("explain-data")
    for task in ("davidson", "jigsaw"):
        train_small_baseline(task, folder, data)
    return folder


def test_json_is_the_library_explanation(explain_models_dir):
    proc = run_cli(
        "explain", "--model", "logistic_regression", "--json", *TEXTS, models_dir=explain_models_dir, check=True
    )
    printed = json.loads(proc.stdout)
    clf = nlp_classifier.load("logistic_regression", models_dir=explain_models_dir)
    expected = [e.to_dict() for e in clf.explain(TEXTS)]
    assert printed == expected
    for explanation, text in zip(printed, TEXTS):
        assert explanation["text"] == text and explanation["method"] == "linear"
        assert [text[w["start"] : w["end"]] for w in explanation["words"]] == [w["word"] for w in explanation["words"]]
    assert printed[0]["label"] == clf.predict(TEXTS[0])[0].label


def test_plain_output_puts_scores_after_the_words(explain_models_dir):
    clf = nlp_classifier.load("logistic_regression_jigsaw", models_dir=explain_models_dir)
    (explanation,) = clf.explain(TEXTS[0], "insult")
    proc = run_cli(
        "explain", "--model", "logistic_regression_jigsaw", "--label", "insult", TEXTS[0],
        models_dir=explain_models_dir, check=True,
    )  # fmt: skip
    lines = proc.stdout.splitlines()
    assert lines[0] == f"insult {explanation.score:.4f} (linear, logistic_regression_jigsaw)"
    top = explanation.top(1)[0]
    assert f"{top.word}[{top.score:+.3f}]" in lines[1]
    assert "\x1b[" not in proc.stdout
    assert lines[2].startswith(f"  towards insult: {top.word} {top.score:+.3f}")


def test_terminal_output_colours_words_by_direction(explain_models_dir):
    clf = nlp_classifier.load("logistic_regression", models_dir=explain_models_dir)
    text = TEXTS[0]
    (explanation,) = clf.explain(text, "Hate Speech")
    proc = run_cli(
        "explain", "--model", "logistic_regression", "--label", "Hate Speech", text,
        models_dir=explain_models_dir, check=True, env={"FORCE_COLOR": "1", "NO_COLOR": ""},
    )  # fmt: skip
    strongest = max(explanation.words, key=lambda w: abs(w.score))
    background = "41" if strongest.score > 0 else "42"  # red towards the label, green against
    assert f"\x1b[1;37;{background}m{strongest.word}\x1b[0m" in proc.stdout
    negative = [w for w in explanation.words if w.score < 0]
    if negative:
        assert any(f"32m{w.word}\x1b[0m" in proc.stdout or f"42m{w.word}\x1b[0m" in proc.stdout for w in negative)
    plain = run_cli(
        "explain", "--model", "logistic_regression", "--no-color", text,
        models_dir=explain_models_dir, check=True, env={"FORCE_COLOR": "1"},
    )  # fmt: skip
    assert "\x1b[" not in plain.stdout and f"{strongest.word}[" in plain.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "toxic"], "error: unknown label 'toxic'; labels are: Regular Speech, Hate Speech"),
        (["--method", "shap"], "error: unknown explanation method 'shap'; use one of linear, occlusion"),
        (["--method", "integrated_gradients"], "is not available for model 'logistic_regression' (backend fast)"),
    ],
)
def test_bad_label_or_method_is_one_clear_line(explain_models_dir, args, message):
    proc = run_cli("explain", "--model", "logistic_regression", *args, "hello", models_dir=explain_models_dir)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())
