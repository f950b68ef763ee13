"""Grid search over C and penalty from YAML, run locally and as tasks on a real local Ray."""

from __future__ import annotations

import pytest
from testkit.cli import ROOT, run_cli

from nlp_classifier.errors import ConfigError
from nlp_classifier.tasks import SINGLE_LABEL
from nlp_classifier.training.baseline_presets import build_pipeline, preset_config
from nlp_classifier.training.baselines import load_grid, train_baseline

GRID = ROOT / "configs" / "baseline_grid.yaml"


def test_example_grid_file():
    assert load_grid(GRID, "logistic_regression") == [{"C": c, "penalty": "l2"} for c in (0.5, 1.0, 2.0, 4.0)]
    svm = load_grid(GRID, "linear_svm")
    assert len(svm) == 6 and {"C": 0.1, "penalty": "l1"} in svm and {"C": 1.0, "penalty": "l2"} in svm


@pytest.mark.parametrize(
    "text, message",
    [
        ("linear_svm:\n  C: [1]\n", "no grid for 'logistic_regression'"),
        ("logistic_regression:\n  C: [1]\n  gamma: [2]\n", "unknown grid keys ['gamma']"),
        ("logistic_regression:\n  penalty: [l3]\n", "penalty must be one of l1, l2, got 'l3'"),
        ("logistic_regression:\n  C: [yes]\n", "C must be positive numbers, got True"),
        ("logistic_regression: [\n", "invalid YAML"),
    ],
)
def test_bad_grid_files(tmp_path, text, message):
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_grid(path, "logistic_regression")
    with pytest.raises(ConfigError, match="grid file not found"):
        load_grid(tmp_path / "missing.yaml", "logistic_regression")


def test_grid_search_keeps_the_best_validation_point(tmp_path, davidson_slice):
    grid = tmp_path / "grid.yaml"
    grid.write_text("linear_svm:\n  C: [0.01, 1.0]\n  penalty: [l2, l1]\n")
    card = train_baseline("davidson3", "linear_svm", data=davidson_slice, grid=grid, models_dir=tmp_path / "m")
    search = card.training_config["grid_search"]
    assert search["executor"] == "local" and search["file"] == str(grid)
    points = search["points"]
    assert [p["params"] for p in points] == [
        {"C": 0.01, "penalty": "l2"},
        {"C": 0.01, "penalty": "l1"},
        {"C": 1.0, "penalty": "l2"},
        {"C": 1.0, "penalty": "l1"},
    ]
    best = max(points, key=lambda p: p["validation_score"])
    assert len({p["validation_score"] for p in points}) > 1  # the grid really changes the model
    assert {k: card.training_config["pipeline"]["linear_svm"][k] for k in ("C", "penalty")} == best["params"]
    assert card.metrics["validation"]["f1_macro"] == pytest.approx(best["validation_score"], abs=1e-6)


def test_l1_logistic_regression_switches_to_saga():
    """lbfgs (the char preset's solver) cannot fit an L1 penalty; a grid point asking for one gets saga."""
    config = preset_config("char")
    config["logistic_regression"].update(penalty="l1", C=4.0)
    clf = build_pipeline("logistic_regression", config, SINGLE_LABEL).named_steps["clf"]
    assert (clf.solver, clf.l1_ratio, clf.C) == ("saga", 1.0, 4.0)
    config["logistic_regression"]["penalty"] = "l2"
    assert build_pipeline("logistic_regression", config, SINGLE_LABEL).named_steps["clf"].solver == "lbfgs"


def test_grid_on_local_ray_matches_the_local_run(tmp_path, davidson_slice, capfd):
    """The same grid as Ray tasks (a real local Ray, 2 CPUs) gives the same scores, and Ray is shut down after."""
    import ray

    grid = tmp_path / "grid.yaml"
    grid.write_text("linear_svm:\n  C: [0.01, 1.0]\n")
    local = train_baseline(
        "davidson3", "linear_svm", data=davidson_slice, grid=grid, name="local", models_dir=tmp_path / "m"
    )
    remote = train_baseline(
        "davidson3",
        "linear_svm",
        data=davidson_slice,
        grid=grid,
        name="on_ray",
        models_dir=tmp_path / "m",
        use_ray=True,
    )
    assert "Running 2 grid points as Ray tasks (2 CPUs)" in capfd.readouterr().err
    assert not ray.is_initialized()
    assert remote.training_config["grid_search"]["executor"] == "ray"
    assert remote.training_config["grid_search"]["points"] == local.training_config["grid_search"]["points"]
    assert remote.metrics["test"]["f1_macro"] == pytest.approx(local.metrics["test"]["f1_macro"])
    assert remote.verify() == []


def test_ray_needs_a_grid(tmp_path):
    proc = run_cli("train", "baseline", "--ray", models_dir=tmp_path)
    assert proc.returncode == 2 and "--ray runs the points of a --grid" in proc.stderr
