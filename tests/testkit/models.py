"""Small real models trained in a second for tests that need a model of a given task."""

from __future__ import annotations

from pathlib import Path

from testkit.frames import HATE_TINY_NAME, tiny_hate_frame


def train_tiny_hate_model(models_dir: Path, tmp_dir: Path, name: str = HATE_TINY_NAME):
    """A TF-IDF model of the ``hate`` task (labels not_hateful / hateful) trained in a second on
    ``tiny_hate_frame()`` and saved as ``name`` (the real one takes a minute on the full data); returns its card."""
    import dataclasses

    from nlp_classifier.data import load_dataset
    from nlp_classifier.tasks import HATE_LABELS
    from nlp_classifier.training.baselines import train_baseline

    path = Path(tmp_dir) / "tiny_hate.csv"
    tiny_hate_frame().to_csv(path, index=False)
    dataset = dataclasses.replace(
        load_dataset(str(path), text_column="text", label_columns=["label"], labels=HATE_LABELS), name="hate"
    )
    return train_baseline("hate", "logistic_regression", "seed", dataset=dataset, name=name, models_dir=models_dir)
