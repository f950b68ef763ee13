"""Integrated Gradients (captum) for transformers run with PyTorch: the attribution of each token embedding to
the explained label's probability, integrated along the straight path from a baseline where every
non-special token is the padding token, then merged into the words of the original text (a word-piece's share
goes to the word its characters came from, through obfuscation reading, normalisation and emoji naming). The
word scores add up to the label's probability minus the baseline's, up to the integral's approximation error.
Texts longer than one window are explained on their first window (the first ``max_length`` tokens)."""

from __future__ import annotations

import numpy as np

from ..backends.transformer_text import prepare_texts
from ..tasks import MULTI_LABEL
from .words import WordSpreader, align

STEPS = 32


def integrated_gradients_word_scores(classifier, text: str, spans: list[tuple[int, int]], column: int) -> np.ndarray:
    """The Integrated Gradients attribution of each word (``spans`` of ``text``) to the probability of label
    ``column``, for a ``TransformerClassifier``."""
    import torch
    from captum.attr import LayerIntegratedGradients

    model, tokenizer, settings = classifier.model, classifier.tokenizer, classifier.settings
    prepared = prepare_texts(classifier.read([text]), settings)[0]
    encoding = tokenizer(
        prepared,
        truncation=True,
        max_length=settings.max_length,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
        return_tensors="pt",
    )
    device = next(model.parameters()).device
    input_ids = encoding["input_ids"].to(device)
    special = encoding["special_tokens_mask"][0].bool().to(device)
    baseline = torch.where(special, input_ids[0], tokenizer.pad_token_id or 0).unsqueeze(0)
    extra = {name: encoding[name].to(device) for name in classifier.input_names if name != "input_ids"}
    multi_label = classifier.problem_type == MULTI_LABEL

    def label_probability(ids):
        logits = model(input_ids=ids, **{k: v.expand(ids.shape[0], -1) for k, v in extra.items()}).logits.float()
        proba = torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=-1)
        return proba[:, column]

    explainer = LayerIntegratedGradients(label_probability, model.get_input_embeddings())
    attributions = explainer.attribute(input_ids, baselines=baseline, n_steps=STEPS, internal_batch_size=STEPS)
    token_scores = attributions.sum(dim=-1)[0].detach().cpu().numpy().astype(float)
    to_original = align(text, prepared)
    spreader = WordSpreader(text, spans)
    pieces: list[np.ndarray] = []
    amounts: list[float] = []
    for (start, end), is_special, score in zip(
        encoding["offset_mapping"][0].tolist(), encoding["special_tokens_mask"][0].tolist(), token_scores
    ):
        if not is_special and end > start:
            pieces.append(to_original[start:end])
            amounts.append(float(score))
    spreader.add(pieces, amounts)
    return spreader.scores
