"""API keys kept in the database: only their SHA-256 is stored, with a role (``client`` < ``reviewer`` <
``admin``; each role may do what the lower ones may) and a unique name. A key is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ConfigError
from .audit import record_change
from .errors import ConflictError, NotFoundError
from .models import KEY_NAME_MAX_CHARS, ROLES, ApiKey

KEY_PREFIX = "nlpc_"


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (admin > reviewer > client)."""
    return ROLES.index(role) >= ROLES.index(needed)


def add_api_key(session: Session, role: str, name: str, actor: str = "cli") -> tuple[str, ApiKey]:
    """A new random key for ``name`` with ``role``, and its row; the key itself is not stored."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not name.strip():
        raise ConfigError("a key needs a name (who or what uses it)")
    if len(name) > KEY_NAME_MAX_CHARS:
        raise ConfigError(f"the key name has {len(name)} characters; the limit is {KEY_NAME_MAX_CHARS}")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise ConflictError(f"an API key named {name!r} already exists; choose another name or remove it first")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(key_hash=hash_key(key), role=role, name=name)
    session.add(row)
    session.flush()
    record_change(session, actor, "add", "api_key", row.id, None, {"name": name, "role": role})
    return key, row


def find_api_key(session: Session, key: str) -> ApiKey | None:
    """The stored key matching ``key`` (compared by hash), or None."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.name)))


def remove_api_key(session: Session, name: str, actor: str = "cli") -> None:
    """Delete the key called ``name`` (it stops working at once, or within the API's key cache time)."""
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        raise NotFoundError(f"no API key named {name!r}")
    record_change(session, actor, "remove", "api_key", row.id, {"name": row.name, "role": row.role}, None)
    session.delete(row)
