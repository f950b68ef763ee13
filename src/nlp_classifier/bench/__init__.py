"""``nlpc bench``: load time, memory, one-text latency and batch throughput per model and backend, measured in
interleaved rounds on realistic texts."""

from .runner import BenchTarget, parse_targets, run_bench

__all__ = ["BenchTarget", "parse_targets", "run_bench"]
