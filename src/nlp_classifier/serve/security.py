"""API keys: sent as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY`` (what the OpenAI client sends), or as
``?key=KEY`` on the Perspective endpoint (what Perspective clients send). Switching models always needs one;
predictions need one when ``require_api_key`` is set."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from .dependencies import SettingsDep
from .errors import ServiceError

API_KEY_HEADER = "X-API-Key"

_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="an API key from NLPC_API_KEYS")
_bearer = HTTPBearer(auto_error=False, description="an API key from NLPC_API_KEYS as a bearer token")
_query = APIKeyQuery(name="key", auto_error=False, description="an API key from NLPC_API_KEYS (Perspective style)")

CHALLENGE = {"WWW-Authenticate": f'Bearer realm="nlpc", {API_KEY_HEADER.lower()}'}

HeaderKey = Annotated[str | None, Security(_header)]
BearerKey = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
QueryKey = Annotated[str | None, Security(_query)]


def _check(keys: Sequence[str], presented: str | None, *, required: bool, purpose: str) -> None:
    if not required:
        return
    if not keys:
        raise ServiceError(403, f"{purpose} is disabled: no API keys are configured on the server (set NLPC_API_KEYS)")
    if not presented:
        raise ServiceError(
            401,
            f"{purpose} needs an API key: send it in the {API_KEY_HEADER} header or as 'Authorization: Bearer KEY'",
            headers=CHALLENGE,
        )
    if not any(hmac.compare_digest(presented.encode(), key.encode()) for key in keys):
        raise ServiceError(403, "the API key is not valid")


def _presented(header: str | None, bearer: HTTPAuthorizationCredentials | None, query: str | None = None) -> str | None:
    return header or (bearer.credentials if bearer else None) or query


async def require_admin_key(settings: SettingsDep, header: HeaderKey, bearer: BearerKey) -> None:
    """Always needs a valid key (model switching)."""
    _check(settings.api_keys, _presented(header, bearer), required=True, purpose="switching models")


async def prediction_key(settings: SettingsDep, header: HeaderKey, bearer: BearerKey) -> None:
    """Needs a valid key when ``require_api_key`` is set."""
    _check(settings.api_keys, _presented(header, bearer), required=settings.require_api_key, purpose="prediction")


async def prediction_key_or_query(settings: SettingsDep, header: HeaderKey, bearer: BearerKey, query: QueryKey) -> None:
    """As ``prediction_key``, also accepting ``?key=`` (Perspective clients)."""
    presented = _presented(header, bearer, query)
    _check(settings.api_keys, presented, required=settings.require_api_key, purpose="prediction")
