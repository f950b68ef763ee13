"""The fixed, seeded, stratified 80/10/10 train/validation/test split used by every command.

Single-label data is stratified per class; multi-label data by iterative stratification (Sechidis et al. 2011),
so every label keeps its share in each part. The split depends only on the targets and the seed, not on the
library versions installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tasks import MULTI_LABEL
from .datasets import Dataset

SEED = 42
FRACTIONS = (0.8, 0.1, 0.1)
PARTS = ("train", "validation", "test")


@dataclass
class Splits:
    """The three parts of one dataset."""

    train: Dataset
    validation: Dataset
    test: Dataset

    def part(self, name: str) -> Dataset:
        """One part by name: train, validation or test."""
        return {"train": self.train, "validation": self.validation, "val": self.validation, "test": self.test}[name]


def split_dataset(dataset: Dataset, seed: int = SEED) -> Splits:
    """Split ``dataset`` into train/validation/test (80/10/10), the same way every time; a dataset that fixes
    each row's part itself (the multi-source ``hate`` task) keeps its own."""
    assignment = dataset.parts if dataset.parts is not None else split_assignment(dataset.y, dataset.problem_type, seed)
    parts = [dataset.subset(np.flatnonzero(assignment == i), name) for i, name in enumerate(PARTS)]
    return Splits(*parts)


def split_assignment(
    y: np.ndarray, problem_type: str, seed: int = SEED, fractions: tuple[float, ...] = FRACTIONS
) -> np.ndarray:
    """For each row, the part it belongs to: 0 train, 1 validation, 2 test."""
    rng = np.random.default_rng(seed)
    if problem_type == MULTI_LABEL:
        return _iterative_assignment(np.asarray(y, dtype=int), np.asarray(fractions), rng)
    y = np.asarray(y, dtype=int)
    assignment = np.empty(len(y), dtype=int)
    bounds = np.cumsum(fractions)[:-1]
    for cls in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == cls))
        cuts = np.round(bounds * len(rows)).astype(int)
        for part, chunk in enumerate(np.split(rows, cuts)):
            assignment[chunk] = part
    return assignment


def _iterative_assignment(y: np.ndarray, fractions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n, k = y.shape
    assignment = np.full(n, -1, dtype=int)
    want_rows = fractions * n
    want_label = np.outer(fractions, y.sum(axis=0)).astype(float)  # (parts, labels)
    remaining = y.copy()
    while remaining.any():
        counts = remaining.sum(axis=0).astype(float)
        counts[counts == 0] = np.inf
        label = int(np.argmin(counts))
        for row in rng.permutation(np.flatnonzero(remaining[:, label])):
            part = _pick_part(want_label[:, label], want_rows, rng)
            assignment[row] = part
            want_label[part] -= y[row]
            want_rows[part] -= 1
            remaining[row] = 0
    for row in rng.permutation(np.flatnonzero(assignment == -1)):
        part = _pick_part(want_rows, want_rows, rng)
        assignment[row] = part
        want_rows[part] -= 1
    return assignment


def _pick_part(primary: np.ndarray, secondary: np.ndarray, rng: np.random.Generator) -> int:
    best = np.flatnonzero(primary == primary.max())
    if len(best) > 1:
        best = best[secondary[best] == secondary[best].max()]
    return int(best[0] if len(best) == 1 else rng.choice(best))
