"""An evaluation report from end to end: gather each model's figures on one dataset (``gather``), draw the charts
(``figures``), and write the self-contained HTML file (``html``) and the PNG files atomically."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..classifier import Classifier
from ..data import Dataset
from ..errors import ConfigError
from ..fileio import atomic_path
from .figures import Figure, comparison_figures, model_figures
from .gather import ModelReport, gather_model


@dataclass
class Report:
    """The models' reports on one dataset (``data`` names it, ``split`` the part), and every chart by name."""

    data: str
    split: str
    n: int
    models: list[ModelReport]
    figures: dict[str, Figure] = field(default_factory=dict)
    created: str = ""

    @property
    def comparison(self) -> bool:
        return len(self.models) > 1


def build_report(
    classifiers: Sequence[Classifier],
    dataset: Dataset,
    *,
    data: str,
    split: str,
    suite: bool = True,
    audit: bool = True,
) -> Report:
    """Gather the report of each classifier on ``dataset`` and draw its charts (and, for several, the
    overlaid ones)."""
    if not classifiers:
        raise ConfigError("a report needs at least one model")
    models = [gather_model(c, dataset, suite=suite, audit=audit) for c in classifiers]
    figures = [*(comparison_figures(models) if len(models) > 1 else []), *(f for m in models for f in model_figures(m))]
    return Report(
        data=data,
        split=split,
        n=len(dataset),
        models=models,
        figures={f.name: f for f in figures},
        created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_html(report: Report, path: str | Path) -> Path:
    """Render ``report`` and write it to ``path`` atomically (a temporary sibling renamed into place)."""
    from .html import render

    text = render(report)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_figures(report: Report, folder: str | Path) -> list[Path]:
    """Write every chart of ``report`` as ``<folder>/<name>.png``, each atomically; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for figure in report.figures.values():
        path = folder / f"{figure.name}.png"
        with atomic_path(path) as tmp:
            tmp.write_bytes(figure.png)
        paths.append(path)
    return paths
