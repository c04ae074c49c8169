"""Who is calling and what they may do: the API's single role check.

``Authorization: Bearer <token>`` names a token made by ``truceline token create`` (the store
keeps its SHA-256 hash only). No header: the caller is the public. A header that is not a bearer
token, or a token that is unknown or revoked, is refused with 401 on every endpoint (a bad token
is never quietly read as the public). :data:`PERMISSIONS` says which roles may do each action;
:func:`allow` is the one dependency every route uses to check it: 401 for the public where a
token is needed, 403 for a role that may not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from truceline.api.errors import Forbidden, Unauthorized
from truceline.service.queries import View
from truceline.service.tokens import PUBLIC, ROLES, Principal, authenticate
from truceline.store import Store, open_store

__all__ = ["PERMISSIONS", "PrincipalDep", "StoreDep", "allow", "check", "get_principal", "get_store", "may", "view_of"]

_READERS = ("admin", "analyst", "observer")

#: Action -> roles that may do it (``public``: the caller without a token).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "layers": ROLES,
    "bulletins": ROLES,
    "changes": ROLES,
    "whoami": ROLES,
    "violations": ROLES,
    "incidents": (*_READERS, "liaison"),
    "claims": (*_READERS, "liaison"),
    "aggregates": (*_READERS, "liaison"),
    "events": _READERS,
    "sensors": _READERS,
    "coverage": _READERS,
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
    """The caller: the public without an ``Authorization`` header, else the token's holder.

    Raises
    ------
    Unauthorized
        For a header that is not ``Bearer <token>``, or a token unknown or revoked.
    """
    if "authorization" not in request.headers:
        return PUBLIC
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Authorization: expected 'Bearer <token>'")
    who = authenticate(store, credentials.credentials)
    if who is None:
        raise Unauthorized("invalid or revoked token")
    return who


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
