"""The Makefile's `minilm` and `run` targets, read with `make -n` (they train for an hour, and serve): `minilm` runs
real ``nlpc`` commands that train the `hate` preset, distilled from the bundled teacher scores, and export the model
that preset writes, the one the service prefers; `run` serves while it trains that model in the background."""

from __future__ import annotations

import shlex

from testkit.cli import DRY_RUN_VENV, make_dry_run

from nlp_classifier.cli import build_parser
from nlp_classifier.defaults import PREFERRED_MODELS
from nlp_classifier.training.distillation import score_file_path
from nlp_classifier.training.transformer_config import parse_assignment, read_preset


def nlpc_commands(target: str, *variables: str) -> list[list[str]]:
    """The ``nlpc`` command lines ``make -n`` prints for ``target``, as argv lists without the program."""
    lines = [shlex.split(line) for line in make_dry_run(target, *variables).splitlines()]
    return [argv[1:] for argv in lines if argv and argv[0] == f"{DRY_RUN_VENV}/bin/nlpc"]


def test_minilm_trains_the_hate_preset_then_exports_the_model_the_service_prefers():
    parser = build_parser()
    commands = [parser.parse_args(argv) for argv in nlpc_commands("minilm")]
    assert [(c.command, getattr(c, "kind", None)) for c in commands] == [
        ("train", "transformer"),
        ("export", "onnx"),
        ("calibrate", None),
    ]
    train, export, calibrate = commands
    assert train.preset == "hate" and train.name is None and train.output is None
    assert not train.resume
    settings = dict(parse_assignment(item) for item in train.set)
    # distilled from the bundled teacher scores, which cover the preset's training texts (test_distillation.py)
    assert score_file_path(settings["teacher_scores"]).is_file()
    assert 0 < settings["distillation_weight"] <= 1 and settings["class_weights"] is False
    assert export.model == read_preset("hate")["name"] == PREFERRED_MODELS[0]
    assert export.quantize == "int8"
    # calibrated last, so the calibrator is fitted on the scores of the export the service serves
    assert calibrate.model == PREFERRED_MODELS[0] and calibrate.method == "isotonic"


def test_minilm_leaves_the_scores_uncalibrated_when_told():
    assert [argv[0] for argv in nlpc_commands("minilm", "CALIBRATION=")] == ["train", "export"]


def test_minilm_passes_train_flags_through_so_an_interrupted_run_can_resume():
    train, *_ = (build_parser().parse_args(argv) for argv in nlpc_commands("minilm", "TRAIN_FLAGS=--resume"))
    assert train.resume


def test_minilm_trains_on_the_labels_alone_when_told():
    train, *_ = (build_parser().parse_args(argv) for argv in nlpc_commands("minilm", "DISTIL_FLAGS="))
    assert train.preset == "hate" and train.set == []


def test_run_trains_the_transformer_in_the_background_by_the_minilm_target_resuming_and_with_previews():
    (run,) = (build_parser().parse_args(argv) for argv in nlpc_commands("run") if argv[0] == "run")
    program, *options, target, flags = shlex.split(run.train_in_background)
    assert (program, target) == ("make", "minilm") and options == ["--no-print-directory"]
    variable, value = flags.split("=", 1)
    plain = nlpc_commands("minilm")
    train, export, _ = (build_parser().parse_args(argv) for argv in nlpc_commands("minilm", f"{variable}={value}"))
    assert train.resume_if_interrupted and not train.resume and not train.restart
    assert train.preview  # the API serves the best checkpoint so far while it trains (training/preview.py)
    # otherwise the very command `make minilm` runs
    assert nlpc_commands("minilm", f"{variable}={value}") == [
        plain[0] + ["--resume-if-interrupted", "--preview"],
        *plain[1:],
    ]
    assert export.model == PREFERRED_MODELS[0]


def test_run_serves_without_background_training_when_told():
    (run,) = (build_parser().parse_args(argv) for argv in nlpc_commands("run", "BACKGROUND=") if argv[0] == "run")
    assert run.train_in_background is None and run.finish_in_background is None


def test_run_finishes_a_model_a_stopped_run_saved_by_what_minilm_runs_after_training():
    (run,) = (build_parser().parse_args(argv) for argv in nlpc_commands("run") if argv[0] == "run")
    program, *options, target = shlex.split(run.finish_in_background)
    assert (program, target) == ("make", "minilm-finish") and options == ["--no-print-directory"]
    # the export and the calibration of `make minilm`, nothing trained
    assert nlpc_commands("minilm-finish") == nlpc_commands("minilm")[1:]
    assert nlpc_commands("minilm-finish", "CALIBRATION=") == nlpc_commands("minilm", "CALIBRATION=")[1:]
