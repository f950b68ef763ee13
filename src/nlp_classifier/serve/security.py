"""API keys: sent as ``X-API-Key: KEY`` or ``Authorization: Bearer KEY`` (what the OpenAI client sends), or as
``?key=KEY`` on the Perspective endpoint (what Perspective clients send). Switching models always needs one;
predictions need one when ``require_api_key`` is set."""

from __future__ import annotations

import hmac

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from .errors import ServiceError

API_KEY_HEADER = "X-API-Key"

_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="an API key from NLPC_API_KEYS")
_bearer = HTTPBearer(auto_error=False, description="an API key from NLPC_API_KEYS as a bearer token")
_query = APIKeyQuery(name="key", auto_error=False, description="an API key from NLPC_API_KEYS (Perspective style)")

CHALLENGE = {"WWW-Authenticate": f'Bearer realm="nlpc", {API_KEY_HEADER.lower()}'}


def _check(request: Request, presented: str | None, *, required: bool, purpose: str) -> None:
    keys = request.app.state.settings.api_keys
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


async def require_admin_key(
    request: Request,
    header: str | None = Security(_header),
    bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
) -> None:
    """Always needs a valid key (model switching)."""
    _check(request, _presented(header, bearer), required=True, purpose="switching models")


async def prediction_key(
    request: Request,
    header: str | None = Security(_header),
    bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
) -> None:
    """Needs a valid key when ``require_api_key`` is set."""
    _check(
        request, _presented(header, bearer), required=request.app.state.settings.require_api_key, purpose="prediction"
    )


async def prediction_key_or_query(
    request: Request,
    header: str | None = Security(_header),
    bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
    query: str | None = Security(_query),
) -> None:
    """As ``prediction_key``, also accepting ``?key=`` (Perspective clients)."""
    _check(
        request,
        _presented(header, bearer, query),
        required=request.app.state.settings.require_api_key,
        purpose="prediction",
    )
