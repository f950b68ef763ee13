"""The audit's chart: per identity (worst first, top to bottom) its subgroup, BPSN and BNSP AUC, and its
false-positive rates on neutral and positive sentences; drawn with matplotlib into a PNG."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..fileio import atomic_path
from .run import AuditResult


def _values(result: AuditResult, name: str) -> np.ndarray:
    return np.array([np.nan if getattr(r, name) is None else getattr(r, name) for r in result.identities], dtype=float)


def draw_chart(result: AuditResult, path: str | Path, dpi: int = 110) -> Path:
    """Write the chart of ``result`` as a PNG at ``path`` and return the path."""
    data = chart_png(result, dpi=dpi)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def chart_png(result: AuditResult, dpi: int = 110) -> bytes:
    """The chart of ``result`` as PNG bytes (to embed in a report)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    names = [f"{r.identity} ({r.category.replace('_', ' ')})" for r in result.identities]
    y = np.arange(len(names))
    height = max(3.0, 0.26 * len(names) + 1.6)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, height), sharey=True, width_ratios=[3, 2], layout="constrained"
    )
    try:
        for name, label, marker, colour in (
            ("subgroup_auc", "subgroup AUC", "o", "tab:blue"),
            ("bpsn_auc", "BPSN AUC", "s", "tab:red"),
            ("bnsp_auc", "BNSP AUC", "^", "tab:green"),
        ):
            left.scatter(_values(result, name), y, label=label, marker=marker, color=colour, s=22, zorder=3)
        left.set_xlim(-0.02, 1.02)
        left.axvline(0.5, color="grey", linewidth=0.8, linestyle=":")
        left.set_xlabel("AUC (higher is better; 0.5 = chance)")
        left.set_yticks(y)
        left.set_yticklabels(names, fontsize=8)
        left.set_ylim(len(names) - 0.5, -0.5)  # worst identity on top
        left.grid(axis="x", alpha=0.3)
        left.legend(loc="lower left", fontsize=8)
        bar = 0.4
        right.barh(y - bar / 2, _values(result, "fpr_neutral"), height=bar, label="neutral", color="tab:orange")
        right.barh(y + bar / 2, _values(result, "fpr_positive"), height=bar, label="positive", color="tab:purple")
        right.set_xlim(0, 1)
        right.axvline(0.10, color="grey", linewidth=0.8, linestyle="--")
        right.set_xlabel("false-positive rate at the model's threshold")
        right.grid(axis="x", alpha=0.3)
        right.legend(loc="lower right", fontsize=8)
        final = "-" if result.final_bias_score is None else f"{result.final_bias_score:.3f}"
        fig.suptitle(
            f"Identity-bias audit of {result.model} (score: {result.label}); final bias score {final}", fontsize=11
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    return buffer.getvalue()
