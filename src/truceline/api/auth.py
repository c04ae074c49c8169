"""Who is calling and what they may do: the API's single role check.

``Authorization: Bearer <token>`` names a token made by ``truceline token create`` (the store
keeps its keyed hash only). Without that header, the dashboard's session cookie
(:mod:`truceline.api.session`) names the token's holder; a request that changes anything with the
cookie alone must carry the header ``X-Requested-With`` (403 otherwise: CSRF). Neither: the caller
is the public. A header that is not a bearer token, a token that is unknown or revoked, or a
session that is expired or forged, is refused with 401 on every endpoint (a bad credential is never
quietly read as the public; the 401 to a dead session clears its cookie). A token in the query
string is refused before any route (:class:`truceline.api.middleware.SecurityHeaders`).
:data:`PERMISSIONS` says which roles may do each action;
:func:`allow` is the one dependency every route uses to check it: 401 for the public where a
token is needed, 403 for a role that may not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from truceline.api.errors import Forbidden, Unauthorized
from truceline.api.middleware import SESSION_COOKIE
from truceline.service.queries import View
from truceline.service.tokens import PUBLIC, ROLES, Principal, authenticate, session_principal
from truceline.store import Store, open_store

__all__ = [
    "CSRF_HEADER",
    "PERMISSIONS",
    "PrincipalDep",
    "StoreDep",
    "allow",
    "check",
    "clear_cookie_header",
    "get_principal",
    "get_store",
    "may",
    "require_csrf_header",
    "view_of",
]

#: The header a cookie-authenticated request that changes anything must carry (any non-empty value).
CSRF_HEADER = "X-Requested-With"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

_READERS = ("admin", "analyst", "observer")

#: Action -> roles that may do it (``public``: the caller without a token).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "layers": ROLES,
    "bulletins": ROLES,
    "ledger": ROLES,  # the transparency log is for everybody: it is how the parties check the mission
    "changes": ROLES,
    "whoami": ROLES,
    "health": ROLES,  # everybody learns the service answers; the processing lag only the mission
    "violations": ROLES,
    "incidents": (*_READERS, "liaison"),
    "claims": (*_READERS, "liaison"),
    "aggregates": (*_READERS, "liaison"),
    "events": _READERS,
    "sensors": _READERS,
    "coverage": _READERS,
    "metrics": _READERS,  # network health and processing lag: the mission's, never the parties'
    "audit": ("admin", "analyst"),
    "review": ("admin", "analyst"),
    "ingest": ("admin", "observer"),
    "tokens": ("admin",),
}

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer <token>`.")


def get_store(request: Request) -> Iterator[Store]:
    """A store connection for one request (SQLite in WAL: readers do not block one another), closed after it."""
    store = open_store(request.app.state.ctx.store_url)
    try:
        yield store
    finally:
        store.close()


StoreDep = Annotated[Store, Depends(get_store)]


def get_principal(
    request: Request,
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller: the holder of the ``Authorization`` header's token, else of the session cookie's, else the
    public.

    Raises
    ------
    Unauthorized
        For a header that is not ``Bearer <token>``, a token unknown or revoked, a session expired or forged.
    Forbidden
        For a request that changes anything with the session cookie and without ``X-Requested-With``.
    """
    if "authorization" in request.headers:
        if credentials is None or not credentials.credentials:
            raise Unauthorized("Authorization: expected 'Bearer <token>'")
        who = authenticate(store, credentials.credentials)
        if who is None:
            raise Unauthorized("invalid or revoked token")
        return who
    session = request.cookies.get(SESSION_COOKIE)
    if session is None:
        return PUBLIC
    found = session_principal(store, session)
    if found is None:
        raise Unauthorized("session: expired, or its token revoked: sign in again",
                           {"Set-Cookie": clear_cookie_header()})  # fmt: skip
    if request.method not in _SAFE_METHODS:
        require_csrf_header(request)
    return found


def require_csrf_header(request: Request) -> None:
    """Refuse (403) a request without the :data:`CSRF_HEADER` header.

    Raises
    ------
    Forbidden
        Naming the header.
    """
    if not request.headers.get(CSRF_HEADER, "").strip():
        raise Forbidden(f"{CSRF_HEADER}: required with the session cookie (CSRF protection; the dashboard sends "
                        "it, other clients use 'Authorization: Bearer <token>')")  # fmt: skip


def clear_cookie_header() -> str:
    """A ``Set-Cookie`` value that ends the session cookie."""
    return f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"


def check(action: str, who: Principal) -> Principal:
    """``who`` if :data:`PERMISSIONS` lets its role do ``action``.

    Raises
    ------
    Unauthorized
        For the public where a token is needed.
    Forbidden
        For a role that may not.
    """
    roles = PERMISSIONS[action]
    if who.role in roles:
        return who
    allowed = ", ".join(r for r in roles if r != "public")
    if who.is_public:
        raise Unauthorized(f"{action}: a token is needed (roles: {allowed})")
    raise Forbidden(f"{action}: role {who.role!r} may not (roles: {allowed})")


def may(action: str, who: Principal) -> bool:
    """Whether :func:`check` would let ``who`` do ``action``."""
    return who.role in PERMISSIONS[action]


def allow(action: str) -> Callable[[Principal], Principal]:
    """The dependency that lets through the roles :data:`PERMISSIONS` gives ``action``.

    Raises
    ------
    Unauthorized
        (from the dependency) for the public where a token is needed.
    Forbidden
        For a role that may not.
    """
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")

    def dependency(who: Annotated[Principal, Depends(get_principal)]) -> Principal:
        return check(action, who)

    dependency.__name__ = f"allow_{action}"
    return dependency


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def view_of(who: Principal) -> View:
    """What a principal may see (:class:`~truceline.service.queries.View`)."""
    return View.for_role(who.role, who.party)
