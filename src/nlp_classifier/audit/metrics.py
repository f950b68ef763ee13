"""Per-identity bias metrics on scored examples (Borkan et al. 2019, "Nuanced Metrics for Measuring Unintended
Bias with Real Data for Text Classification") and the final bias score of the Jigsaw Unintended Bias in Toxicity
Classification competition. Pure functions of numpy arrays:

- ``labels``: 1 for a harmful (positive) example, 0 for a harmless one;
- ``scores``: the model's score for the harmful side, higher meaning more harmful;
- ``in_subgroup``: True for the examples that mention the identity; the rest are the background.

Definitions (each an ROC-AUC of ``scores`` against ``labels`` on a subset of the examples):

- subgroup AUC: the subgroup's examples only (can the model tell harmful from harmless talk about the group?);
- BPSN AUC (background positive, subgroup negative): the background's harmful examples and the subgroup's harmless
  ones; low when harmless mentions of the group score above harmful text about others (false positives);
- BNSP AUC (background negative, subgroup positive): the background's harmless examples and the subgroup's harmful
  ones; low when harmful text about the group scores below harmless text about others (false negatives).

An AUC is undefined (NaN) where its subset lacks one of the two classes.

Final bias score (Jigsaw)::

    final = w0 * overall_AUC + sum over a in (subgroup, BPSN, BNSP) of w_a * M_p(AUC_a over identities)
    M_p(m_1..m_N) = ((1/N) * sum_s m_s ** p) ** (1/p),   p = -5,   w0 = w_a = 0.25

The power mean with p = -5 sits close to the minimum, so one badly treated identity pulls the score down.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

POWER = -5.0
"""The power of the generalized mean over identities (Jigsaw's p)."""
WEIGHTS = (0.25, 0.25, 0.25, 0.25)
"""Weights of the overall AUC and of the power means of subgroup, BPSN and BNSP AUC (Jigsaw's)."""


def _arrays(labels, scores, in_subgroup=None) -> tuple[np.ndarray, ...]:
    y = np.asarray(labels, dtype=int).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length ({len(y)} vs {len(s)})")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    if in_subgroup is None:
        return y, s
    g = np.asarray(in_subgroup, dtype=bool).ravel()
    if g.shape != y.shape:
        raise ValueError(f"in_subgroup and labels differ in length ({len(g)} vs {len(y)})")
    return y, s, g


def auc(labels, scores) -> float:
    """ROC-AUC of ``scores`` against 0/1 ``labels`` (ties count one half); NaN when only one class is present."""
    y, s = _arrays(labels, scores)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


def subgroup_auc(labels, scores, in_subgroup) -> float:
    """AUC on the subgroup's examples only."""
    y, s, g = _arrays(labels, scores, in_subgroup)
    return auc(y[g], s[g])


def bpsn_auc(labels, scores, in_subgroup) -> float:
    """Background Positive, Subgroup Negative AUC: harmful examples outside the subgroup and harmless ones in it."""
    y, s, g = _arrays(labels, scores, in_subgroup)
    keep = (~g & (y == 1)) | (g & (y == 0))
    return auc(y[keep], s[keep])


def bnsp_auc(labels, scores, in_subgroup) -> float:
    """Background Negative, Subgroup Positive AUC: harmless examples outside the subgroup and harmful ones in it."""
    y, s, g = _arrays(labels, scores, in_subgroup)
    keep = (~g & (y == 0)) | (g & (y == 1))
    return auc(y[keep], s[keep])


def false_positive_rate(labels, flagged) -> float:
    """The share of harmless examples (label 0) the model flagged; NaN when there are none."""
    y = np.asarray(labels, dtype=int).ravel()
    f = np.asarray(flagged, dtype=bool).ravel()
    if y.shape != f.shape:
        raise ValueError(f"labels and flagged differ in length ({len(y)} vs {len(f)})")
    negatives = y == 0
    return float(f[negatives].mean()) if negatives.any() else float("nan")


def power_mean(values: Sequence[float] | np.ndarray, p: float = POWER) -> float:
    """The generalized mean ``(mean(v ** p)) ** (1 / p)`` of values in [0, 1], NaNs left out (NaN if none is
    left). With a negative ``p`` a zero makes the mean zero (its limit)."""
    if p == 0:
        raise ValueError("p must not be 0")
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan")
    if (v < 0).any():
        raise ValueError("power mean of negative values")
    if p < 0 and (v == 0).any():
        return 0.0
    return float(np.mean(v**p) ** (1.0 / p))


def final_bias_score(
    overall_auc: float,
    subgroup_aucs: Sequence[float] | np.ndarray,
    bpsn_aucs: Sequence[float] | np.ndarray,
    bnsp_aucs: Sequence[float] | np.ndarray,
    p: float = POWER,
    weights: Sequence[float] = WEIGHTS,
) -> float:
    """Jigsaw's final metric: ``w0 * overall_auc + w1 * M_p(subgroup) + w2 * M_p(BPSN) + w3 * M_p(BNSP)``."""
    if len(weights) != 4:
        raise ValueError("four weights: overall AUC, subgroup, BPSN, BNSP")
    means = [power_mean(m, p) for m in (subgroup_aucs, bpsn_aucs, bnsp_aucs)]
    w0, *ws = weights
    return float(w0 * overall_auc + sum(w * m for w, m in zip(ws, means)))
