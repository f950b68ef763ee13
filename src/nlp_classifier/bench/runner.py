"""``run_bench``: load time, resident memory, one-text latency and batch throughput of models and backends.

Each (model, backend) runs in its own worker process (``bench.worker``), so its load time includes the imports
it needs and its memory is its own. After a warm-up, timing runs in ``rounds`` short rounds, and every round
visits the models in a rotated order, so drift in the machine's load hits all of them alike. Texts are a
seeded sample of the test split of each model's task.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..card import now_iso
from ..defaults import EXAMPLE_TEXTS
from ..errors import ConfigError, NlpcError
from ..progress import track

SINGLE_CALLS = 300
BATCHES = 20
BATCH_SIZE = 64
ROUNDS = 5
WARMUP_CALLS = 20
TEXTS = 1280
# Pause before each model's turn, so the thread pools of the model that ran before (PyTorch's OpenMP threads, ONNX
# Runtime's workers) stop spinning and do not eat into the next model's time.
SETTLE_S = 0.3


@dataclass(frozen=True)
class BenchTarget:
    """One model with one backend (None: the model's default backend)."""

    model: str
    backend: str | None = None

    @property
    def label(self) -> str:
        return self.model + (f":{self.backend}" if self.backend else "")


def parse_targets(specs: Sequence[str]) -> list[BenchTarget]:
    """``NAME`` or ``NAME:BACKEND[,BACKEND...]`` -> one target per backend."""
    out: list[BenchTarget] = []
    for spec in specs:
        name, _, backends = spec.partition(":")
        if not name:
            raise ConfigError(f"bad model spec '{spec}': expected NAME or NAME:BACKEND[,BACKEND]")
        if backends:
            out.extend(BenchTarget(name, b.strip()) for b in backends.split(",") if b.strip())
        else:
            out.append(BenchTarget(name))
    if len(set(out)) != len(out):
        raise ConfigError("the same model and backend is listed twice")
    return out


class _Process:
    """A worker process and its request/reply pipe."""

    def __init__(self, target: BenchTarget, env: dict):
        self.target = target
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nlp_classifier.bench.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both opened as pipes above
        self.requests, self.replies = self.proc.stdin, self.proc.stdout

    def ask(self, cmd: str, **payload) -> dict:
        try:
            self.requests.write(json.dumps({"cmd": cmd, **payload}) + "\n")
            self.requests.flush()
            line = self.replies.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self.log.seek(0)
            tail = self.log.read()[-2000:]
            raise NlpcError(f"bench worker for {self.target.label} died during '{cmd}':\n{tail}")
        reply = json.loads(line)
        if "error" in reply:
            raise (ConfigError if reply.get("nlpc_error") else NlpcError)(f"{self.target.label}: {reply['error']}")
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.requests.write(json.dumps({"cmd": "quit"}) + "\n")
                self.requests.flush()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def bench_texts(card_path: str, n: int, seed: int = 0) -> tuple[list[str], str]:
    """A seeded sample of ``n`` texts from the test split of a model's data, and where they came from."""
    from ..card import ModelCard
    from ..export.agreement import test_split

    test, note = test_split(ModelCard.read(card_path))
    if test is None:
        return list(EXAMPLE_TEXTS), f"{len(EXAMPLE_TEXTS)} example texts ({note})"
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(test), size=min(n, len(test)), replace=False))
    return [test.texts[i] for i in pick], note


def length_stats(values: Sequence[int]) -> dict:
    """Median, 90th percentile and maximum of some lengths."""
    arr = np.asarray(values)
    return {"p50": float(np.percentile(arr, 50)), "p90": float(np.percentile(arr, 90)), "max": int(arr.max())}


def latency_stats(ms: Sequence[float]) -> dict:
    """p50/p90/p99/mean of per-call milliseconds."""
    arr = np.asarray(ms)
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return {"n": int(arr.size), "p50": float(p50), "p90": float(p90), "p99": float(p99), "mean": float(arr.mean())}


def machine_info() -> dict:
    """What the numbers were measured on."""
    info = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": None,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def run_bench(
    targets: Sequence[BenchTarget],
    *,
    models_dir: str | Path | None = None,
    single: int = SINGLE_CALLS,
    batches: int = BATCHES,
    batch_size: int = BATCH_SIZE,
    rounds: int = ROUNDS,
    warmup: int = WARMUP_CALLS,
    n_texts: int = TEXTS,
    threads: int | None = None,
    seed: int = 0,
    command: str | None = None,
    settle_s: float = SETTLE_S,
) -> dict:
    """Benchmark every target and return the results (see the module docstring for the method)."""
    if not targets:
        raise ConfigError("nothing to benchmark: name at least one model")
    if single < 1 or batches < 1 or batch_size < 1 or rounds < 1 or n_texts < 1:
        raise ConfigError("--single, --batches, --batch-size, --rounds and --texts must be at least 1")
    if warmup < 0:
        raise ConfigError(f"--warmup must be 0 or more, got {warmup}")
    if threads is not None and threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {threads} (leave it out for the runtime's own)")
    if rounds > min(single, batches):
        raise ConfigError(f"{rounds} rounds need at least {rounds} single calls and {rounds} batches")
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    if models_dir:
        env["NLPC_MODELS_DIR"] = str(Path(models_dir).resolve())
    started, load_start = now_iso(), os.getloadavg()
    workers: list[_Process] = []
    try:
        results: list[dict[str, Any]] = []
        texts_info: dict[str, dict[str, Any]] = {}
        samples: dict[str, tuple[list[str], str]] = {}
        for target in track(targets, "Loading models", total=len(targets)):
            worker = _Process(target, env)
            workers.append(worker)
            loaded = worker.ask(
                "load",
                model=target.model,
                backend=target.backend,
                models_dir=str(models_dir) if models_dir else None,
                threads=threads,
            )
            key = loaded["card_path"]
            if key not in samples:
                samples[key] = bench_texts(key, n_texts, seed)
            texts, source = samples[key]
            tokens = worker.ask("texts", texts=texts).get("tokens")
            info = {
                "task": loaded["task"],
                "source": source,
                "n": len(texts),
                "chars": length_stats([len(t) for t in texts]),
                "words": length_stats([len(t.split()) for t in texts]),
            }
            texts_info.setdefault(loaded["task"], info)
            worker.ask("warmup", single=warmup, batches=max(1, warmup // 10), size=batch_size)
            results.append(
                {
                    "model": loaded["name"],
                    "requested_backend": target.backend,
                    "backend": loaded["backend"],
                    "family": loaded["family"],
                    "task": loaded["task"],
                    "load_s": loaded["load_s"],
                    "rss_before_load_mb": loaded["rss_before_load_mb"],
                    "rss_loaded_mb": loaded["rss_loaded_mb"],
                    "tokens": length_stats(tokens) if tokens else None,
                    "_wall": [],
                    "_cpu": [],
                    "_batch": [],
                }
            )
        per_round_single = [single // rounds + (r < single % rounds) for r in range(rounds)]
        per_round_batches = [batches // rounds + (r < batches % rounds) for r in range(rounds)]
        done_single = done_batches = 0
        for r in track(range(rounds), "Timing rounds", total=rounds):
            order = [(r + k) % len(workers) for k in range(len(workers))]
            for k in order:
                time.sleep(settle_s)
                reply = workers[k].ask("single", start=done_single, n=per_round_single[r])
                results[k]["_wall"] += reply["wall_ms"]
                results[k]["_cpu"] += reply["cpu_ms"]
            for k in order:
                time.sleep(settle_s)
                reply = workers[k].ask("batch", start=done_batches, n=per_round_batches[r], size=batch_size)
                results[k]["_batch"] += reply["seconds"]
            done_single += per_round_single[r]
            done_batches += per_round_batches[r]
        for worker, result in zip(workers, results):
            memory = worker.ask("memory")
            wall, cpu, batch_s = result.pop("_wall"), result.pop("_cpu"), np.asarray(result.pop("_batch"))
            result.update(
                {
                    "rss_mb": memory["rss_mb"],
                    "peak_rss_mb": memory["peak_rss_mb"],
                    "model_rss_mb": memory["rss_mb"] - result["rss_before_load_mb"],
                    "single_ms": latency_stats(wall),
                    "single_cpu_ms": latency_stats(cpu),
                    "batch": {
                        "size": batch_size,
                        "n_batches": int(batch_s.size),
                        "texts_per_s_median": float(batch_size / np.median(batch_s)),
                        "texts_per_s_mean": float(batch_size * batch_s.size / batch_s.sum()),
                        "batch_ms_p50": float(np.median(batch_s) * 1000),
                    },
                }
            )
    finally:
        for worker in workers:
            worker.close()
    return {
        "started_at": started,
        "finished_at": now_iso(),
        "command": command,
        "machine": machine_info(),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "settings": {
            "single_calls": single,
            "batches": batches,
            "batch_size": batch_size,
            "rounds": rounds,
            "warmup_calls": warmup,
            "texts": n_texts,
            "threads": threads,
            "seed": seed,
            "settle_s": settle_s,
            "single_call": "classifier.predict([text])",
            "batch_call": f"classifier.predict(texts[i:i+{batch_size}])",
        },
        "texts": texts_info,
        "results": results,
    }
