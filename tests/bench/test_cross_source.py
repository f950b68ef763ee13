"""``benchmarks/cross_source.py``: the held-out source stays out of training, and the source-by-source comparison
of two families' results (merging batches, ahead / behind / level, the table, errors naming the file)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.benchmarks import benchmark_script, load_benchmark

from nlp_classifier.data import split_dataset
from nlp_classifier.errors import DataError

SCRIPT = benchmark_script("cross_source")


@pytest.fixture(scope="module")
def cross_source():
    return load_benchmark("cross_source")


def test_cross_source_benchmark_holds_the_source_out_of_training(cross_source):
    train, test = cross_source.held_out_data("toxigen")
    assert "toxigen" not in set(train.sources) and set(test.sources) == {"toxigen"}
    assert train.name == "hate" and len(test) == 73
    assert split_dataset(train).test.source_names() == [
        "davidson",
        "jigsaw",
        "implicit_hate",
        "gab",
        "stormfront",
        "hatemoji",
    ]


def _run(source: str, rows: int, accuracy: float, f1: float, auc: float, hateful: float) -> dict:
    metrics = {"accuracy": accuracy, "f1_macro": f1, "roc_auc": auc, "hateful_f1": hateful}
    return {"held_out": source, "test_rows": rows, "model": f"m_without_{source}", "held_out_metrics": metrics}


def _write(path: Path, *runs: dict) -> str:
    path.write_text(json.dumps({"family": "x", "command": "python ...", "runs": list(runs)}))
    return str(path)


def _compare(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_compare_merges_batches_and_says_where_each_family_wins(tmp_path):
    batch_a = _write(
        tmp_path / "a.json", _run("gab", 100, 0.9, 0.8, 0.85, 0.5), _run("toxigen", 73, 0.7, 0.6, 0.8, 0.7)
    )
    batch_b = _write(tmp_path / "b.json", _run("jigsaw", 50, 0.5, 0.4, 0.6, 0.3))
    baseline = _write(
        tmp_path / "tfidf.json",
        _run("gab", 100, 0.8, 0.7, 0.80, 0.4),
        _run("toxigen", 73, 0.7, 0.5, 0.9, 0.8),
        _run("jigsaw", 50, 0.6, 0.5, 0.7, 0.4),
        _run("davidson", 10, 0.6, 0.5, 0.7, 0.4),  # the other family may hold out more sources
    )
    per_label = {"hateful": {"f1": 0.66}}
    in_domain = tmp_path / "test.json"
    in_domain.write_text(
        json.dumps(
            {
                "metrics": {
                    "per_source": {"gab": {"accuracy": 0.95, "f1_macro": 0.9, "roc_auc": 0.97, "per_label": per_label}}
                }
            }
        )
    )
    out = tmp_path / "cmp.json"
    proc = _compare(
        "--compare", batch_a, batch_b, "--against", baseline, "--in-domain", str(in_domain), "--output", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    rows = {row["held_out"]: row for row in result["sources"]}
    assert list(rows) == ["gab", "toxigen", "jigsaw"]
    assert rows["gab"]["ahead"] == ["accuracy", "f1_macro", "roc_auc", "hateful_f1"]
    assert rows["toxigen"]["level"] == ["accuracy"] and rows["toxigen"]["ahead"] == ["f1_macro"]
    assert rows["toxigen"]["behind"] == ["roc_auc", "hateful_f1"]
    assert rows["jigsaw"]["behind"] == ["accuracy", "f1_macro", "roc_auc", "hateful_f1"]
    assert rows["gab"]["in_domain"]["hateful_f1"] == 0.66 and "in_domain" not in rows["jigsaw"]
    # the table bolds the better figure of each pair, and a level pair in neither column
    assert (
        "| gab | 100 | **0.900** / **0.800** / **0.850** / **0.500** | 0.800 / 0.700 / 0.800 / 0.400 | " in proc.stdout
    )
    assert (
        "| toxigen | 73 | 0.700 / **0.600** / 0.800 / 0.700 | 0.700 / 0.500 / **0.900** / **0.800** | - |"
        in proc.stdout
    )
    assert "ahead on all 4 figures on 1 of 3 sources: gab" in proc.stdout
    assert "toxigen: behind on roc_auc, hateful_f1; level on accuracy; ahead on f1_macro" in proc.stdout


def test_compare_errors_name_the_file_and_the_run(cross_source, tmp_path):
    one = _write(tmp_path / "one.json", _run("gab", 100, 0.9, 0.8, 0.85, 0.5))
    again = _write(tmp_path / "again.json", _run("gab", 100, 0.9, 0.8, 0.85, 0.5))
    with pytest.raises(DataError, match=r"again\.json, row 1: source 'gab' is also held out in .*one\.json"):
        cross_source.read_runs([one, again])
    broken = tmp_path / "broken.json"
    broken.write_text('{"runs": [')
    with pytest.raises(DataError, match=r"broken\.json: not JSON"):
        cross_source.read_runs([str(broken)])
    lacking = tmp_path / "lacking.json"
    lacking.write_text(json.dumps({"runs": [{"held_out": "gab", "test_rows": 1, "held_out_metrics": {"accuracy": 1}}]}))
    with pytest.raises(DataError, match=r"lacking\.json, row 1: held_out_metrics lacks f1_macro, roc_auc, hateful_f1"):
        cross_source.read_runs([str(lacking)])
    other_split = _write(tmp_path / "other.json", _run("gab", 99, 0.8, 0.7, 0.8, 0.4))
    with pytest.raises(DataError, match="99 test rows against 100: not the same split"):
        cross_source.compare(cross_source.read_runs([one]), cross_source.read_runs([other_split]), [other_split])
    missing = _write(tmp_path / "missing.json", _run("jigsaw", 50, 0.8, 0.7, 0.8, 0.4))
    proc = _compare("--compare", one, "--against", missing)
    assert proc.returncode == 2
    assert "missing.json: source 'gab' is not held out there" in proc.stderr
    assert "error:" in _compare("--compare", one).stderr  # --against is required with --compare


def test_transformer_settings_are_refused_for_the_tfidf_family_before_any_training():
    proc = _compare("--family", "tfidf", "--sources", "toxigen", "--seed", "13", "--set", "mixed_train_size=100")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "error: mixed_train_size, seed: transformer settings, which --family tfidf does not use" in proc.stderr
