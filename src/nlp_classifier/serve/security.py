"""API keys and roles. A key is sent as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY`` (what the OpenAI
client sends), or as ``?key=KEY`` on the Perspective endpoints (what Perspective clients send).

Roles, each allowed what the ones before it are: ``client`` (predictions), ``reviewer`` (the review queue and
feedback), ``admin`` (switching models, deleting data). Keys in ``NLPC_API_KEYS`` are admin keys; more keys with
any role live hashed in the workflow database (``nlpc db add-key``). Predictions need a key only when
``require_api_key`` is set; everything else always does. No key is a 401, a key that is unknown or lacks the
role a 403, each saying what to do."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from ..workflow.errors import DatabaseUnavailable
from ..workflow.keys import role_allows
from .dependencies import SettingsDep, WorkflowDep
from .errors import ServiceError
from .settings import ServeSettings
from .workflow import Principal, Workflow

API_KEY_HEADER = "X-API-Key"
ENV_KEY_NAME = "admin"  # the actor recorded for keys from NLPC_API_KEYS

_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="an API key (NLPC_API_KEYS or nlpc db add-key)"
)
_bearer = HTTPBearer(auto_error=False, description="an API key as a bearer token")
_query = APIKeyQuery(name="key", auto_error=False, description="an API key (Perspective style)")

CHALLENGE = {"WWW-Authenticate": f'Bearer realm="nlpc", {API_KEY_HEADER.lower()}'}

HeaderKey = Annotated[str | None, Security(_header)]
BearerKey = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
QueryKey = Annotated[str | None, Security(_query)]


async def authorise(
    settings: ServeSettings, workflow: Workflow, presented: str | None, *, role: str, purpose: str
) -> Principal:
    """The caller of a request that needs ``role`` for ``purpose``, or the 401/403 that says why not."""
    if not presented:
        raise ServiceError(
            401,
            f"{purpose} needs an API key with the {role} role: send it in the {API_KEY_HEADER} header or as "
            "'Authorization: Bearer KEY'",
            headers=CHALLENGE,
        )
    principal: Principal | None = None
    if any(hmac.compare_digest(presented.encode(), key.encode()) for key in settings.api_keys):
        principal = Principal(ENV_KEY_NAME, "admin")
    else:
        known, principal = workflow.cached_principal(presented)
        if not known:
            try:
                principal = await asyncio.to_thread(workflow.principal_for, presented)
            except DatabaseUnavailable as exc:
                raise ServiceError(503, f"cannot check the API key: {exc}") from None
    if principal is None:
        hint = "" if settings.api_keys else " (no keys are set in NLPC_API_KEYS; create one with `nlpc db add-key`)"
        raise ServiceError(403, f"the API key is not valid{hint}")
    if not role_allows(principal.role, role):
        raise ServiceError(
            403, f"{purpose} needs the {role} role; the key '{principal.name}' has the {principal.role} role"
        )
    return principal


def _presented(header: str | None, bearer: HTTPAuthorizationCredentials | None, query: str | None = None) -> str | None:
    return header or (bearer.credentials if bearer else None) or query


async def require_admin_key(
    settings: SettingsDep, workflow: WorkflowDep, header: HeaderKey, bearer: BearerKey
) -> Principal:
    """An admin key (switching models, deleting data)."""
    return await authorise(settings, workflow, _presented(header, bearer), role="admin", purpose="this operation")


async def require_reviewer_key(
    settings: SettingsDep, workflow: WorkflowDep, header: HeaderKey, bearer: BearerKey, query: QueryKey
) -> Principal:
    """A reviewer (or admin) key: the review queue and feedback; ``?key=`` is accepted (Perspective clients)."""
    presented = _presented(header, bearer, query)
    return await authorise(settings, workflow, presented, role="reviewer", purpose="the review queue and feedback")


async def prediction_key(settings: SettingsDep, workflow: WorkflowDep, header: HeaderKey, bearer: BearerKey) -> None:
    """Any valid key when ``require_api_key`` is set."""
    if settings.require_api_key:
        await authorise(settings, workflow, _presented(header, bearer), role="client", purpose="prediction")


async def prediction_key_or_query(
    settings: SettingsDep, workflow: WorkflowDep, header: HeaderKey, bearer: BearerKey, query: QueryKey
) -> None:
    """As ``prediction_key``, also accepting ``?key=`` (Perspective clients)."""
    if settings.require_api_key:
        presented = _presented(header, bearer, query)
        await authorise(settings, workflow, presented, role="client", purpose="prediction")


AdminDep = Annotated[Principal, Depends(require_admin_key)]
ReviewerDep = Annotated[Principal, Depends(require_reviewer_key)]
