"""``nlpc bench`` on a TF-IDF baseline and a tiny transformer (PyTorch and ONNX): valid JSON, sane numbers."""

from __future__ import annotations

import json
import shutil

import pytest
from testkit.cli import run_cli
from testkit.tiny_transformers import make_tiny_model

from nlp_classifier.bench import BenchTarget, parse_targets
from nlp_classifier.errors import ConfigError

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def bench_models(tmp_path_factory, baseline_models_dir):
    """The seed logistic regression and a tiny BERT with an fp32 ONNX export, in one models folder."""
    from nlp_classifier.export import export_onnx

    models = tmp_path_factory.mktemp("bench-models")
    (models / "baselines").mkdir()
    for file in (baseline_models_dir / "baselines").glob("logistic_regression[._]*"):
        shutil.copy(file, models / "baselines" / file.name)
    make_tiny_model(models, "tiny", "davidson", "bert")
    export_onnx("tiny", models_dir=models, check_limit=30, num_threads=1)
    return models


def test_bench_writes_valid_json(bench_models, tmp_path):
    out = tmp_path / "bench.json"
    proc = run_cli(
        "bench",
        "logistic_regression",
        "tiny:torch,onnx",
        "--single",
        "12",
        "--batches",
        "4",
        "--rounds",
        "2",
        "--warmup",
        "2",
        "--texts",
        "40",
        "--batch-size",
        "8",
        "--threads",
        "1",
        "--output",
        str(out),
        models_dir=bench_models,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "logistic_regression" in proc.stdout and "onnx" in proc.stdout and "texts (davidson): 40" in proc.stdout
    report = json.loads(out.read_text())
    assert report["settings"]["single_calls"] == 12 and report["settings"]["rounds"] == 2
    assert report["machine"]["cpus"] >= 1 and len(report["load_average"]["start"]) == 3
    assert report["texts"]["davidson"]["n"] == 40 and report["texts"]["davidson"]["chars"]["p50"] > 10
    results = {(r["model"], r["backend"]): r for r in report["results"]}
    assert set(results) == {("logistic_regression", "fast"), ("tiny", "torch"), ("tiny", "onnx")}
    for r in results.values():
        single = r["single_ms"]
        assert single["n"] == 12 and 0 < single["p50"] <= single["p90"] <= single["p99"]
        assert r["batch"]["n_batches"] == 4 and r["batch"]["texts_per_s_median"] > 0
        assert r["load_s"] > 0 and r["rss_mb"] > 30 and r["peak_rss_mb"] >= r["rss_mb"] * 0.9
    assert results[("tiny", "onnx")]["tokens"]["p50"] > 5 and results[("logistic_regression", "fast")]["tokens"] is None


def test_bench_names_the_export_a_backend_needs(bench_models, tmp_path):
    proc = run_cli(
        "bench",
        "tiny:onnx-int8",
        "--single",
        "2",
        "--batches",
        "1",
        "--rounds",
        "1",
        "--output",
        str(tmp_path / "x.json"),
        models_dir=bench_models,
    )
    assert proc.returncode == 2
    assert "nlpc export onnx --model tiny --quantize int8" in proc.stdout + proc.stderr
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--threads", "0"], "--threads must be at least 1, got 0"),
        (["--threads", "-2"], "--threads must be at least 1, got -2"),
        (["--warmup", "-1"], "--warmup must be 0 or more, got -1"),
        (["--rounds", "0"], "--rounds and --texts must be at least 1"),
    ],
)
def test_bad_counts_are_refused_before_any_model_runs(flags, message, bench_models, tmp_path):
    """--threads 0 or -2 used to run the whole benchmark with the runtime's default and record it as asked."""
    result = run_cli(
        "bench", "logistic_regression", *flags, "--output", str(tmp_path / "x.json"), models_dir=bench_models
    )
    assert result.returncode == 2 and message in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "x.json").exists()


def test_model_specs():
    assert parse_targets(["a", "b:torch,onnx"]) == [
        BenchTarget("a"),
        BenchTarget("b", "torch"),
        BenchTarget("b", "onnx"),
    ]
    with pytest.raises(ConfigError, match="listed twice"):
        parse_targets(["a:fast", "a:fast"])
    with pytest.raises(ConfigError, match="bad model spec"):
        parse_targets([":onnx"])
