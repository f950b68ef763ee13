"""One benchmarked model in its own process, driven by ``bench.runner`` over JSON lines on stdin/stdout.

A process per model keeps load time (imports included) and resident memory honest, and lets the runner
interleave short timing rounds between models. Requests: ``load``, ``texts``, ``warmup``, ``single``,
``batch``, ``memory``, ``quit``; every reply is one JSON object (``{"error": ...}`` on failure).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sizes import MIB

if TYPE_CHECKING:  # the worker imports the package only when asked to load, to time that import
    from ..classifier import Classifier


def rss_mb() -> float:
    """This process's resident memory now, in MiB."""
    import psutil

    return psutil.Process().memory_info().rss / MIB


class Worker:
    def __init__(self) -> None:
        self.classifier: Classifier | None = None
        self.texts: list[str] = []

    def load(self, model: str, backend: str | None, models_dir: str | None, threads: int | None) -> dict:
        import nlp_classifier

        before = rss_mb()
        options: dict[str, Any] = {"num_threads": threads} if threads else {}
        start = time.perf_counter()
        self.classifier = nlp_classifier.load(model, backend=backend, models_dir=models_dir, **options)
        load_s = time.perf_counter() - start
        card = self.classifier.card
        return {
            "name": card.name,
            "backend": self.classifier.backend,
            "family": card.family,
            "task": card.task,
            "card_path": str(card.path),
            "load_s": load_s,
            "rss_before_load_mb": before,
            "rss_loaded_mb": rss_mb(),
        }

    def set_texts(self, texts: list[str]) -> dict:
        self.texts = texts
        tokenizer = getattr(self.classifier, "tokenizer", None)
        if tokenizer is None:
            return {}
        settings = getattr(self.classifier, "settings", None)
        if settings is not None:  # count the tokens of the texts as the model sees them (normalised or not)
            from ..backends.transformer_text import prepare_texts

            texts = prepare_texts(texts, settings)
        lengths = [len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]]
        return {"tokens": lengths}

    def warmup(self, single: int, batches: int, size: int) -> dict:
        self.single(0, single)
        self.batch(0, batches, size)
        return {}

    def single(self, start: int, n: int) -> dict:
        """Wall and process-CPU milliseconds of ``n`` one-text ``predict`` calls."""
        assert self.classifier is not None  # the runner sends "load" first
        predict, texts = self.classifier.predict, self.texts
        wall, cpu = [], []
        for i in range(start, start + n):
            text = [texts[i % len(texts)]]
            c0, t0 = time.process_time(), time.perf_counter()
            predict(text)
            t1, c1 = time.perf_counter(), time.process_time()
            wall.append((t1 - t0) * 1000)
            cpu.append((c1 - c0) * 1000)
        return {"wall_ms": wall, "cpu_ms": cpu}

    def batch(self, start: int, n: int, size: int) -> dict:
        """Wall seconds of ``n`` ``predict`` calls on ``size`` consecutive texts each."""
        assert self.classifier is not None  # the runner sends "load" first
        predict, texts = self.classifier.predict, self.texts
        seconds = []
        for b in range(start, start + n):
            first = (b * size) % len(texts)
            chunk = [texts[(first + j) % len(texts)] for j in range(size)]
            t0 = time.perf_counter()
            predict(chunk)
            seconds.append(time.perf_counter() - t0)
        return {"seconds": seconds}

    def memory(self) -> dict:
        return {"rss_mb": rss_mb(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB}


def serve(requests, replies) -> None:
    """Answer requests until ``quit`` or end of input."""
    from ..errors import NlpcError

    worker = Worker()
    handlers: dict[str, Callable[..., dict]] = {
        "load": worker.load,
        "texts": worker.set_texts,
        "warmup": worker.warmup,
        "single": worker.single,
        "batch": worker.batch,
        "memory": worker.memory,
    }
    for line in requests:
        request = json.loads(line)
        command = request.pop("cmd")
        if command == "quit":
            break
        try:
            reply = handlers[command](**request)
        except NlpcError as exc:
            reply = {"error": str(exc), "nlpc_error": True}
        except Exception as exc:  # reported to the runner, which names the model
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    # Replies go to the real stdout; anything else printed (progress bars, library chatter) goes to stderr.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
