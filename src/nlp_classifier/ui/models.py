"""What the UI knows about each model, read from the API's ``GET /models`` answer (never from disk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Headline test metrics, best first; the picker shows the first few a model has.
HEADLINE_METRICS = ("f1_macro", "accuracy", "roc_auc", "mean_roc_auc", "f1_micro", "f1_weighted")


@dataclass
class ModelInfo:
    """One model as the API describes it."""

    name: str
    family: str = "?"
    task: str = "?"
    description: str = ""
    base_model: str | None = None
    version: str | None = None
    is_current: bool = False
    labels: list[str] = field(default_factory=list)
    problem_type: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    latency_ms: float | None = None

    @classmethod
    def from_api(cls, name: str, entry: dict) -> ModelInfo:
        """Build from one model's entry in ``GET /models``."""
        metrics = {
            k: float(v)
            for k, v in (entry.get("test_metrics") or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "n"
        }
        latency = entry.get("avg_inference_time_ms")
        return cls(
            name=name,
            family=entry.get("type", "?"),
            task=entry.get("task", "?"),
            description=entry.get("description", ""),
            base_model=entry.get("base_model"),
            version=entry.get("version"),
            is_current=bool(entry.get("is_current")),
            labels=list(entry.get("labels") or []),
            problem_type=entry.get("problem_type"),
            thresholds={k: float(v) for k, v in (entry.get("thresholds") or {}).items()},
            test_metrics=metrics,
            latency_ms=float(latency) if latency is not None else None,
        )

    @property
    def multi_label(self) -> bool:
        return self.problem_type == "multi_label"

    def headline(self, n: int = 3) -> dict[str, float]:
        """Up to ``n`` headline test metrics."""
        found = [(k, self.test_metrics[k]) for k in HEADLINE_METRICS if k in self.test_metrics]
        return dict(found[:n])

    def summary_row(self) -> dict[str, Any]:
        """One row of the models table."""
        row: dict[str, Any] = {
            "model": self.name,
            "current": "✓" if self.is_current else "",
            "family": self.family,
            "task": self.task,
            "base model": self.base_model or "-",
            "version": self.version or "-",
        }
        for key, value in self.headline().items():
            row[f"test {key}"] = round(value, 4)
        row["latency ms"] = round(self.latency_ms, 2) if self.latency_ms is not None else None
        return row


@dataclass
class ModelsView:
    """The API's current model and every available one, by name."""

    current: str | None
    models: dict[str, ModelInfo]
    toxicity: str | None = None
    notice: str | None = None  # the API's note on its current model (the TF-IDF fallback, a model being finished)

    @classmethod
    def from_api(cls, payload: dict) -> ModelsView:
        """Build from the ``GET /models`` answer."""
        models = {name: ModelInfo.from_api(name, entry) for name, entry in (payload.get("models") or {}).items()}
        for name in payload.get("available_models", []) or []:
            models.setdefault(name, ModelInfo(name=name))
        current = payload.get("current_model")
        if current in models:
            models[current].is_current = True
        return cls(
            current=current,
            models=dict(sorted(models.items())),
            toxicity=payload.get("toxicity_model"),
            notice=payload.get("notice"),
        )

    @property
    def names(self) -> list[str]:
        return list(self.models)
