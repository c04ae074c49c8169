"""Errors of the HTTP API and their statuses, in one table.

Every error response is JSON ``{"detail": "<message>"}`` (a request that fails FastAPI's own
validation adds ``"errors"``, the list of problems). The status comes from the exception's kind,
:data:`STATUSES`, the first match winning:

=====================================================  ======  ===============================================
exception                                              status  when
=====================================================  ======  ===============================================
:class:`BadRequest`, ``QueryError``                    400     a bad query parameter, path parameter or header
:class:`Unauthorized`                                  401     no token where one is needed; an invalid or
                                                               revoked one
``Forbidden`` (:class:`Forbidden` is one)              403     a valid token whose role may not do this
``NotFound`` (:class:`NotFound`, ``ReviewError``,      404     an unknown record, layer, bulletin, kind or
``UnknownKind``)                                               token
``Conflict`` (:class:`Conflict`, ``ReviewConflict``)   409     the action does not fit the record's present
                                                               state
:class:`PayloadTooLarge`                               413     a body over its route's limit (raised by the
                                                               body limit, :mod:`truceline.api.middleware`)
``InvalidInput`` (:class:`Unprocessable`,              422     a body or value that is well formed but wrong
``TokenError``)                                                (empty reason, unknown role...), a coverage
                                                               grid of too many cells
anything else                                          500     a bug: logged with its traceback; the client
                                                               gets ``"internal server error"`` and nothing of
                                                               the exception
=====================================================  ======  ===============================================

``Forbidden``, ``NotFound``, ``Conflict`` and ``InvalidInput`` are the domain errors of
:mod:`truceline.core.errors` that the service layer raises for a user's mistake; the classes of
this module are the API's own of the same kinds (with response headers where needed). A bare
``LookupError``, ``KeyError`` or ``ValueError`` is not a client error: it is a 500.

FastAPI's request validation errors are 400 when they concern the query, path or headers and 422
when they concern the body.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truceline.core import errors as domain
from truceline.service.queries import QueryError

__all__ = [
    "INTERNAL",
    "STATUSES",
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "Unprocessable",
    "error_response",
    "install_handlers",
    "status_of",
]

log = logging.getLogger(__name__)

#: The ``detail`` of every 500: nothing of the exception reaches the client.
INTERNAL = "internal server error"


class ApiError(domain.DomainError):
    """An error the API raises itself, with response headers if needed (its kind gives its status).

    Parameters
    ----------
    detail : str
        The message of the response.
    headers : dict, optional
        Extra response headers.
    """

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    def __str__(self) -> str:
        return self.detail


class BadRequest(ApiError, domain.InvalidInput):
    """A bad query parameter, path parameter or header (400)."""


class Unauthorized(ApiError):
    """No token where one is needed, or an invalid or revoked one (401, with ``WWW-Authenticate`` and any
    ``headers`` given, such as a ``Set-Cookie`` that ends a dead session)."""

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer", **(headers or {})})


class PayloadTooLarge(ApiError):
    """A request body over its route's limit (413).

    Parameters
    ----------
    limit : int
        The route's limit, bytes.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"body: larger than this route's limit of {limit:,} bytes (docs/api.md, Limits)")
        self.limit = limit


class Forbidden(ApiError, domain.Forbidden):
    """A valid token whose role may not do this (403)."""


class NotFound(ApiError, domain.NotFound):
    """An unknown record, route action, bulletin or file (404)."""


class Conflict(ApiError, domain.Conflict):
    """The action does not fit the present state (409)."""


class Unprocessable(ApiError, domain.InvalidInput):
    """A body that is well formed but wrong (422)."""


#: The one table: exception kind -> HTTP status; the first match wins (a subclass before its base).
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (BadRequest, 400),
    (QueryError, 400),
    (Unauthorized, 401),
    (PayloadTooLarge, 413),
    (domain.Forbidden, 403),
    (domain.NotFound, 404),
    (domain.Conflict, 409),
    (domain.InvalidInput, 422),
)


def status_of(exc: BaseException) -> int:
    """The HTTP status of an exception (500 for one the table does not know)."""
    for cls, status in STATUSES:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: BaseException) -> JSONResponse:
    """The JSON response of an exception: its message for a kind of :data:`STATUSES`, else a logged 500
    with the generic :data:`INTERNAL` message."""
    status = status_of(exc)
    if status == 500:
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        return JSONResponse({"detail": INTERNAL}, status_code=500)
    headers = exc.headers if isinstance(exc, ApiError) else {}
    return JSONResponse({"detail": str(exc) or type(exc).__name__}, status_code=status, headers=headers)


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


class _InternalErrors:
    """ASGI middleware: an exception no handler took (a bug) becomes a logged 500 with a generic body.

    It sits inside Starlette's outermost error middleware, so the exception is answered here, logged
    once, and not raised further (a response already started is ended by the server instead).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                log.error("%s %s failed after its response started", scope.get("method"), scope.get("path"),
                          exc_info=exc)  # fmt: skip
                raise
            log.error("%s %s: unhandled %s", scope.get("method"), scope.get("path"), type(exc).__name__,
                      exc_info=exc)  # fmt: skip
            await JSONResponse({"detail": INTERNAL}, status_code=500)(scope, receive, send)


def install_handlers(app: FastAPI) -> None:
    """Register the handlers: the domain errors (:data:`STATUSES`), validation errors, and a logged 500
    for anything else."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(domain.DomainError, _handled)
    app.add_middleware(_InternalErrors)
