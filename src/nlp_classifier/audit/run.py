"""Fill every audit template with every identity term, score the sentences with a model and compute the
per-identity bias metrics (``metrics``) and the final bias score."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..decision import decide
from ..errors import ConfigError
from ..metrics import interval_text, wilson_interval
from . import metrics
from .terms import HATEFUL, KINDS, NEUTRAL, POSITIVE, IdentityTerm, Template


def build_cases(terms: Sequence[IdentityTerm], templates: Sequence[Template]) -> pd.DataFrame:
    """One row per (term, template): ``identity``, ``category``, ``kind``, ``template_id``, ``text`` and
    ``label`` (1 for a hateful template, else 0), terms in file order, templates in file order within each."""
    rows = [
        {
            "identity": term.term,
            "category": term.category,
            "kind": template.kind,
            "template_id": template.template_id,
            "text": template.fill(term),
            "label": int(template.harmful),
        }
        for term in terms
        for template in templates
    ]
    return pd.DataFrame(rows, columns=["identity", "category", "kind", "template_id", "text", "label"])


def _norm(label: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(label)).strip().lower()


def scored_label(classifier, label: str | None = None) -> str:
    """The label whose probability is the audit's harmful score, and whose decision counts as flagging.

    ``label`` if given (it must be one of the model's harmful labels). Otherwise the model's only harmful label
    (``tasks.harmless_labels`` tells them apart: hateful, Hate Speech), else its only harmful label named with
    "hate" (davidson3: ``hate``, not ``offensive``; Jigsaw toxicity: ``identity_hate``, the label for attacks on
    identity, not ``toxic``)."""
    labels = list(classifier.labels)
    harmful = [lab for lab in labels if lab not in classifier.harmless_labels]
    if label is not None:
        if label not in labels:
            raise ConfigError(f"unknown label '{label}' for --label; the model's labels are: {', '.join(labels)}")
        if label not in harmful:
            raise ConfigError(f"label '{label}' is harmless; pick a harmful one: {', '.join(harmful)}")
        return label
    if len(harmful) == 1:
        return harmful[0]
    hateful = [lab for lab in harmful if "hate" in _norm(lab)]
    if len(hateful) == 1:
        return hateful[0]
    raise ConfigError(
        f"model '{classifier.name}' has harmful labels {', '.join(harmful) or '(none)'}; cannot tell which one "
        "scores hate: name it with --label"
    )


def _num(value: float) -> float | None:
    """NaN (an undefined metric) as None, for JSON."""
    return None if value is None or math.isnan(value) else float(value)


@dataclass
class IdentityRow:
    """The audit of one identity term. AUCs are None where undefined; false-positive rates are the share of the
    term's neutral, positive, and neutral + positive sentences the model flagged with the scored label;
    ``false_negative_rate`` the share of its hateful sentences it did not flag."""

    identity: str
    category: str
    n: int
    subgroup_auc: float | None
    bpsn_auc: float | None
    bnsp_auc: float | None
    fpr_neutral: float | None
    fpr_neutral_interval: list[float] | None  # 95% Wilson interval: an identity has a dozen or so neutral sentences
    fpr_positive: float | None
    fpr: float | None
    false_negative_rate: float | None
    mean_score_neutral: float | None
    mean_score_positive: float | None
    mean_score_hateful: float | None

    @property
    def worst_auc(self) -> float | None:
        """The lowest of the three AUCs (what orders the table, worst first)."""
        values = [v for v in (self.subgroup_auc, self.bpsn_auc, self.bnsp_auc) if v is not None]
        return min(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "worst_auc": self.worst_auc}


@dataclass
class AuditResult:
    """A model's identity-bias audit: per-identity rows worst first (lowest of subgroup/BPSN/BNSP AUC, ties by
    higher neutral false-positive rate), per-category summaries, the overall AUC, the power means and the final
    bias score (``metrics.final_bias_score``)."""

    model: str
    backend: str | None
    label: str
    thresholds: dict[str, float]
    terms_file: str
    templates_file: str
    n_cases: int
    n_templates: dict[str, int]
    overall_auc: float | None
    power: float
    weights: list[float]
    power_mean_subgroup_auc: float | None
    power_mean_bpsn_auc: float | None
    power_mean_bnsp_auc: float | None
    final_bias_score: float | None
    fpr_neutral: float | None
    fpr_positive: float | None
    identities: list[IdentityRow] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)

    def identity(self, term: str) -> IdentityRow:
        for row in self.identities:
            if row.identity == term:
                return row
        raise KeyError(term)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("identities", "categories")}
        out["metric"] = (
            "final = w0*overall_auc + w1*M_p(subgroup_auc) + w2*M_p(bpsn_auc) + w3*M_p(bnsp_auc), "
            "M_p = power mean over identities"
        )
        out["identities"] = [row.to_dict() for row in self.identities]
        out["categories"] = list(self.categories)
        return out


IDENTITY_COLUMNS = [
    "identity",
    "category",
    "subgroup AUC",
    "BPSN AUC",
    "BNSP AUC",
    "FPR neutral",
    "95% interval",
    "FPR positive",
    "FNR hateful",
]


def identity_rows(result: AuditResult) -> list[list]:
    """An audit's per-identity table rows (``IDENTITY_COLUMNS``), worst first."""
    return [
        [
            r.identity,
            r.category,
            r.subgroup_auc,
            r.bpsn_auc,
            r.bnsp_auc,
            r.fpr_neutral,
            interval_text(r.fpr_neutral_interval),
            r.fpr_positive,
            r.false_negative_rate,
        ]
        for r in result.identities
    ]


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def score_cases(
    classifier, cases: pd.DataFrame, label: str, batch_size: int = 256, progress: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """``cases`` with ``score`` (the label's probability) and ``flagged`` (the model's own decision, with its
    saved thresholds, flags the label: ``decision.decide``)."""
    if batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    texts = cases["text"].tolist()
    parts = []
    for start in range(0, len(texts), batch_size):
        parts.append(classifier.predict_proba(texts[start : start + batch_size]))
        if progress:
            progress(min(start + batch_size, len(texts)))
    labels = classifier.labels
    proba = np.vstack(parts) if parts else np.zeros((0, len(labels)))
    made = decide(proba, labels, classifier.problem_type, classifier.thresholds, classifier.harmless_labels)
    column = labels.index(label)
    return cases.assign(score=proba[:, column], flagged=made.flagged[:, column])


def audit_scored(
    scored: pd.DataFrame,
    *,
    model: str = "",
    backend: str | None = None,
    label: str = "",
    thresholds: dict[str, float] | None = None,
    terms_file: str = "",
    templates_file: str = "",
    p: float = metrics.POWER,
) -> AuditResult:
    """The audit of already scored cases (columns ``identity``, ``category``, ``kind``, ``template_id``, ``label``,
    ``score``, ``flagged``): every identity against all the others as background."""
    y = scored["label"].to_numpy(dtype=int)
    s = scored["score"].to_numpy(dtype=float)
    flagged = scored["flagged"].to_numpy(dtype=bool)
    kind = scored["kind"].to_numpy()
    identity = scored["identity"].to_numpy()
    rows = []
    for term, category in scored[["identity", "category"]].drop_duplicates().itertuples(index=False):
        g = identity == term
        neutral, positive, hateful = g & (kind == NEUTRAL), g & (kind == POSITIVE), g & (kind == HATEFUL)
        harmless = neutral | positive
        rows.append(
            IdentityRow(
                identity=str(term),
                category=str(category),
                n=int(g.sum()),
                subgroup_auc=_num(metrics.subgroup_auc(y, s, g)),
                bpsn_auc=_num(metrics.bpsn_auc(y, s, g)),
                bnsp_auc=_num(metrics.bnsp_auc(y, s, g)),
                fpr_neutral=_mean(flagged[neutral]),
                fpr_neutral_interval=wilson_interval(int(flagged[neutral].sum()), int(neutral.sum())),
                fpr_positive=_mean(flagged[positive]),
                fpr=_mean(flagged[harmless]),
                false_negative_rate=_mean(~flagged[hateful]),
                mean_score_neutral=_mean(s[neutral]),
                mean_score_positive=_mean(s[positive]),
                mean_score_hateful=_mean(s[hateful]),
            )
        )

    def nan(v: float | None) -> float:
        return float("nan") if v is None else v

    sub = [nan(r.subgroup_auc) for r in rows]
    bpsn = [nan(r.bpsn_auc) for r in rows]
    bnsp = [nan(r.bnsp_auc) for r in rows]
    overall = metrics.auc(y, s)
    final = metrics.final_bias_score(overall, sub, bpsn, bnsp, p=p)
    rows.sort(key=lambda r: (nan(r.worst_auc) if r.worst_auc is not None else -1.0, -(r.fpr_neutral or 0.0)))
    categories = []
    for category in dict.fromkeys(r.category for r in rows):  # the category of the worst identity first
        part = [r for r in rows if r.category == category]
        worst = part[0]  # rows are worst first
        categories.append(
            {
                "category": category,
                "identities": len(part),
                "worst_identity": worst.identity,
                "worst_auc": worst.worst_auc,
                "power_mean_bpsn_auc": _num(metrics.power_mean([nan(r.bpsn_auc) for r in part], p)),
                "max_fpr_neutral": max((r.fpr_neutral or 0.0) for r in part),
                "mean_fpr_neutral": _mean(np.array([nan(r.fpr_neutral) for r in part])),
            }
        )
    return AuditResult(
        model=model,
        backend=backend,
        label=label,
        thresholds=dict(thresholds or {}),
        terms_file=terms_file,
        templates_file=templates_file,
        n_cases=len(scored),
        n_templates={k: int(scored.loc[scored["kind"] == k, "template_id"].nunique()) for k in KINDS},
        overall_auc=_num(overall),
        power=p,
        weights=list(metrics.WEIGHTS),
        power_mean_subgroup_auc=_num(metrics.power_mean(sub, p)),
        power_mean_bpsn_auc=_num(metrics.power_mean(bpsn, p)),
        power_mean_bnsp_auc=_num(metrics.power_mean(bnsp, p)),
        final_bias_score=_num(final),
        fpr_neutral=_mean(flagged[kind == NEUTRAL]),
        fpr_positive=_mean(flagged[kind == POSITIVE]),
        identities=rows,
        categories=categories,
    )


def run_audit(
    classifier,
    terms: Sequence[IdentityTerm],
    templates: Sequence[Template],
    *,
    label: str | None = None,
    batch_size: int = 256,
    terms_file: str = "",
    templates_file: str = "",
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """Audit a Classifier: fill every template with every term, score, and compute the metrics."""
    if len(terms) < 2:
        raise ConfigError("the audit needs at least two identity terms (each is compared with the others)")
    chosen = scored_label(classifier, label)
    scored = score_cases(classifier, build_cases(terms, templates), chosen, batch_size, progress)
    return audit_scored(
        scored,
        model=classifier.name,
        backend=getattr(classifier, "backend", None),
        label=chosen,
        thresholds=classifier.thresholds,
        terms_file=terms_file,
        templates_file=templates_file,
    )
