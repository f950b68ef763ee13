"""The background training's state as the models folder keeps it: the progress line a run logs and reads back,
whether the run is alive (its lock on the log), and the status file."""

from __future__ import annotations

import fcntl
import subprocess
import sys

from nlp_classifier.card import ModelCard
from nlp_classifier.locks import held_by_another
from nlp_classifier.training.background_status import (
    FAILED,
    FINISH,
    INTERRUPTED,
    LOG_NAME,
    RUNNING,
    STOPPED,
    SUCCEEDED,
    TRAIN,
    describe,
    format_progress,
    left_unfinished,
    parse_progress,
    read_status,
    write_status,
)


def test_the_progress_line_reads_back_from_a_log():
    line = format_progress(800, 5625, 0.142, {"loss": 0.21}, 14 * 60 + 10, 3600 + 25 * 60 + 30)
    assert line == "step 800/5625 (14%) epoch 0.14 | {'loss': 0.21} | elapsed 0:14:10 ETA 1:25:30"
    log = f"loading\n{format_progress(50, 5625, 0.01, {}, 54, 6037)}\n\x1b[32m{line}\x1b[0m\nsaving checkpoint\n"
    assert parse_progress(log) == {"step": 800, "total": 5625, "elapsed_s": 850, "eta_s": 5130}
    assert parse_progress("loading\nsaving checkpoint\n") is None
    assert parse_progress("step 5/10 of something else") is None


def test_the_description_follows_the_run_from_its_start_past_its_last_step():
    running = {"state": RUNNING, "model": "minilm_hate", "progress": None}
    assert "minilm_hate is being trained in the background (starting)" in describe(running)
    midway = {**running, "progress": {"step": 2000, "total": 5625, "elapsed_s": 1200, "eta_s": 2175}}
    assert "step 2,000 of 5,625, about 36 min of training left, then about 10 more minutes" in describe(midway)
    # after the last step the run still tunes its threshold, scores the test split and exports: no more "steps left"
    done = {**running, "progress": {"step": 5625, "total": 5625, "elapsed_s": 3400, "eta_s": 0}}
    assert describe(done).startswith(
        "minilm_hate has finished training (5,625 steps) and is being tested, exported and calibrated"
    )
    assert "min of training left" not in describe(done)
    assert describe({**done, "state": INTERRUPTED}) is None and describe({"state": "none"}) is None


def test_a_run_is_alive_while_a_process_holds_its_log(tmp_path):
    log = tmp_path / LOG_NAME
    assert not held_by_another(log)  # no log at all
    log.write_text("")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'ab'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('held', flush=True); time.sleep(60)",
            str(log),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert held_by_another(log)
    finally:
        holder.kill()
        holder.wait()
    assert not held_by_another(log)


def test_the_status_starts_afresh_with_each_run_and_reads_only_this_runs_log(tmp_path):
    assert read_status(tmp_path) == {"state": "none"}
    log = tmp_path / LOG_NAME
    log.write_text(format_progress(5000, 5625, 0.9, {}, 3600, 400) + "\nthe earlier run ended\n")
    write_status(tmp_path, state=STOPPED, exit_status=-15, message="an earlier run")
    write_status(
        tmp_path, new_run=True, state=RUNNING, model="m", log=str(log), log_offset=log.stat().st_size, started_at="now"
    )
    with log.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        status = read_status(tmp_path)
        assert status["state"] == RUNNING and "exit_status" not in status and "message" not in status
        assert status["progress"] is None and status["last_line"] is None
        held.write(format_progress(10, 5625, 0.0, {}, 20, 9000) + "\n")
    status = read_status(tmp_path)
    assert status["state"] == INTERRUPTED and status["progress"]["step"] == 10
    write_status(tmp_path, message="kept")  # later writes merge into the run's status
    assert read_status(tmp_path)["model"] == "m" and read_status(tmp_path)["message"] == "kept"
    (tmp_path / "background_training.json").write_text("{not json")
    assert read_status(tmp_path) == {"state": "none"}


def test_a_model_saved_by_a_run_that_was_cut_short_is_left_unfinished():
    started, ended = "2026-12-07T05:00:00+00:00", "2026-12-07T06:12:30+00:00"
    stopped = {"state": STOPPED, "model": "minilm_hate", "purpose": TRAIN, "started_at": started, "finished_at": ended}
    saved = card_saved("2026-12-07T06:10:00+00:00")
    assert left_unfinished(stopped, saved)  # stopped while exporting the model it had saved
    assert left_unfinished({**stopped, "state": INTERRUPTED, "finished_at": None}, saved)
    assert left_unfinished(stopped, card_saved("2026-12-07T06:10:00+00:00", exported=True))  # not calibrated
    assert left_unfinished(stopped, card_saved("2026-12-07T06:10:00+00:00", calibrated=True))  # not exported
    # both done (a killed run's command went on to the end): nothing left to finish
    assert not left_unfinished(stopped, card_saved("2026-12-07T06:10:00+00:00", exported=True, calibrated=True))
    # the run ended on its own, or stopped with nothing saved, or was another model's: nothing to finish
    for state in (SUCCEEDED, FAILED, RUNNING):
        assert not left_unfinished({**stopped, "state": state}, saved)
    assert not left_unfinished(stopped, None)
    assert not left_unfinished({**stopped, "model": "other"}, saved)
    # saved after the stopped run had ended (trained by hand since), or before it started: not that run's model
    assert not left_unfinished(stopped, card_saved("2026-12-07T07:00:00+00:00"))
    assert not left_unfinished(stopped, card_saved("2026-12-07T04:00:00+00:00"))
    # a finishing run that was itself cut short: the model it was finishing still is unfinished
    again = {**stopped, "purpose": FINISH, "started_at": "2026-12-07T08:00:00+00:00"}
    assert left_unfinished(again, saved)
    assert not left_unfinished({**again, "state": SUCCEEDED}, saved)
    assert not left_unfinished({"state": "none"}, saved)


def card_saved(created_at: str, *, exported: bool = False, calibrated: bool = False) -> ModelCard:
    """The card of a ``minilm_hate`` saved at ``created_at``, with its int8 export and calibrator if told."""
    files = {"model.safetensors": "0" * 64, **({"model.int8.onnx": "1" * 64} if exported else {})}
    return ModelCard(
        name="minilm_hate",
        family="transformer",
        task="hate",
        labels=["not_hateful", "hateful"],
        problem_type="single_label",
        artifact=".",
        files=files,
        calibration={"file": "calibration.json", "method": "isotonic"} if calibrated else None,
        created_at=created_at,
    )


def test_the_description_of_a_finishing_run_says_it_was_saved_and_is_being_finished():
    finishing = {"state": RUNNING, "model": "minilm_hate", "purpose": FINISH, "progress": None}
    assert describe(finishing).startswith(
        "minilm_hate was saved, but what follows its training (the int8 export and the calibration) was cut short; "
        "it is being finished in the background (about 6 minutes on 2 cores)"
    )
    assert describe({**finishing, "state": STOPPED}) is None
