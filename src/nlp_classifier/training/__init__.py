"""Training: TF-IDF baselines (``baselines``) and fine-tuned transformers (``transformer``)."""
