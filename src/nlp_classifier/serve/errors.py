"""Errors the API answers with, and their bodies in each dialect: FastAPI's ``{"detail": ...}`` for our own
endpoints, OpenAI's ``{"error": {message, type, param, code}}`` under ``/v1/`` and Google's
``{"error": {code, message, status}}`` under ``/v1alpha1/`` (Perspective), so each kind of client can read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ConfigError, ModelNotFoundError, NlpcError, StaleSwitchError
from ..workflow.errors import ConflictError, DatabaseUnavailable, NotFoundError
from ..workflow.reviews import LabelNotAllowed

OPENAI_PREFIX = "/v1/"
PERSPECTIVE_PREFIX = "/v1alpha1/"

OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    503: "server_error",
}
GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    503: "UNAVAILABLE",
}


class ServiceError(Exception):
    """An error the service answers with (the UI's client raises its own ``ui.client.ApiError``): ``status``, a
    message a person can act on, and for 422s the field (``loc``, e.g. ``("body", "texts", 3)``) it is about."""

    def __init__(
        self,
        status: int,
        message: str,
        loc: Sequence[str | int] | None = None,
        kind: str = "value_error",
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.loc, self.kind, self.headers = status, message, loc, kind, headers


def invalid(loc: Sequence[str | int], message: str, kind: str = "value_error") -> ServiceError:
    """A 422 about one field of the request."""
    return ServiceError(422, message, loc=tuple(loc), kind=kind)


def from_nlpc_error(exc: NlpcError, loc: Sequence[str | int] | None = None) -> ServiceError:
    """Our library's errors as API errors: unknown model or review 404, a review changed or the model switched by
    someone else 409, bad option or decision label 422, the workflow database down 503, and 503 for the rest (a
    broken model file, one that fails to load, no model at all): the server's problem, not the request's."""
    if isinstance(exc, NotFoundError):
        return ServiceError(404, str(exc), loc=loc, kind="not_found")
    if isinstance(exc, (ConflictError, StaleSwitchError)):
        return ServiceError(409, str(exc), loc=loc, kind="conflict")
    if isinstance(exc, LabelNotAllowed):
        return ServiceError(422, str(exc), loc=loc or ("body", "label"), kind="label_not_allowed")
    if isinstance(exc, DatabaseUnavailable):
        return ServiceError(503, str(exc), kind="database_unavailable")
    if isinstance(exc, ModelNotFoundError):
        return ServiceError(404, str(exc), loc=loc, kind="model_not_found")
    if isinstance(exc, ConfigError):
        return ServiceError(422, str(exc), loc=loc or ("body",), kind="value_error")
    return ServiceError(503, str(exc), kind="model_unavailable")


def error_body(path: str, status: int, message: str, errors: list[dict] | None = None) -> dict[str, Any]:
    """The body of an error answer for ``path``'s dialect; ``errors`` are field errors (422)."""
    if path.startswith(OPENAI_PREFIX):
        param = None
        if errors and errors[0]["type"] != "json_invalid":
            param = ".".join(str(p) for p in errors[0]["loc"] if p != "body")
        return {
            "error": {
                "message": message,
                "type": OPENAI_TYPES.get(status, "invalid_request_error"),
                "param": param or None,
                "code": None,
            }
        }
    if path.startswith(PERSPECTIVE_PREFIX):
        return {"error": {"code": status, "message": message, "status": GOOGLE_STATUS.get(status, "UNKNOWN")}}
    if errors is not None:
        return {"detail": errors}
    return {"detail": message}


def _summary(errors: list[dict]) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in errors)


def _respond(
    request: Request, status: int, message: str, errors: list[dict] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(request.url.path, status, message, errors), status_code=status, headers=headers)


async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
    errors = None
    if exc.status == 422:
        errors = [{"loc": list(exc.loc or ("body",)), "msg": exc.message, "type": exc.kind}]
    return _respond(request, exc.status, exc.message, errors, exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for err in exc.errors():
        item = {
            "loc": list(err.get("loc", ("body",))),
            "msg": err.get("msg", "invalid"),
            "type": err.get("type", "value_error"),
        }
        errors.append(item)
    content_type = request.headers.get("content-type", "")
    if errors and errors[0]["type"] == "json_invalid":
        message = f"the request body is not valid JSON ({errors[0]['msg']})"
    elif errors and errors[0]["loc"] == ["body"] and "json" not in content_type.lower():
        # FastAPI reads JSON only when the request says it is JSON; `curl -d` says it is a form
        message = (
            "the request body must be a JSON object sent with Content-Type: application/json (this one is "
            f"{content_type or 'not given'})"
        )
        errors = [{"loc": ["body"], "msg": message, "type": "content_type"}]
    else:
        message = _summary(errors) or "invalid request"
    return _respond(request, 422, message, errors)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):  # FastAPI could not decode the body
        message = f"the request body is not valid JSON ({type(exc.__cause__).__name__}: {exc.__cause__})"
        return _respond(request, 422, message, [{"loc": ["body"], "msg": message, "type": "json_invalid"}])
    return _respond(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def _nlpc_error(request: Request, exc: NlpcError) -> JSONResponse:
    return await _service_error(request, from_nlpc_error(exc))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the dialect of the endpoint that raised it."""
    # Starlette types every handler as taking Exception; each of these takes the class it is registered for.
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(NlpcError, _nlpc_error)  # type: ignore[arg-type]
