"""Ed25519 keys, signed notes and checkpoints, in the C2SP ``signed-note`` and ``tlog-checkpoint`` formats.

Signed note (C2SP signed-note): a UTF-8 text ending in a newline, a blank line, then one or more
signature lines ``"\u2014 " + key name + " " + base64(key id (4 bytes, big-endian) || signature) + "\n"``.
The signature covers the text, its final newline included, and nothing else.

Key id (Ed25519, signature type ``0x01``): the first 4 bytes of
``SHA-256(key name || 0x0A || 0x01 || public key)``. Verifier key (what a party pins):
``name + "+" + 8 hex digits of the key id + "+" + base64(0x01 || public key)``. Signer key (what
:mod:`truceline.ledger.keys` keeps in a 0600 file, never shown): ``PRIVATE+KEY+`` + name + ``+`` + key
id + ``+`` + base64(0x01 || 32-byte seed).

Checkpoint (C2SP tlog-checkpoint), the text of the note: the origin (the log's name), the tree size in
decimal, the root hash in base64, each on its own line, then optional extension lines.

Base64 is the standard alphabet with padding and is read strictly: a string is accepted only if it is
exactly what encoding its bytes gives back (so no two strings decode to the same bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from truceline.core.errors import InvalidInput

__all__ = [
    "ALG_ED25519",
    "Checkpoint",
    "NoteError",
    "Signer",
    "Verifier",
    "b64decode",
    "check_name",
    "key_id",
    "open_note",
    "parse_checkpoint",
    "parse_vkey",
    "sign_note",
    "unverified_checkpoint",
]

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(InvalidInput):
    """A note, key or checkpoint that is malformed or does not verify (the message says what)."""


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: only the canonical encoding of some bytes is accepted.

    Raises
    ------
    NoteError
        Naming ``what`` otherwise.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what}: not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what}: not canonical base64")
    return raw


def b64encode(raw: bytes) -> str:
    """Standard base64 with padding, as text."""
    return base64.b64encode(raw).decode("ascii")


def check_name(name: str, what: str = "key name") -> str:
    """A key name (or origin): non-empty, with no whitespace and no ``+``.

    Raises
    ------
    NoteError
    """
    if not name or "+" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise NoteError(f"{what} {name!r}: must be non-empty, printable, with no spaces and no '+'")
    return name


def key_id(name: str, public: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 key: ``SHA-256(name || 0x0A || 0x01 || public)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key as a party pins it: its name, key id and the 32-byte Ed25519 public key."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    @property
    def vkey(self) -> str:
        """The verifier key text: ``name+keyid+base64(0x01 || public)``."""
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_ED25519]) + self.public)}"

    @property
    def label(self) -> str:
        """``name+keyid``: how messages name the key."""
        return f"{self.name}+{self.key_id.hex()}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def parse_vkey(text: str) -> Verifier:
    """A verifier key ``name+keyid+base64(0x01 || public)``.

    Raises
    ------
    NoteError
        When malformed, of another signature type, or when the key id does not match the name and key.
    """
    if text.strip().startswith("PRIVATE+"):
        raise NoteError("a private key was given where a verifier key is expected (not shown; keep it secret)")
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"verifier key {text.strip()!r}: expected name+keyid+base64key")
    name, kid, key = parts
    check_name(name)
    raw = b64decode(key, f"verifier key {name}")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError(f"verifier key {name}: not an Ed25519 key (type 0x01 and 32 bytes)")
    v = Verifier(name, raw[1:])
    if kid != v.key_id.hex():
        raise NoteError(f"verifier key {name}: key id {kid} does not match the key (expected {v.key_id.hex()})")
    return v


@dataclass(frozen=True)
class Signer:
    """A private Ed25519 key with its name (never shown: ``repr`` leaves the seed out)."""

    name: str
    seed: bytes = field(repr=False)

    @classmethod
    def generate(cls, name: str) -> Signer:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(check_name(name), seed)

    @property
    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return Verifier(self.name, public)

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message`` (64 bytes)."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def skey(self) -> str:
        """The signer key text (what the key file holds)."""
        kid = self.verifier.key_id.hex()
        return f"PRIVATE+KEY+{self.name}+{kid}+{b64encode(bytes([ALG_ED25519]) + self.seed)}"

    @classmethod
    def from_skey(cls, text: str) -> Signer:
        """Read a signer key text.

        Raises
        ------
        NoteError
            When malformed or when its key id does not match (the message never quotes the key).
        """
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key: expected PRIVATE+KEY+name+keyid+base64key")
        name, kid, key = parts[2:]
        raw = b64decode(key, f"signer key {check_name(name)}")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError(f"signer key {name}: not an Ed25519 key")
        signer = cls(name, raw[1:])
        if signer.verifier.key_id.hex() != kid:
            raise NoteError(f"signer key {name}: key id {kid} does not match the key")
        return signer


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The signed note of ``text`` (ending in a newline, no blank line) by ``signers``, in order."""
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise NoteError("note text: must end with a newline and contain no blank line")
    lines = []
    for s in signers:
        sig = s.verifier.key_id + s.sign(text.encode("utf-8"))
        lines.append(f"{SIG_PREFIX}{s.name} {b64encode(sig)}\n")
    return text + "\n" + "".join(lines)


@dataclass(frozen=True)
class Opened:
    """A note whose signature by at least one pinned key verified: its text and the keys that signed it."""

    text: str
    signed_by: list[Verifier]


def _signature_lines(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The text and the (name, key id, signature) of each signature line; NoteError when malformed."""
    if not note.endswith("\n"):
        raise NoteError("signed note: does not end with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("signed note: no blank line before the signatures")
    text, sig_block = note[: cut + 1], note[cut + 2 :]
    lines = sig_block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"signed note: {len(lines)} signature lines (1 to {MAX_SIGNATURES})")
    out = []
    for i, line in enumerate(lines, 1):
        if not line.startswith(SIG_PREFIX) or line.count(" ") != 2:
            raise NoteError(f"signed note: signature line {i} is not '\u2014 NAME BASE64'")
        name, sig = line[len(SIG_PREFIX) :].split(" ")
        raw = b64decode(sig, f"signed note: signature line {i}")
        if len(raw) < 5:
            raise NoteError(f"signed note: signature line {i} is too short")
        out.append((check_name(name), raw[:4], raw[4:]))
    return text, out


def open_note(note: str, verifiers: Iterable[Verifier]) -> Opened:
    """Check a signed note against pinned keys: every signature by a pinned key (same name and key id) must
    verify, and there must be at least one; signatures by other keys are ignored.

    Raises
    ------
    NoteError
        Naming the key whose signature fails, or saying that no pinned key signed.
    """
    text, sigs = _signature_lines(note)
    pinned = {(v.name, v.key_id): v for v in verifiers}
    signed: list[Verifier] = []
    for name, kid, sig in sigs:
        v = pinned.get((name, kid))
        if v is None:
            continue
        if not v.verify(text.encode("utf-8"), sig):
            raise NoteError(f"signed note: the signature by {v.label} does not verify")
        signed.append(v)
    if not signed:
        names = ", ".join(f"{n}+{k.hex()}" for n, k, _ in sigs)
        raise NoteError(f"signed note: no signature by a pinned key (signed by {names})")
    return Opened(text, signed)


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint: the log's origin, its size and root hash, and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The checkpoint's note text."""
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), b64encode(self.root), *self.extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's note text.

    Raises
    ------
    NoteError
        Naming the line that is wrong.
    """
    if not text.endswith("\n"):
        raise NoteError("checkpoint: does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint: fewer than 3 lines (origin, size, root hash)")
    origin, size, root = lines[:3]
    check_name(origin, "checkpoint origin")
    if not _DECIMAL.fullmatch(size):
        raise NoteError(f"checkpoint: tree size {size!r} is not a decimal number")
    raw = b64decode(root, "checkpoint root hash")
    if len(raw) != 32:
        raise NoteError(f"checkpoint: root hash of {len(raw)} bytes (32 expected)")
    if any(not line for line in lines[3:]):
        raise NoteError("checkpoint: empty extension line")
    return Checkpoint(origin, int(size), raw, tuple(lines[3:]))


def unverified_checkpoint(note: str) -> Checkpoint:
    """The checkpoint a signed note carries, its signatures NOT checked (for the log's own files only).

    Raises
    ------
    NoteError
    """
    text, _ = _signature_lines(note)
    return parse_checkpoint(text)
