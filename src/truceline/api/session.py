"""The dashboard's sign-in: a token exchanged for a session cookie, so that no token is ever in a URL.

``POST /api/v1/session`` with ``{"token": "..."}`` (and the header ``X-Requested-With``) answers the
caller's role and sets the cookie ``truceline_session``: ``HttpOnly`` (no script reads it),
``SameSite=Strict`` (no other site's page sends it), ``Secure`` over HTTPS, ``Path=/``, for
:attr:`~truceline.api.middleware.ServerSettings.session_s`. It holds the token's id and an expiry
signed with the server's secret (:func:`truceline.service.tokens.open_session`), never the token.
``DELETE /api/v1/session`` ends it. The API takes the cookie as it takes ``Authorization: Bearer``
(:func:`truceline.api.auth.get_principal`); a request that changes anything with the cookie alone
must carry ``X-Requested-With`` (CSRF: a page of another origin cannot add that header without a
CORS preflight, which this server never grants).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from truceline.api.auth import CSRF_HEADER, StoreDep, clear_cookie_header, require_csrf_header
from truceline.api.context import CtxDep
from truceline.api.errors import Unauthorized
from truceline.api.middleware import SESSION_COOKIE
from truceline.api.models import SessionBody
from truceline.service.tokens import open_session

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/session", summary=f"Sign in (the dashboard): a token for an HttpOnly session cookie; needs the "
                                 f"header {CSRF_HEADER}")  # fmt: skip
def sign_in(body: SessionBody, request: Request, response: Response, store: StoreDep, ctx: CtxDep) -> dict[str, Any]:
    require_csrf_header(request)
    made = open_session(store, body.token, ctx.settings.session_s)
    if made is None:
        raise Unauthorized("token: unknown or revoked")
    value, who = made
    response.set_cookie(SESSION_COOKIE, value, max_age=ctx.settings.session_s, path="/", httponly=True,
                        secure=request.url.scheme == "https", samesite="strict")  # fmt: skip
    return {"role": who.role, "name": who.name, "party": who.party, "token_id": who.token_id,
            "expires_in_s": ctx.settings.session_s}  # fmt: skip


@router.delete("/session", summary=f"Sign out: the session cookie is cleared; needs the header {CSRF_HEADER}")
def sign_out(request: Request, response: Response) -> dict[str, Any]:
    require_csrf_header(request)
    response.headers["Set-Cookie"] = clear_cookie_header()
    return {"signed_out": True}
