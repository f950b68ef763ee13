"""Identity-bias audit (``nlpc audit``): the project's own identity terms filled into its own neutral, positive
and hateful templates, scored by a model, and per-identity bias metrics (subgroup, BPSN and BNSP AUC, Borkan et
al. 2019), false-positive rates and Jigsaw's final bias score. The audit is a test of the models, never training
data."""

from .chart import chart_png, draw_chart
from .metrics import (
    POWER,
    WEIGHTS,
    auc,
    bnsp_auc,
    bpsn_auc,
    false_positive_rate,
    final_bias_score,
    power_mean,
    subgroup_auc,
)
from .run import AuditResult, IdentityRow, audit_scored, build_cases, run_audit, score_cases, scored_label
from .terms import (
    KINDS,
    IdentityTerm,
    Template,
    default_templates_path,
    default_terms_path,
    load_templates,
    load_terms,
)

__all__ = [
    "KINDS",
    "POWER",
    "WEIGHTS",
    "AuditResult",
    "IdentityRow",
    "IdentityTerm",
    "Template",
    "auc",
    "audit_scored",
    "bnsp_auc",
    "bpsn_auc",
    "build_cases",
    "chart_png",
    "default_templates_path",
    "default_terms_path",
    "draw_chart",
    "false_positive_rate",
    "final_bias_score",
    "load_templates",
    "load_terms",
    "power_mean",
    "run_audit",
    "score_cases",
    "scored_label",
    "subgroup_auc",
]
