"""Counterfactual logit pairing (Garg et al. 2019, "Counterfactual Fairness in Text Classification through
Robustness"): a training loss that asks a non-hateful text and its identity-swapped copy for the same scores.

Identity swaps (data.augment) add swapped copies as texts of their own, so a model learns from more non-hateful
mentions of each group, but nothing ties a copy's score to its original's. Pairing does: each non-hateful training
text that names a group is tokenised beside a copy naming other groups (``augment.swap_identity_terms``, drawn
once per run from the run's seed), and the loss adds ``weight`` times the mean, over the pairs in the batch, of the
total variation distance between the two texts' class probabilities. Hateful texts are not paired: whether an
attack is hateful can depend on the group it names.

The pair rides in each training item under ``pair_`` keys; ``PairCollator`` pads the pairs of a batch into a
second batch with the rows they belong to, and ``paired_trainer`` is a Trainer that scores that second batch and
adds the penalty. Validation items carry no pairs, so evaluation is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..backends.transformer_text import TextSettings, prepare_texts
from ..data import Dataset
from ..data.augment import swap_identity_terms
from .hf_glue import EncodedTexts

PAIR = "pair_"
ROWS = PAIR + "rows"


def counterfactual_texts(dataset: Dataset, seed: int) -> dict[int, str]:
    """Row -> the row's text with other groups swapped in, for each non-hateful (class 0) row that names a group;
    seeded, so a resumed run pairs the same texts."""
    rng = np.random.default_rng(seed)
    pairs = {}
    for i in np.flatnonzero(dataset.y == 0):
        swapped = swap_identity_terms(dataset.texts[i], rng)
        if swapped is not None and swapped != dataset.texts[i]:
            pairs[int(i)] = swapped
    return pairs


class PairedTexts(EncodedTexts):
    """``EncodedTexts`` whose non-hateful items that name a group also carry their swapped copy's tokens under
    ``pair_`` keys."""

    def __init__(self, tokenizer, dataset: Dataset, settings: TextSettings, input_names: Sequence[str], seed: int):
        super().__init__(tokenizer, dataset, settings, input_names)
        pairs = counterfactual_texts(dataset, seed)
        self.rows = sorted(pairs)
        enc = tokenizer(
            prepare_texts([pairs[i] for i in self.rows], settings), truncation=True, max_length=settings.max_length
        )
        self.pair_columns = {name: dict(zip(self.rows, enc[name], strict=True)) for name in self.columns}

    def __getitem__(self, i: int) -> dict:
        item = super().__getitem__(i)
        for name, values in self.pair_columns.items():
            if i in values:
                item[PAIR + name] = values[i]
        return item


class PairCollator:
    """Pads a batch as ``DataCollatorWithPadding`` does, and the pairs of its items into a second batch under
    ``pair_`` keys, with ``pair_rows`` giving the item each pair belongs to (no ``pair_`` keys when none has one)."""

    def __init__(self, tokenizer):
        from transformers import DataCollatorWithPadding

        self.pad = DataCollatorWithPadding(tokenizer)

    def __call__(self, features: list[dict]) -> dict:
        import torch

        batch = self.pad([{k: v for k, v in f.items() if not k.startswith(PAIR)} for f in features])
        rows, pairs = [], []
        for row, f in enumerate(features):
            pair = {k[len(PAIR) :]: v for k, v in f.items() if k.startswith(PAIR)}
            if pair:
                rows.append(row)
                pairs.append(pair)
        if pairs:
            for name, tensor in self.pad(pairs).items():
                batch[PAIR + name] = tensor
            batch[ROWS] = torch.tensor(rows, dtype=torch.long)
        return batch


def pairing_penalty(logits, pair_logits, rows):
    """Mean over the pairs of the total variation distance (half the L1 distance) between the class probabilities
    of each paired item (``logits[rows]``) and of its swapped copy (``pair_logits``): 0 to 1 per pair.

    Probabilities, not log-probabilities or logits: a distance in log space is unbounded where one text of a pair
    is confidently not hateful, and at weight 1 it outweighed the classification loss so far that a full ``hate``
    run learned to give every text naming a group one constant score, hateful or not (docs/transformers.md)."""
    import torch.nn.functional as F

    own = F.softmax(logits[rows], dim=-1)
    swapped = F.softmax(pair_logits, dim=-1)
    return 0.5 * (own - swapped).abs().sum(dim=-1).mean()


def paired_trainer(weight: float):
    """A Trainer class whose training loss adds ``weight`` x ``pairing_penalty`` for the batch's pairs (scaled
    for gradient accumulation like the mean loss of one batch)."""
    from transformers import Trainer

    class PairedTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            pair = {k[len(PAIR) :]: inputs.pop(k) for k in list(inputs) if k.startswith(PAIR)}
            loss, outputs = super().compute_loss(
                model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch
            )
            if pair and model.training:
                rows = pair.pop("rows")
                pair_logits = model(**pair)["logits"]
                penalty = pairing_penalty(outputs["logits"], pair_logits, rows)
                loss = loss + weight * penalty / self.args.gradient_accumulation_steps
            return (loss, outputs) if return_outputs else loss

    return PairedTrainer
