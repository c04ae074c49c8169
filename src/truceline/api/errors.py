"""Errors of the HTTP API and their statuses, in one place.

Every error response is JSON ``{"detail": "<message>"}`` (a request that fails FastAPI's own
validation adds ``"errors"``, the list of problems). The status comes from the exception:

=============================================  ======  =====================================================
exception                                      status  when
=============================================  ======  =====================================================
:class:`BadRequest`, ``QueryError``            400     a bad query parameter, path parameter or header
:class:`Unauthorized`                          401     no token where one is needed; an invalid or revoked one
:class:`Forbidden`, ``PermissionError``        403     a valid token whose role may not do this
:class:`NotFound`, ``ReviewError``,            404     an unknown record, layer, bulletin, kind or token
``UnknownKind``, ``LookupError``
:class:`Conflict`, ``ReviewConflict``          409     the action does not fit the record's present state
:class:`Unprocessable`, ``ValueError``         422     a body that is well formed but wrong (empty reason...)
=============================================  ======  =====================================================

FastAPI's request validation errors are 400 when they concern the query, path or headers and 422
when they concern the body.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from truceline.service.queries import QueryError, UnknownKind
from truceline.service.review import ReviewConflict, ReviewError
from truceline.service.tokens import TokenError

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Unauthorized",
    "Unprocessable",
    "install_handlers",
    "status_of",
]


class ApiError(Exception):
    """An error with its HTTP status (subclasses set ``status``).

    Parameters
    ----------
    detail : str
        The message of the response.
    headers : dict, optional
        Extra response headers.
    """

    status = 500

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Unprocessable(ApiError):
    status = 422


#: Exceptions of the service layer and the status each means; the first match wins (subclasses first).
_STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (QueryError, 400),
    (PermissionError, 403),
    (ReviewError, 404),
    (UnknownKind, 404),
    (ReviewConflict, 409),
    (TokenError, 422),
    (LookupError, 404),
    (ValueError, 422),
)


def status_of(exc: BaseException) -> int:
    """The HTTP status of an exception (500 for one this table does not know)."""
    if isinstance(exc, ApiError):
        return exc.status
    for cls, status in _STATUSES:
        if isinstance(exc, cls):
            return status
    return 500


def _message(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return exc.detail
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def error_response(exc: BaseException) -> JSONResponse:
    """The JSON response of an exception."""
    headers = exc.headers if isinstance(exc, ApiError) else {}
    return JSONResponse({"detail": _message(exc)}, status_code=status_of(exc), headers=headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    in_body = any(e["loc"][:1] == ["body"] for e in errors)
    text = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return JSONResponse({"detail": text, "errors": errors}, status_code=422 if in_body else 400)


def _handled(_: Request, exc: Exception) -> JSONResponse:
    return error_response(exc)


def install_handlers(app: FastAPI) -> None:
    """Register the handlers: :class:`ApiError`, the service exceptions of the table, validation errors."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _handled)
    for cls, _ in _STATUSES:
        app.add_exception_handler(cls, _handled)
