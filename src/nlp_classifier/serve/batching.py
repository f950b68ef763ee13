"""Micro-batching: concurrent requests for one model are coalesced into a single model call, run off the event
loop. A batch closes when it holds ``max_batch_size`` texts or when its oldest request has waited
``max_wait_ms`` (only while requests arrive together: a lone request goes at once); while one batch runs, the
next one fills up, so batches grow with the load."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from ..classifier import Prediction

PredictFn = Callable[[list[str], Mapping[str, float]], list[Prediction]]
ObserveFn = Callable[[int, float], None]


@dataclass
class _Job:
    texts: list[str]
    thresholds: dict[str, float]
    future: asyncio.Future
    queued_at: float = field(default_factory=time.perf_counter)

    @property
    def key(self) -> tuple:
        return tuple(sorted(self.thresholds.items()))


class MicroBatcher:
    """Runs ``predict(texts, thresholds)`` on ``executor`` for batches of queued jobs; jobs with different
    thresholds share the batch but get separate ``predict`` calls. ``observe(n_texts, seconds)`` is called after
    each batch (for metrics)."""

    def __init__(
        self,
        predict: PredictFn,
        executor: Executor,
        *,
        max_batch_size: int = 32,
        max_wait_ms: float = 2.0,
        observe: ObserveFn | None = None,
    ):
        self._predict = predict
        self._executor = executor
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000.0
        self._observe = observe
        self._queue: deque[_Job] = deque()
        self._queued_texts = 0
        self._full = asyncio.Event()
        self._runner: asyncio.Task | None = None
        self._last_batch_jobs = 0

    @property
    def executor(self) -> Executor:
        """The executor model calls run on (explanations run there too, so they share its threads)."""
        return self._executor

    async def submit(self, texts: Sequence[str], thresholds: Mapping[str, float]) -> list[Prediction]:
        """Queue ``texts`` and wait for their predictions (in order)."""
        loop = asyncio.get_running_loop()
        job = _Job(list(texts), dict(thresholds), loop.create_future())
        self._queue.append(job)
        self._queued_texts += len(job.texts)
        if self._runner is None:
            self._runner = loop.create_task(self._drain())
        elif self._queued_texts >= self.max_batch_size:
            self._full.set()
        return await job.future

    async def _drain(self) -> None:
        """Form and run batches until the queue is empty (a new runner starts with the next job)."""
        try:
            while self._queue:
                await self._wait_for_more()
                batch = self._take()
                if batch:
                    await self._run(batch)
        finally:
            self._runner = None

    async def _wait_for_more(self) -> None:
        """Hold the batch open for companions, but only while requests arrive together (the last batch or the
        queue holds several), so a lone request is never delayed."""
        if self._last_batch_jobs <= 1 and len(self._queue) <= 1:
            return
        deadline = self._queue[0].queued_at + self.max_wait_s
        remaining = deadline - time.perf_counter()
        if remaining <= 0 or self._queued_texts >= self.max_batch_size:
            return
        self._full.clear()
        try:
            await asyncio.wait_for(self._full.wait(), remaining)
        except asyncio.TimeoutError:
            pass

    def _take(self) -> list[_Job]:
        """Jobs from the front of the queue up to ``max_batch_size`` texts (a bigger single job goes alone);
        jobs whose caller has gone away are dropped."""
        batch: list[_Job] = []
        size = 0
        while self._queue:
            job = self._queue[0]
            if batch and size + len(job.texts) > self.max_batch_size:
                break
            self._queue.popleft()
            self._queued_texts -= len(job.texts)
            if job.future.done():
                continue
            batch.append(job)
            size += len(job.texts)
        return batch

    async def _run(self, batch: list[_Job]) -> None:
        self._last_batch_jobs = len(batch)
        groups: dict[tuple, list[_Job]] = {}
        for job in batch:
            groups.setdefault(job.key, []).append(job)
        start = time.perf_counter()
        try:
            outputs = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._predict_groups, list(groups.values())
            )
        except Exception as exc:  # the model failed: every caller in the batch gets the error
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        if self._observe:
            self._observe(sum(len(job.texts) for job in batch), time.perf_counter() - start)
        for jobs, predictions in zip(groups.values(), outputs):
            offset = 0
            for job in jobs:
                if not job.future.done():
                    job.future.set_result(predictions[offset : offset + len(job.texts)])
                offset += len(job.texts)

    def _predict_groups(self, groups: list[list[_Job]]) -> list[list[Prediction]]:
        return [self._predict([text for job in jobs for text in job.texts], jobs[0].thresholds) for jobs in groups]
