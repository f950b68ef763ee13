"""Chunk progress in a log: each line says the rows so far, the rate and, where the job knows what is left, an ETA
at the rate of the rows handled so far, this chunk's included."""

from __future__ import annotations

from nlp_classifier import progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


def test_log_lines_give_the_rate_and_an_eta_from_the_rows_done_so_far(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progress, "time", clock)
    monkeypatch.setattr(progress, "enabled", lambda: False)  # a log file, not a terminal
    with progress.console.capture() as captured, progress.RowProgress("Scoring") as rows:
        clock.now += 60.0
        rows.advance(600, 0.25, "600/2,400 texts", rows_left=1800)  # 10 rows/s, 1,800 left: 3 minutes
        clock.now += 60.0
        rows.advance(0, 0.25, "chunk done in an earlier run")  # no rows left given: no ETA
    lines = captured.get().splitlines()
    assert lines == [
        "600/2,400 texts (600 rows, 10 rows/s, ETA 3.0 min)",
        "chunk done in an earlier run (600 rows, 5 rows/s)",
    ]
