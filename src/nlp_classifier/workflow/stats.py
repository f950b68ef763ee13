"""What the review decisions say about the models: agreement of model and reviewer, precision of the flagged
items among the reviewed ones (per model version and per day), the queue's size and the labels reviewers
overturn most."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import REVIEW_STATES, Review


def _rates(rows: list[tuple[str | None, list[str], str]]) -> dict[str, Any]:
    """Counts and rates of (predicted label, flagged labels, decided label) rows."""
    agreed = sum(1 for predicted, _, decided in rows if predicted == decided)
    flagged = [(labels, decided) for _, labels, decided in rows if labels]
    correct = sum(1 for labels, decided in flagged if decided in labels)
    return {
        "reviewed": len(rows),
        "agreed": agreed,
        "agreement": round(agreed / len(rows), 4) if rows else None,
        "flagged_reviewed": len(flagged),
        "flagged_confirmed": correct,
        "flagged_precision": round(correct / len(flagged), 4) if flagged else None,
    }


def review_stats(session: Session, top: int = 10) -> dict[str, Any]:
    """``queue`` (reviews per state), ``overall``, ``by_model`` (per model and version) and ``by_day`` (per day of
    decision, UTC): reviewed, agreed, agreement, flagged_reviewed, flagged_confirmed, flagged_precision;
    ``overturned``: the ``top`` most frequent (model label -> reviewer label) changes."""
    counts: dict[str, int] = {
        state: int(n) for state, n in session.execute(select(Review.state, func.count()).group_by(Review.state))
    }
    queue = {state: int(counts.get(state, 0)) for state in REVIEW_STATES}
    decided = session.execute(
        select(
            Review.model,
            Review.model_version,
            Review.predicted_label,
            Review.flagged,
            Review.decided_label,
            Review.decided_at,
        ).where(Review.state == "decided")
    ).all()
    by_model: dict[tuple[str, str | None], list] = defaultdict(list)
    by_day: dict[str, list] = defaultdict(list)
    overturned: Counter[tuple[str, str | None, str]] = Counter()
    everything = []
    for model, version, predicted, flagged, label, at in decided:
        row = (predicted, list(flagged or []), label)
        everything.append(row)
        by_model[(model, version)].append(row)
        by_day[at.date().isoformat()].append(row)
        if predicted != label:
            overturned[(model, predicted, label)] += 1
    return {
        "queue": queue,
        "overall": _rates(everything),
        "by_model": [
            {"model": model, "model_version": version, **_rates(rows)}
            for (model, version), rows in sorted(by_model.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        ],
        "by_day": [{"day": day, **_rates(rows)} for day, rows in sorted(by_day.items())],
        "overturned": [
            {"model": model, "predicted_label": predicted, "decided_label": label, "count": n}
            for (model, predicted, label), n in overturned.most_common(top)
        ],
    }
