"""The report's charts, drawn with matplotlib (Agg, files only) into PNG bytes: ROC, precision-recall and
reliability curves (one panel per label, one line per model), score histograms and confusion matrices. Each
function takes numbers already computed (``gather``) and draws them; nothing is measured here."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..calibration import ReliabilityBins
from .gather import Curves, LabelView

DPI = 110
PANEL_SIZE = (4.6, 4.0)  # inches per panel


@dataclass
class CurveLine:
    """One model's curve in one panel; ``mark`` an optional (x, y) point to highlight (its operating point)."""

    model: str
    curves: Curves
    mark: tuple[float, float] | None = None


@dataclass
class CurvePanel:
    """One label's panel: its title, the lines of each model and the share of positives (the PR baseline)."""

    label: str
    lines: list[CurveLine]
    prevalence: float


@dataclass
class ReliabilityLine:
    model: str
    bins: ReliabilityBins
    ece: float | None
    brier: float | None


@dataclass
class ReliabilityPanel:
    label: str
    lines: list[ReliabilityLine]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _grid(n: int, cols: int = 3) -> tuple[int, int]:
    cols = max(1, min(n, cols))
    return math.ceil(n / cols), cols


def _figure(n_panels: int, title: str):
    """A figure with one axes per panel (extra axes hidden) and a title; returns (plt, fig, axes list)."""
    plt = _pyplot()
    rows, cols = _grid(n_panels)
    fig, axes = plt.subplots(
        rows, cols, figsize=(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows + 0.4), squeeze=False, layout="constrained"
    )
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=11)
    return plt, fig, flat[:n_panels]


def _png(plt, fig) -> bytes:
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def roc_png(panels: Sequence[CurvePanel], title: str) -> bytes:
    """ROC curves: true- against false-positive rate, the chance diagonal, ROC-AUC in the legend."""
    plt, fig, axes = _figure(len(panels), title)
    for ax, panel in zip(axes, panels):
        for line in panel.lines:
            c = line.curves
            ax.plot(c.fpr, c.tpr, linewidth=1.4, label=f"{line.model} (AUC {_fmt(c.roc_auc)})")
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false-positive rate", ylabel="true-positive rate (recall)")
        ax.set_title(panel.label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    return _png(plt, fig)


def pr_png(panels: Sequence[CurvePanel], title: str) -> bytes:
    """Precision-recall curves, the share of positives as the no-skill line, operating points marked."""
    plt, fig, axes = _figure(len(panels), title)
    for ax, panel in zip(axes, panels):
        for line in panel.lines:
            c = line.curves
            (drawn,) = ax.plot(c.recall, c.precision, linewidth=1.4, label=line.model)
            if line.mark is not None:
                ax.plot(*line.mark, marker="o", color=drawn.get_color(), markersize=6, markeredgecolor="black")
        ax.axhline(panel.prevalence, color="grey", linewidth=0.8, linestyle=":", label="share of positives")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="recall", ylabel="precision")
        ax.set_title(panel.label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
    return _png(plt, fig)


def reliability_png(panels: Sequence[ReliabilityPanel], title: str) -> bytes:
    """Reliability diagrams: observed frequency against mean predicted probability per bin (marker area by the
    bin's share of texts), the diagonal of perfect calibration, ECE and Brier score in the legend."""
    plt, fig, axes = _figure(len(panels), title)
    for ax, panel in zip(axes, panels):
        for line in panel.lines:
            b = line.bins
            filled = b.counts > 0
            share = b.counts[filled] / max(1, b.counts.sum())
            label = f"{line.model} (ECE {_fmt(line.ece)}, Brier {_fmt(line.brier)})"
            (drawn,) = ax.plot(b.confidence[filled], b.accuracy[filled], linewidth=1.2, label=label)
            ax.scatter(b.confidence[filled], b.accuracy[filled], s=10 + 300 * share, color=drawn.get_color(), alpha=0.7)
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":")
        ax.set(xlim=(0, 1), ylim=(-0.02, 1.02), xlabel="mean predicted probability", ylabel="observed frequency")
        ax.set_title(panel.label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    return _png(plt, fig)


def histogram_png(views: Sequence[LabelView], title: str, bins: int = 40) -> bytes:
    """Per label, the distribution of its score among the texts that have it and those that do not (each as a
    share of its own class, so a rare class stays visible), with the model's threshold."""
    plt, fig, axes = _figure(len(views), title)
    edges = np.linspace(0, 1, bins + 1)
    for ax, view in zip(axes, views):
        for truth, name, colour in ((0, f"not {view.label}", "tab:blue"), (1, view.label, "tab:red")):
            scores = view.scores[view.y == truth]
            if len(scores):
                weights = np.full(len(scores), 1 / len(scores))
                ax.hist(scores, bins=edges, weights=weights, histtype="stepfilled", alpha=0.35, color=colour)
                label = f"{name} (n={len(scores)})"
                ax.hist(scores, bins=edges, weights=weights, histtype="step", color=colour, label=label)
        if view.threshold is not None:
            label = f"threshold {view.threshold:g}"
            ax.axvline(view.threshold, color="black", linestyle="--", linewidth=1, label=label)
        ax.set(xlim=(0, 1), xlabel=f"P({view.label})", ylabel="share of the class's texts")
        ax.set_title(view.label, fontsize=10)
        ax.legend(loc="upper center", fontsize=8)
    return _png(plt, fig)


def confusion_png(matrices: dict[str, list[list[int]]], class_names: dict[str, list[str]], title: str) -> bytes:
    """Confusion matrices (rows true, columns predicted): counts and the share of each true row."""
    plt, fig, axes = _figure(len(matrices), title)
    for ax, (label, matrix) in zip(axes, matrices.items()):
        m = np.asarray(matrix, dtype=float)
        rows = m.sum(axis=1, keepdims=True)
        share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        names = class_names[label]
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set(xlabel="predicted", ylabel="true")
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                colour = "white" if share[i, j] > 0.6 else "black"
                text = f"{int(m[i, j]):,}\n{share[i, j]:.1%}"
                ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=9)
        if label:
            ax.set_title(label, fontsize=10)
    return _png(plt, fig)
