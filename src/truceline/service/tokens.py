"""API tokens and roles: who may call the HTTP API, and as what.

A token is a random string (``secrets.token_urlsafe(32)``, 43 characters) shown once when it is
made; the store keeps only its keyed hash (``hmac-sha256:`` and the hex HMAC-SHA256 of the token
under the server's secret, :func:`token_key`), a name (the holder, used as the actor of review
actions), a role and, for a liaison officer, the party whose findings it may read. A revoked token
is kept (with ``revoked_at``) and authenticates nobody. Tokens made before the keyed hash (their
record holds a bare hex SHA-256, the format telling them apart) keep working.

The secret is 32 random bytes made once per data directory, in ``DATA/secrets/token.key`` (mode
0600, its folder 0700); a store kept in no folder (``:memory:``) uses a key of the process. The
same key signs the dashboard's sessions (:func:`open_session`): an HttpOnly cookie naming the
token's id and an expiry, never the token.

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
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from truceline.core.errors import InvalidInput, NotFound
from truceline.service.keys import key_file, server_key
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
    "legacy_hash",
    "list_tokens",
    "open_session",
    "revoke_token",
    "session_principal",
    "token_key",
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


#: The file of the server's secret, under the data directory.
KEY_FILE = key_file(Path(), "token")
#: The prefix of a keyed hash in the store (a bare hex SHA-256 is the format of older tokens).
KEYED = "hmac-sha256:"


def token_key(store: Store) -> bytes:
    """The server's secret of ``store`` for tokens and sessions (:func:`truceline.service.keys.server_key`,
    ``token``): ``DATA/secrets/token.key``, made on first use; a key of the process for a store in no folder."""
    return server_key(store, "token")


def hash_token(store: Store, token: str) -> str:
    """What the store keeps of a token: ``hmac-sha256:`` and the hex HMAC-SHA256 under :func:`token_key`."""
    mac = hmac.new(token_key(store), b"token\0" + token.encode("utf-8"), hashlib.sha256)
    return KEYED + mac.hexdigest()


def legacy_hash(token: str) -> str:
    """The bare hex SHA-256 the store kept of tokens made before the keyed hash."""
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
        token_hash=hash_token(store, token),
        created_at=dt.datetime.now(dt.UTC),
    )
    store.add_token(record)
    return token, record


def authenticate(store: Store, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None for an unknown or revoked one."""
    if not token:
        return None
    record = store.token_by_hash(hash_token(store, token))
    if record is None:  # a token made before the keyed hash: its record holds a bare SHA-256
        record = store.token_by_hash(legacy_hash(token))
    return _principal(record)


def _principal(record: ApiToken | None) -> Principal | None:
    if record is None or record.revoked_at is not None or record.role not in TOKEN_ROLES:
        return None
    return Principal(record.role, record.name, record.party, record.token_id)


def _session_mac(store: Store, record: ApiToken, expires: int) -> str:
    text = f"session\0{record.token_id}\0{expires}\0{record.token_hash}".encode()
    return hmac.new(token_key(store), text, hashlib.sha256).hexdigest()


def open_session(store: Store, token: str, ttl_s: int, now: dt.datetime | None = None) -> tuple[str, Principal] | None:
    """A session for a valid token: ``(value, principal)``, None for an unknown or revoked token.

    The value (``<token id>.<expiry, Unix s>.<HMAC>``) names the token and an expiry, signed with
    :func:`token_key`; it never holds the token, and stops working when the token is revoked.
    """
    who = authenticate(store, token)
    if who is None or who.token_id is None:
        return None
    record = next(t for t in store.tokens() if t.token_id == who.token_id)
    expires = int((now or dt.datetime.now(dt.UTC)).timestamp()) + int(ttl_s)
    return f"{record.token_id}.{expires}.{_session_mac(store, record, expires)}", who


def session_principal(store: Store, value: str, now: dt.datetime | None = None) -> Principal | None:
    """The principal of a session value of :func:`open_session`; None if it is malformed, forged,
    expired, or its token revoked."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    token_id, expires_text, mac = parts
    if len(mac) != 64 or mac.strip("0123456789abcdef"):
        return None
    expires = int(expires_text)
    if expires <= (now or dt.datetime.now(dt.UTC)).timestamp():
        return None
    record = next((t for t in store.tokens() if t.token_id == token_id), None)
    if record is None or not hmac.compare_digest(mac, _session_mac(store, record, expires)):
        return None
    return _principal(record)


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
