"""The server's guards, as pure ASGI middleware (no request body is read by any of them):

- :class:`BodyLimit`: a body larger than its route's limit (:class:`ServerSettings`) is refused with
  413 before it is read: at once when ``Content-Length`` says so (the route's handler never runs),
  else as soon as the bytes streamed in pass the limit (nothing more is pulled);
- :class:`SecurityHeaders`: ``Content-Security-Policy``, ``X-Frame-Options``,
  ``X-Content-Type-Options``, ``Referrer-Policy`` on every response, ``Cache-Control: no-store`` on
  every response to a request that carried credentials; and a token in the query string
  (``?token=``) refused with 400, since a URL ends up in access logs and browser history.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truceline.api.errors import PayloadTooLarge

__all__ = [
    "CSP",
    "CSP_DOCS",
    "CSP_DOCUMENTS",
    "SESSION_COOKIE",
    "URL_TOKEN",
    "BodyLimit",
    "SecurityHeaders",
    "ServerSettings",
]

MIB = 1024 * 1024
#: The dashboard's session cookie (see :mod:`truceline.api.session`).
SESSION_COOKIE = "truceline_session"

#: The dashboard and the API: scripts, styles, images, fonts and requests from this origin only, no inline
#: script or style, no plugin, never framed. ``data:`` images: the favicon and Leaflet's own icons.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: Published documents (the bulletin's HTML): its own inline style and ``data:`` images, no script at all.
CSP_DOCUMENTS = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; " \
                "form-action 'none'; frame-ancestors 'none'"  # fmt: skip
#: FastAPI's ``/docs`` and ``/redoc`` pages: Swagger UI and ReDoc load from the jsDelivr CDN and start with an
#: inline script of FastAPI's; they hold no data of the mission (the API calls they make carry the CSP above).
CSP_DOCS = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: The answer to a token in a URL.
URL_TOKEN = ("token: never put a token in a URL (it is written to access logs and browser history); send "
             "'Authorization: Bearer <token>', or sign in on the dashboard (its form, or /#token=<token>)")
_DOC_PAGES = ("/docs", "/redoc")
_DOCUMENTS = ("/api/v1/bulletins/",)


def _env_bytes(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name}: {text!r} is not a size in bytes (a positive integer)")
    return int(text)


@dataclass(frozen=True)
class ServerSettings:
    """The server's limits, settings of the mission (``docs/api.md``).

    Attributes
    ----------
    max_ingest_bytes : int
        Largest body of ``POST /api/v1/ingest/...`` (default 64 MiB; env ``TRUCELINE_MAX_INGEST_BYTES``).
    max_body_bytes : int
        Largest body of any other request (default 1 MiB; env ``TRUCELINE_MAX_BODY_BYTES``).
    session_s : int
        Life of a dashboard session, seconds (default 12 h; env ``TRUCELINE_SESSION_SECONDS``).
    stream_poll_s : float
        How often ``GET /api/v1/stream`` looks for changes to push, seconds (default 2).
    stream_max_s : float
        How long one stream stays open before the client reconnects (and its access is checked again),
        seconds (default 300).
    """

    max_ingest_bytes: int = 64 * MIB
    max_body_bytes: int = 1 * MIB
    session_s: int = 12 * 3600
    stream_poll_s: float = 2.0
    stream_max_s: float = 300.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        """The defaults, overridden by the environment's ``TRUCELINE_MAX_INGEST_BYTES``,
        ``TRUCELINE_MAX_BODY_BYTES`` and ``TRUCELINE_SESSION_SECONDS``.

        Raises
        ------
        ValueError
            Naming a variable that is not a positive integer.
        """
        e = os.environ if env is None else env
        return cls(
            _env_bytes(e, "TRUCELINE_MAX_INGEST_BYTES", cls.max_ingest_bytes),
            _env_bytes(e, "TRUCELINE_MAX_BODY_BYTES", cls.max_body_bytes),
            _env_bytes(e, "TRUCELINE_SESSION_SECONDS", cls.session_s),
        )

    def body_limit(self, path: str) -> int:
        """The largest body a request to ``path`` may send."""
        return self.max_ingest_bytes if path.startswith("/api/v1/ingest/") else self.max_body_bytes


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": str(PayloadTooLarge(limit))}, status_code=413, headers={"Connection": "close"})


class BodyLimit:
    """ASGI middleware: refuse a request body over its route's limit (413) without reading it.

    ``Content-Length`` over the limit: answered at once, the app never called and nothing received.
    A body without it (chunked): bytes are counted as the app pulls them; past the limit the app's
    ``receive`` raises :class:`~truceline.api.errors.PayloadTooLarge`, nothing more is pulled, and
    whatever the app answers (it may have turned the error into a 400) is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.body_limit(scope["path"])
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await JSONResponse({"detail": f"Content-Length: {length[:40]!r} is not a number of bytes"},
                                   status_code=400, headers={"Connection": "close"})(scope, receive, send)  # fmt: skip
                return
            if int(length) > limit:
                await _too_large(limit)(scope, receive, send)
                return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received, over, started = 0, False, False

        async def counting() -> Message:
            nonlocal received, over
            if over:
                raise PayloadTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise PayloadTooLarge(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to the error it was given: the 413 goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await _too_large(limit)(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware: the security headers on every response, ``no-store`` where credentials were sent, and
    ``?token=`` refused (400) before anything else runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        request_headers = Headers(scope=scope)
        credentials = "authorization" in request_headers or f"{SESSION_COOKIE}=" in request_headers.get("cookie", "")
        csp = CSP_DOCS if path in _DOC_PAGES else CSP_DOCUMENTS if path.startswith(_DOCUMENTS) else CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = csp
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if credentials or path.startswith("/api/v1/session"):
                    headers["Cache-Control"] = "no-store"
                if credentials:
                    headers.add_vary_header("Authorization, Cookie")
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        raw = scope.get("query_string", b"").decode("latin-1")
        if any(k.strip().lower() in ("token", "access_token") for k, _ in parse_qsl(raw, keep_blank_values=True)):
            await JSONResponse({"detail": URL_TOKEN}, status_code=400)(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)
