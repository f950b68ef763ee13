"""Small real models trained in a second for tests that need a model of a given task."""

from __future__ import annotations

from pathlib import Path

from testkit.frames import HATE_TINY_NAME, tiny_hate_frame


def hate_task_dataset(frame, path: Path):
    """``frame`` (columns text, label with not_hateful / hateful) written to ``path`` and read back as a Dataset
    named ``hate``, so that training applies the ``hate`` task's preset settings to it."""
    import dataclasses

    from nlp_classifier.data import load_dataset
    from nlp_classifier.tasks import HATE_LABELS

    frame.to_csv(path, index=False)
    return dataclasses.replace(
        load_dataset(str(path), text_column="text", label_columns=["label"], labels=HATE_LABELS), name="hate"
    )


def train_tiny_hate_model(
    models_dir: Path, tmp_dir: Path, name: str = HATE_TINY_NAME, algorithm: str = "logistic_regression"
):
    """A TF-IDF model of the ``hate`` task (labels not_hateful / hateful) trained in a second on
    ``tiny_hate_frame()`` and saved as ``name`` (the real one takes a minute on the full data); returns its card."""
    from nlp_classifier.training.baselines import train_baseline

    dataset = hate_task_dataset(tiny_hate_frame(), Path(tmp_dir) / "tiny_hate.csv")
    return train_baseline("hate", algorithm, "seed", dataset=dataset, name=name, models_dir=models_dir)


def task_slice(task: str, path: Path, per_class: int = 150) -> Path:
    """A few hundred rows of a built-in task's own data (``davidson``/``davidson3``: ``per_class`` tweets per class;
    ``jigsaw``: 40 comments per toxicity label plus 200 clean ones, so every label has positives in each split),
    written in the task's format to ``path``: enough to train a real baseline in a second or two."""
    import pandas as pd

    from nlp_classifier.data.datasets import DAVIDSON_FILE, JIGSAW_FILE
    from nlp_classifier.paths import data_dir
    from nlp_classifier.tasks import TASKS, TOXICITY_LABELS

    if task.startswith("davidson"):
        frame = pd.read_csv(data_dir() / DAVIDSON_FILE)
        frame = frame.groupby("class").head(per_class)
    elif task == "jigsaw":
        frame = pd.read_csv(data_dir() / JIGSAW_FILE)
        labels = frame[TOXICITY_LABELS]
        rows = {i for lab in TOXICITY_LABELS for i in frame.index[labels[lab] == 1][:40]}
        rows |= set(frame.index[labels.sum(axis=1) == 0][:200])
        frame = frame.loc[sorted(rows)]
    else:
        raise ValueError(f"no slice for task '{task}'; known: {', '.join(t for t in TASKS if t != 'hate')}")
    frame.to_csv(path, index=False)
    return Path(path)


def train_small_baseline(task: str, models_dir: Path, tmp_dir: Path, algorithm: str = "logistic_regression"):
    """A TF-IDF baseline of a built-in task (``davidson`` binary, ``davidson3`` three classes, ``jigsaw`` six
    labels) trained on ``task_slice`` and saved under its default name; returns its card."""
    from nlp_classifier.training.baselines import train_baseline

    data = task_slice(task, Path(tmp_dir) / f"{task}-slice.csv")
    return train_baseline(task, algorithm, "seed", data=data, models_dir=models_dir)


def model_test_sample(name: str, models_dir: Path, path: Path, rows: int) -> Path:
    """A user's labelled file in their own columns (``post``, ``verdict`` holding label names): the first ``rows``
    of the test split of the data model ``name`` was trained on."""
    import pandas as pd

    from nlp_classifier.data.model_data import model_splits
    from nlp_classifier.registry import resolve

    test = model_splits(resolve(name, models_dir))[0].test
    frame = pd.DataFrame({"post": test.texts[:rows], "verdict": [test.labels[i] for i in test.y[:rows]]})
    frame.to_csv(path, index=False)
    return path
