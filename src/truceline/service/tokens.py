"""API tokens and roles: who may call the HTTP API, and as what.

A token is a random string (``secrets.token_urlsafe(32)``, 43 characters) shown once when it is
made; the store keeps only its SHA-256 hash, a name (the holder, used as the actor of review
actions), a role and, for a liaison officer, the party whose findings it may read. A revoked token
is kept (with ``revoked_at``) and authenticates nobody.

Roles
-----
=============  =====================================================================================
role           may
=============  =====================================================================================
``admin``      everything, tokens included
``analyst``    read everything; review actions
``observer``   read what an analyst reads; submit observations (ingest)
``liaison``    read the findings that concern its party (incidents, violations, claims + verdicts);
               never sensor positions or health; no writes
``public``     (no token) published bulletins, violations with positions rounded to 0.01 degree
=============  =====================================================================================

Framework-free: the API's auth dependency and the ``truceline token`` commands call these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from truceline.core.errors import InvalidInput, NotFound
from truceline.store.base import ApiToken, Store

__all__ = [
    "PARTIES",
    "PUBLIC",
    "ROLES",
    "TOKEN_ROLES",
    "Principal",
    "TokenError",
    "authenticate",
    "create_token",
    "hash_token",
    "list_tokens",
    "revoke_token",
]

#: Roles a token may carry.
TOKEN_ROLES = ("admin", "analyst", "observer", "liaison")
#: Every role, ``public`` being the caller without a token.
ROLES = (*TOKEN_ROLES, "public")
#: Parties a liaison token may belong to.
PARTIES = ("UA", "RU")


class TokenError(InvalidInput):
    """A token request that cannot be honoured (unknown role, missing party, a token already revoked...);
    names the argument. An :class:`~truceline.core.errors.InvalidInput` (HTTP 422)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, a name and (liaison) a party.

    Attributes
    ----------
    role : str
        One of :data:`ROLES`.
    name : str
        The token's name (``"anonymous"`` for the public).
    party : str or None
        The liaison officer's party, else None.
    token_id : str or None
        The token used, None for the public.
    """

    role: str
    name: str
    party: str | None = None
    token_id: str | None = None

    @property
    def is_public(self) -> bool:
        """True for a caller without a token."""
        return self.role == "public"


#: The caller without a token.
PUBLIC = Principal("public", "anonymous")


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token's UTF-8 bytes (what the store keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Store, role: str, name: str, party: str | None = None) -> tuple[str, ApiToken]:
    """Make a token, store its hash and return ``(token, stored record)``; the token is not kept.

    Parameters
    ----------
    store : Store
        Where the hash goes.
    role : str
        One of :data:`TOKEN_ROLES`.
    name : str
        Who holds it (non-empty); the actor recorded for its review actions.
    party : str, optional
        Required for ``liaison`` (one of :data:`PARTIES`), refused for the other roles.

    Raises
    ------
    TokenError
        Naming ``role``, ``name`` or ``party``.
    """
    if role not in TOKEN_ROLES:
        raise TokenError(f"role: {role!r} is not one of {', '.join(TOKEN_ROLES)}")
    if not isinstance(name, str) or not name.strip():
        raise TokenError("name: must be a non-empty string")
    if role == "liaison":
        if party not in PARTIES:
            raise TokenError(f"party: a liaison token needs a party, one of {', '.join(PARTIES)} (got {party!r})")
    elif party is not None:
        raise TokenError(f"party: only a liaison token has a party (role {role!r})")
    token = secrets.token_urlsafe(32)
    record = ApiToken(
        token_id="tok-" + secrets.token_hex(6),
        name=name.strip(),
        role=role,
        party=party,
        token_hash=hash_token(token),
        created_at=dt.datetime.now(dt.UTC),
    )
    store.add_token(record)
    return token, record


def authenticate(store: Store, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None for an unknown or revoked one."""
    if not token:
        return None
    record = store.token_by_hash(hash_token(token))
    if record is None or record.revoked_at is not None or record.role not in TOKEN_ROLES:
        return None
    return Principal(record.role, record.name, record.party, record.token_id)


def list_tokens(store: Store) -> list[ApiToken]:
    """Every token (hashes, never tokens), oldest first."""
    return store.tokens()


def revoke_token(store: Store, token_id: str) -> ApiToken:
    """Revoke a token by its id; return its record as now stored.

    Raises
    ------
    NotFound
        (a ``LookupError``) If no token has this id.
    TokenError
        If it is already revoked.
    """
    known = {t.token_id: t for t in store.tokens()}
    if token_id not in known:
        raise NotFound(f"token {token_id!r}: not found")
    if not store.revoke_token(token_id, dt.datetime.now(dt.UTC)):
        raise TokenError(f"token {token_id!r}: already revoked")
    return {t.token_id: t for t in store.tokens()}[token_id]
