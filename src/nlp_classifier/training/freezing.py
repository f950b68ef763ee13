"""Keep parts of a pretrained transformer as they were while fine-tuning the rest.

Fine-tuning moves the embedding of every word it sees, and a word seen a handful of times, mostly in one class,
can move towards that class. Frozen word embeddings keep each word where pretraining put it, beside the words used
like it; frozen lower layers keep the pretrained features they compute. Frozen weights get no gradient, so the
optimiser skips them (each step is also cheaper).
"""

from __future__ import annotations

from ..errors import ConfigError


def encoder_layers(model):
    """The model's list of transformer layers (BERT-family models: ``base_model.encoder.layer``), or None."""
    encoder = getattr(model.base_model, "encoder", None)
    return getattr(encoder, "layer", None)


def freeze(model, *, word_embeddings: bool, layers: int) -> int:
    """Stop training the word embeddings (when ``word_embeddings``) and the first ``layers`` encoder layers;
    returns how many weights were frozen. Refuses a layer count the model does not have, naming the setting."""
    modules = []
    if word_embeddings:
        modules.append(model.get_input_embeddings())
    if layers:
        stack = encoder_layers(model)
        if stack is None:
            raise ConfigError(
                f"setting 'frozen_layers': the base model ({type(model).__name__}) has no encoder.layer list to freeze"
            )
        if layers > len(stack):
            raise ConfigError(f"setting 'frozen_layers' is {layers}, but the base model has only {len(stack)} layers")
        modules.extend(stack[:layers])
    frozen = 0
    for module in modules:
        for weight in module.parameters():
            weight.requires_grad_(False)
            frozen += weight.numel()
    return frozen
