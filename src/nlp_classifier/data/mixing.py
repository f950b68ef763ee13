"""Mixing several sources in one training set so that the largest does not dominate.

Temperature sampling: source ``s`` with ``n_s`` training rows gets the share ``n_s ** (1 / T)`` (normalised) of
the training signal. ``T = 1`` keeps the natural proportions, ``T = 2`` (the default) takes square roots, large
``T`` tends to equal shares. Linear models take the shares as per-row sample weights (mean 1); transformers
train on a resample of the rows with those shares (whole copies of each row first, then a seeded sample).
Identity balancing (data.balance) adds a weight per row inside its source: it multiplies the linear models' sample
weights, and the resample draws each row in proportion to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .datasets import Dataset, fingerprint

DEFAULT_TEMPERATURE = 2.0


@dataclass
class Mixture:
    """Per-source rows, shares and the weight each of its rows gets."""

    temperature: float
    rows: dict[str, int]
    shares: dict[str, float]
    fingerprints: dict[str, str]
    # per row of the training split the mixture was made from: identity-balancing weights, mean 1 in each source
    balance: np.ndarray | None = None

    @property
    def row_weights(self) -> dict[str, float]:
        """The sample weight of one row of each source (so the weights average to 1 over the training rows)."""
        total = sum(self.rows.values())
        return {s: self.shares[s] * total / n for s, n in self.rows.items()}

    def sample_weight(self, dataset: Dataset) -> np.ndarray:
        """One weight per row of ``dataset`` (a training split)."""
        weights = self.row_weights
        assert dataset.sources is not None  # the mixture was made from this split's sources
        shares = np.array([weights[s] for s in dataset.sources], dtype=float)
        return shares if self.balance is None else shares * self.balance

    def resample(self, dataset: Dataset, size: int, seed: int) -> Dataset:
        """``size`` rows drawn with the mixture's shares: each source's rows repeated as whole copies as often as
        its share allows, then a seeded sample without replacement for the remainder; shuffled. With identity
        balancing each row's expected count follows its weight: whole copies of the expected count, then a sample
        of the remainder drawn by the fractional parts."""
        rng = np.random.default_rng(seed)
        names = np.asarray(dataset.sources)
        chosen = []
        for source, share in self.shares.items():
            rows = np.flatnonzero(names == source)
            want = int(round(share * size))
            if self.balance is None:
                copies, rest = divmod(want, len(rows))
                chosen.extend([rows] * copies)
                chosen.append(rng.choice(rows, size=rest, replace=False))
                continue
            expected = want * self.balance[rows] / self.balance[rows].sum()
            whole = np.floor(expected).astype(int)
            fraction = expected - whole
            rest = min(want - int(whole.sum()), int(np.count_nonzero(fraction)))
            chosen.append(np.repeat(rows, whole))
            if rest > 0:
                chosen.append(rng.choice(rows, size=rest, replace=False, p=fraction / fraction.sum()))
        order = rng.permutation(np.concatenate(chosen))
        return dataset.subset(order, "train-mixed")

    def record(self) -> list[dict]:
        """What the model card keeps: source, training rows, share, per-row weight and data fingerprint."""
        weights = self.row_weights
        return [
            {
                "source": s,
                "rows": n,
                "share": round(self.shares[s], 6),
                "weight": round(weights[s], 6),
                "fingerprint": self.fingerprints[s],
            }
            for s, n in self.rows.items()
        ]


def mixture(train: Dataset, temperature: float = DEFAULT_TEMPERATURE) -> Mixture:
    """The temperature-sampling mixture of a multi-source training split."""
    if train.sources is None:
        raise ConfigError(f"'{train.name}' has no sources to mix")
    if temperature <= 0:
        raise ConfigError(f"mixing temperature must be > 0, got {temperature}")
    parts = train.by_source()
    rows = {s: len(d) for s, d in parts.items()}
    raw = {s: n ** (1.0 / temperature) for s, n in rows.items()}
    total = sum(raw.values())
    return Mixture(
        float(temperature),
        rows,
        {s: v / total for s, v in raw.items()},
        {s: fingerprint(d.texts, d.y, d.labels) for s, d in parts.items()},
    )


def training_set(
    train: Dataset,
    *,
    identity_swaps: float = 0.0,
    hateful_swaps: float = 0.0,
    identity_mentions: float = 0.0,
    open_mentions: float = 0.0,
    spelling_noise: float = 0.0,
    counter_speech: float = 0.0,
    identity_balance: float = 0.0,
    temperature: float = DEFAULT_TEMPERATURE,
    seed: int = 42,
) -> tuple[Dataset, Mixture | None]:
    """A training split made ready for fitting: counterfactual identity swaps added (``identity_swaps`` copies
    of each non-hateful text that names a group, ``hateful_swaps`` of each hateful one) and group mentions
    (``identity_mentions`` copies of each friendly non-hateful text that names none, data.identity_mentions, and
    ``open_mentions`` copies with a made-up group),
    then misspelled copies of a ``spelling_noise`` share of the texts, then framed copies of a ``counter_speech``
    share of the hateful texts (data.counter_speech), and for multi-source data the mixture its sources are
    weighted by, identity-balanced with ``identity_balance`` (0 off, 1 full; data.balance)."""
    from .augment import hateful_identity_swaps as add_hateful_swaps
    from .augment import identity_swaps as add_swaps
    from .augment import spelling_noise as add_noise
    from .balance import identity_weights
    from .counter_speech import counter_speech as add_counter_speech
    from .identity_mentions import identity_mentions as add_mentions
    from .identity_mentions import open_mentions as add_open_mentions

    train = add_hateful_swaps(add_swaps(train, identity_swaps, seed), hateful_swaps, seed)
    train = add_open_mentions(add_mentions(train, identity_mentions, seed), open_mentions, seed)
    train = add_noise(train, spelling_noise, seed)
    train = add_counter_speech(train, counter_speech, seed)
    if train.sources is None:
        if identity_balance:
            raise ConfigError("identity_balance needs a multi-source task (one whose rows carry a source)")
        return train, None
    mix = mixture(train, temperature)
    if identity_balance:
        mix.balance = identity_weights(train, identity_balance)
    return train, mix
