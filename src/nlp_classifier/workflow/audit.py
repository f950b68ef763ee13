"""The audit log: one row per change of state (who, what, before, after, when). Snapshots hold states, labels and
names, never an item's text or external id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEntry


def record_change(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction (so the change and its record commit together)."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def audit_entries(session: Session, entity: str | None = None, entity_id: str | int | None = None) -> list[AuditEntry]:
    """Audit entries, oldest first, optionally of one entity (``"review"``, ``"item"``, ``"api_key"``, ...)."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return list(session.scalars(query))
