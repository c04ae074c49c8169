"""The server's secrets: one 32-byte key per purpose, made once per data directory, never shown.

A key lives in ``DATA/secrets/NAME.key`` (folder 0700, file 0600), made on first use atomically (two
processes racing both end with the one that was linked first). Purposes in use: ``token`` (tokens at
rest and session cookies, :mod:`truceline.service.tokens`) and ``public-id`` (keyed public ids,
:mod:`truceline.service.redaction`). One key per purpose, so that one leaking gives nothing of the other.

A store kept in no directory (in memory) gets a key of this process only: its tokens and public ids
last as long as the process. A store kept in a database server (PostGIS) keeps its keys beside the
server's configuration: in ``$TRUCELINE_SECRETS_DIR/secrets/`` when set (what several API machines of
one store must share), else in ``$XDG_CONFIG_HOME/truceline/stores/<digest of the store's URL, password
left out>/secrets/`` (``~/.config`` by default), so that tokens and public ids outlive the process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from truceline.core.errors import Conflict

__all__ = ["KEY_BYTES", "PURPOSES", "carry_keys", "data_dir_of", "key_file", "key_home_of_url", "server_key",
           "server_store_home"]  # fmt: skip

KEY_BYTES = 32
#: The purposes keys are made for (module docstring).
PURPOSES = ("token", "public-id")
_KEYS: dict[tuple[str, str], bytes] = {}
_LOCK = threading.Lock()


def data_dir_of(store: Any) -> Path | None:
    """The data directory of a store kept in files (the folder of its ``path``), None otherwise."""
    path = str(getattr(store, "path", "") or "")
    if not path or path == ":memory:" or "://" in path:
        return None
    return Path(path).resolve().parent


def server_store_home(store: Any) -> Path | None:
    """Where a store kept in a database server keeps its keys (module docstring); None for one that is not."""
    return _server_home(str(getattr(store, "path", "") or ""))


def _server_home(path: str) -> Path | None:
    """:func:`server_store_home` of a store whose ``path`` (its URL, password left out) is ``path``."""
    if "://" not in path:
        return None
    env = os.environ.get("TRUCELINE_SECRETS_DIR", "").strip()
    if env:
        return Path(env)
    config = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(config) / "truceline" / "stores" / hashlib.sha256(path.encode()).hexdigest()[:16]


def key_home_of_url(url: str | Path) -> Path | None:
    """Where the store at ``url`` keeps its keys: its data directory, or beside the configuration for a
    database server (module docstring); None for a store in memory."""
    from truceline.store.postgis_schema import redact
    from truceline.store.registry import data_dir_of

    data_dir = data_dir_of(url)
    if data_dir is not None:
        return None if str(data_dir) == ":memory:" else data_dir
    return _server_home(redact(str(url)))


def carry_keys(src_url: str | Path, dst_url: str | Path) -> list[str]:
    """Give the store at ``dst_url`` the keys of the one at ``src_url`` (``store copy``): its tokens and
    public ids keep working there. Returns the purposes carried (a key the source never made is not).

    Raises
    ------
    Conflict
        When the destination already has another key for a purpose (its tokens and public ids would
        not be the source's; the message says which file).
    """
    src, dst = key_home_of_url(src_url), key_home_of_url(dst_url)
    if src is None or dst is None:
        return []
    carried = []
    for purpose in PURPOSES:
        have = key_file(src, purpose)
        if not have.is_file():
            continue
        key, there = _read(have), key_file(dst, purpose)
        if there.is_file():
            if _read(there) != key:
                raise Conflict(
                    f"{there}: the destination has another {purpose} key than the source: its tokens and "
                    "public ids would not hold there (move that file away, then copy again)"
                )
            continue
        _make(there, key)
        carried.append(purpose)
    return carried


def key_file(data_dir: Path, purpose: str) -> Path:
    """Where the key of ``purpose`` is kept under ``data_dir``."""
    return data_dir / "secrets" / f"{purpose}.key"


def _make(file: Path, key: bytes | None = None) -> None:
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES) if key is None else key)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        with contextlib.suppress(FileExistsError):  # another process made it first: its key stands
            os.link(tmp, file)
    finally:
        tmp.unlink()


def _read(file: Path) -> bytes:
    key = file.read_bytes()
    if len(key) != KEY_BYTES:
        raise RuntimeError(f"{file}: a key is {KEY_BYTES} bytes, this one {len(key)} (restore it from backup)")
    if file.stat().st_mode & 0o077:
        file.chmod(0o600)
    return key


def server_key(store_or_dir: Any, purpose: str) -> bytes:
    """The key of ``purpose`` for a store (or a data directory), made on first use.

    Raises
    ------
    RuntimeError
        For a key file of the wrong length (never silently replaced: tokens and ids hang on it).
    OSError
        If the secrets folder cannot be written.
    """
    if isinstance(store_or_dir, Path | str):
        data_dir: Path | str | None = store_or_dir
    else:
        data_dir = data_dir_of(store_or_dir) or server_store_home(store_or_dir)
    name = "" if data_dir is None else str(Path(data_dir).resolve())
    with _LOCK:
        key = _KEYS.get((name, purpose))
        if key is None:
            if data_dir is None:
                key = secrets.token_bytes(KEY_BYTES)
            else:
                file = key_file(Path(data_dir), purpose)
                if not file.exists():
                    _make(file)
                key = _read(file)
            _KEYS[(name, purpose)] = key
    return key
