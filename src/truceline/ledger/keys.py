"""The log's signing keys: made and kept like the server's other secrets, their life recorded in the log.

A private key lives in ``HOME/secrets/ledger/KEYID.key`` (folders 0700, file 0600, made atomically with
``O_EXCL`` and a link, as :mod:`truceline.service.keys` makes its keys), holding the signer key text
(:class:`~truceline.ledger.note.Signer`); it is never printed, logged or put in an entry. What leaves is
the verifier key (``name+keyid+base64``), which the parties pin.

The log itself says which key signs: three entry types, each signed (Ed25519 over
:func:`statement`) so that the log's history of keys can be checked by anyone holding the first key:

- ``key-init`` ``{"key": VKEY, "time": T, "signature": by that key}``: the log's first key;
- ``key-rotation`` ``{"from": OLD, "to": NEW, "time": T, "signature": by OLD, "new_signature": by NEW}``:
  NEW signs from then on; the checkpoint that follows is signed by both, so a party pinning OLD
  verifies the checkpoint that introduces NEW;
- ``key-revocation`` ``{"key": VKEY, "reason": R, "by": ACTIVE, "time": T, "signature": by ACTIVE}``:
  VKEY must no longer be trusted (the signing key itself cannot be revoked: rotate first); its private
  key file, if kept here, is deleted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truceline.core.errors import Conflict, NotFound
from truceline.ledger.log import Log, canonical
from truceline.ledger.note import NoteError, Signer, Verifier, b64decode, b64encode, parse_vkey

__all__ = [
    "KEY_TYPES",
    "KeyState",
    "active_signer",
    "find_signer",
    "key_dir",
    "key_state",
    "keygen",
    "revoke",
    "rotate",
    "statement",
    "verify_key_entry",
]

KEY_TYPES = ("key-init", "key-rotation", "key-revocation")
STATEMENT_PREFIX = b"truceline-ledger key statement\n"


def key_dir(home: Path) -> Path:
    """Where the private keys are kept under a data directory."""
    return Path(home) / "secrets" / "ledger"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _private_folder(home: Path) -> Path:
    folder = key_dir(home)
    for d in (folder.parent, folder):
        d.mkdir(mode=0o700, exist_ok=True, parents=True)
        if d.stat().st_mode & 0o077:
            d.chmod(0o700)
    return folder


def _write_key(file: Path, signer: Signer) -> None:
    """Make a key file (0600) atomically; an existing one is never replaced."""
    write_key_file(file, signer.skey())


def write_key_file(file: Path, skey: str) -> None:
    """Write the private key text ``skey`` to a new file (0600) atomically; an existing one is never replaced
    (:class:`Conflict`). Log keys and witness keys alike."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (skey + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, file)
    except FileExistsError:
        raise Conflict(f"{file}: a key with this id exists already") from None
    finally:
        tmp.unlink()


def _read_key(file: Path) -> Signer:
    if file.stat().st_mode & 0o077:
        file.chmod(0o600)
    try:
        return Signer.from_skey(file.read_text(encoding="ascii"))
    except (NoteError, UnicodeDecodeError) as exc:
        raise RuntimeError(f"{file}: not a signer key ({exc}); restore it from backup") from None


def signers(home: Path) -> list[Signer]:
    """Every private key kept under ``home``."""
    folder = key_dir(home)
    return [_read_key(f) for f in sorted(folder.glob("*.key"))] if folder.is_dir() else []


def find_signer(home: Path, ref: str) -> Signer:
    """The private key ``ref`` names: a key name, ``name+keyid`` or a verifier key.

    Raises
    ------
    NotFound
        When no key kept here matches.
    Conflict
        When a bare name matches several keys (give ``name+keyid``).
    """
    if ref.strip().startswith("PRIVATE+"):
        raise NotFound("a private key was given where a key name or verifier key is expected (not shown)")
    parts = ref.strip().split("+", 2)
    found = [s for s in signers(home) if s.name == parts[0] and (len(parts) < 2 or s.verifier.key_id.hex() == parts[1])]
    if len(parts) == 3:
        found = [s for s in found if s.verifier.vkey == ref.strip()]
    if not found:
        raise NotFound(f"no private key {ref!r} in {key_dir(home)}")
    if len(found) > 1:
        raise Conflict(
            f"{len(found)} keys are named {ref!r}: give NAME+KEYID ({', '.join(s.verifier.label for s in found)})"
        )
    return found[0]


def statement(entry: dict[str, Any]) -> bytes:
    """What a key entry's signatures sign: a fixed prefix and the entry without its signatures."""
    body = {k: v for k, v in entry.items() if k not in ("signature", "new_signature")}
    return STATEMENT_PREFIX + canonical(body)


def verify_key_entry(entry: dict[str, Any]) -> None:
    """Check the signatures of a key entry.

    Raises
    ------
    NoteError
        Naming the signature that fails.
    """
    msg = statement(entry)
    kind = entry.get("type")
    signer = {"key-init": "key", "key-rotation": "from", "key-revocation": "by"}.get(str(kind))
    if signer is None:
        raise NoteError(f"not a key entry: {kind!r}")
    checks = [(signer, "signature")] + ([("to", "new_signature")] if kind == "key-rotation" else [])
    for who, sig in checks:
        v = parse_vkey(str(entry.get(who, "")))
        if not v.verify(msg, b64decode(str(entry.get(sig, "")), f"{kind} {sig}")):
            raise NoteError(f"{kind}: the {sig} by {v.label} does not verify")


def _signed(entry: dict[str, Any], by: Signer, new: Signer | None = None) -> dict[str, Any]:
    msg = statement(entry)
    out = {**entry, "signature": b64encode(by.sign(msg))}
    if new is not None:
        out["new_signature"] = b64encode(new.sign(msg))
    return out


@dataclass
class KeyState:
    """The log's keys as its entries say: the signing key, and the keys retired or revoked."""

    active: Verifier | None = None
    retired: list[Verifier] = field(default_factory=list)
    revoked: list[Verifier] = field(default_factory=list)


def key_state(log: Log) -> KeyState:
    """Read the key entries of the log, in order."""
    state = KeyState()
    for raw in log.entries():
        if b'"type":"key-' not in raw:
            continue
        e = json.loads(raw)
        if e.get("type") == "key-init" and state.active is None:
            state.active = parse_vkey(e["key"])
        elif e.get("type") == "key-rotation":
            if state.active is not None:
                state.retired.append(state.active)
            state.active = parse_vkey(e["to"])
        elif e.get("type") == "key-revocation":
            state.revoked.append(parse_vkey(e["key"]))
    return state


def active_signer(home: Path, log: Log) -> Signer | None:
    """The private key that signs the log's checkpoints; None while the log has no key.

    Raises
    ------
    NotFound
        When the log's signing key is not kept under ``home``.
    """
    active = key_state(log).active
    if active is None:
        return None
    for s in signers(home):
        if s.verifier == active:
            return s
    raise NotFound(f"the log's signing key {active.label} is not in {key_dir(home)}")


def keygen(home: Path, name: str, origin: str | None = None) -> tuple[Verifier, bool]:
    """Make a key; the log's first key (the log made with ``origin``, default ``name``) becomes its signing
    key, recorded by a ``key-init`` entry and a first checkpoint.

    Returns
    -------
    (Verifier, bool)
        The public key, and whether it became the signing key.
    """
    signer = Signer.generate(name)
    log = Log.open(home) if Log.exists(home) else Log.create(home, origin or name)
    if origin is not None and origin != log.origin:
        raise Conflict(f"the log's origin is {log.origin!r}, not {origin!r} (an origin is given once)")
    _write_key(_private_folder(home) / f"{signer.verifier.key_id.hex()}.key", signer)
    with log.writing():
        if key_state(log).active is not None:
            return signer.verifier, False
        entry = _signed({"type": "key-init", "key": signer.verifier.vkey, "time": _now()}, signer)
        log.commit([entry], [signer])
    return signer.verifier, True


def rotate(home: Path, ref: str) -> tuple[Verifier, Verifier]:
    """Make the kept key ``ref`` the signing key: a ``key-rotation`` entry signed by the old key and the
    new, then a checkpoint signed by both. Returns (old, new).

    Raises
    ------
    NotFound, Conflict
        For an unknown key, a log with no key yet, the same key, or a revoked key.
    """
    log = Log.open(home)
    new = find_signer(home, ref)
    with log.writing():
        state = key_state(log)
        old = active_signer(home, log)
        if old is None:
            raise Conflict("the log has no signing key yet: truceline ledger keygen NAME makes its first")
        if new.verifier == old.verifier:
            raise Conflict(f"{new.verifier.label} is the signing key already")
        if new.verifier in state.revoked or new.verifier in state.retired:
            raise Conflict(f"{new.verifier.label} was revoked or retired: make a new key")
        entry = {"type": "key-rotation", "from": old.verifier.vkey, "to": new.verifier.vkey, "time": _now()}
        log.commit([_signed(entry, old, new)], [old, new])
    return old.verifier, new.verifier


def revoke(home: Path, ref: str, reason: str) -> Verifier:
    """Record that a key must no longer be trusted (``ref``: a verifier key, or a kept key's name or
    ``name+keyid``), signed by the signing key; the private key file, if kept, is deleted.

    Raises
    ------
    Conflict
        For the signing key itself (rotate first) or a log with no key.
    """
    log = Log.open(home)
    kept: Signer | None = None
    try:
        kept = find_signer(home, ref)
        target = kept.verifier
    except NotFound:
        target = parse_vkey(ref)
    with log.writing():
        active = active_signer(home, log)
        if active is None:
            raise Conflict("the log has no signing key to sign the revocation")
        if active.verifier == target:
            raise Conflict(f"{target.label} is the signing key: rotate to another key first")
        entry = {"type": "key-revocation", "key": target.vkey, "reason": reason, "by": active.verifier.vkey,
                 "time": _now()}  # fmt: skip
        log.commit([_signed(entry, active)], [active])
    if kept is not None:
        with contextlib.suppress(FileNotFoundError):
            (key_dir(home) / f"{target.key_id.hex()}.key").unlink()
    return target
