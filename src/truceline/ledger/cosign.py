"""Witness cosignatures (C2SP ``tlog-cosignature``, Ed25519 ``cosignature/v1``) and the quorum a bulletin needs.

A cosignature is one more signature line on the log's signed checkpoint, by a witness's own key::

    "\u2014 " + witness name + " " + base64(key id || timestamp || Ed25519 signature) + "\n"

- key id: ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` (0x04: the cosignature/v1 type, not the
  0x01 of the log's own signatures, so a witness key can never be taken for a log key);
- timestamp: 8 bytes, big-endian, the POSIX time of the cosignature (at most 2^63 - 1);
- the signature covers ``"cosignature/v1\\n" + "time " + decimal timestamp + "\\n"`` followed by the
  checkpoint's text (its final newline included, no signature line).

A witness's verifier key, what the agreement pins, is ``name+keyid+base64(0x04 || public key)``.

Verifiers of the log's signature ignore lines of keys they do not pin, so adding cosignatures to a
checkpoint (and to a bulletin's bundle) never breaks a verifier that does not check them. A bulletin
counts as published when at least ``quorum`` of the pinned witnesses cosigned its checkpoint
(:func:`check_quorum`); a cosignature by a pinned witness that does not verify is a failure.

The mission's side, :func:`attach`: witnesses' cosigned notes are merged into the log's kept checkpoints
and into the bulletins' proof bundles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from truceline.core.errors import Conflict
from truceline.ledger.log import Log, write_atomic
from truceline.ledger.note import (
    MAX_SIGNATURES,
    NoteError,
    _signature_lines,
    b64decode,
    b64encode,
    check_name,
    parse_checkpoint,
)
from truceline.ledger.publish import bundle_bytes

__all__ = [
    "ALG_COSIGNATURE_V1",
    "CosignVerifier",
    "Cosigner",
    "QuorumReport",
    "attach",
    "check_quorum",
    "merge_lines",
    "parse_cosign_vkey",
    "read_witness_keys",
    "signed_message",
    "split_note",
]

ALG_COSIGNATURE_V1 = 0x04
MAX_TIME = 2**63 - 1


def cosign_key_id(name: str, public: bytes) -> bytes:
    """The 4-byte key id of a cosignature/v1 key: ``SHA-256(name || 0x0A || 0x04 || public)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public).digest()[:4]


def signed_message(text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header line, the time line, the checkpoint's text."""
    return f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + text.encode("utf-8")


@dataclass(frozen=True)
class CosignVerifier:
    """A witness's public key as the agreement pins it."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return cosign_key_id(self.name, self.public)

    @property
    def vkey(self) -> str:
        """``name+keyid+base64(0x04 || public)``."""
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public)}"

    @property
    def label(self) -> str:
        return f"{self.name}+{self.key_id.hex()}"

    def verify(self, text: str, raw: bytes) -> int | None:
        """The timestamp of a valid cosignature (``raw``: what follows the key id), None when it fails."""
        if len(raw) != 8 + 64:
            return None
        t = int.from_bytes(raw[:8], "big")
        if t > MAX_TIME:
            return None
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(raw[8:], signed_message(text, t))
        except (InvalidSignature, ValueError):
            return None
        return t


def parse_cosign_vkey(text: str) -> CosignVerifier:
    """A witness's verifier key ``name+keyid+base64(0x04 || public)``.

    Raises
    ------
    NoteError
        When malformed, not of type 0x04, or when the key id does not match.
    """
    if text.strip().startswith("PRIVATE+"):
        raise NoteError("a private key was given where a witness verifier key is expected (not shown)")
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"witness key {text.strip()!r}: expected name+keyid+base64key")
    name, kid, key = parts
    raw = b64decode(key, f"witness key {check_name(name)}")
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise NoteError(f"witness key {name}: not a cosignature/v1 Ed25519 key (type 0x04 and 32 bytes)")
    v = CosignVerifier(name, raw[1:])
    if kid != v.key_id.hex():
        raise NoteError(f"witness key {name}: key id {kid} does not match the key (expected {v.key_id.hex()})")
    return v


@dataclass(frozen=True)
class Cosigner:
    """A witness's private key (``repr`` leaves the seed out)."""

    name: str
    seed: bytes = field(repr=False)

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(check_name(name), Ed25519PrivateKey.generate().private_bytes_raw())

    @property
    def verifier(self) -> CosignVerifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return CosignVerifier(self.name, public)

    def skey(self) -> str:
        """The key file's text: ``PRIVATE+KEY+name+keyid+base64(0x04 || seed)``."""
        v = self.verifier
        return f"PRIVATE+KEY+{self.name}+{v.key_id.hex()}+{b64encode(bytes([ALG_COSIGNATURE_V1]) + self.seed)}"

    @classmethod
    def from_skey(cls, text: str) -> Cosigner:
        """Read a key file's text (errors never quote the key).

        Raises
        ------
        NoteError
        """
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("witness key: expected PRIVATE+KEY+name+keyid+base64key")
        name, kid, key = parts[2:]
        raw = b64decode(key, f"witness key {check_name(name)}")
        if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise NoteError(f"witness key {name}: not a cosignature/v1 key")
        signer = cls(name, raw[1:])
        if signer.verifier.key_id.hex() != kid:
            raise NoteError(f"witness key {name}: key id {kid} does not match the key")
        return signer

    def line(self, text: str, timestamp: int) -> str:
        """The cosignature line (without its newline) of a checkpoint's text at ``timestamp``."""
        sig = Ed25519PrivateKey.from_private_bytes(self.seed).sign(signed_message(text, timestamp))
        raw = self.verifier.key_id + timestamp.to_bytes(8, "big") + sig
        return f"\u2014 {self.name} {b64encode(raw)}"


def read_witness_keys(path: Path) -> list[CosignVerifier]:
    """Pinned witness keys: one per line, blank lines and ``#`` comments ignored.

    Raises
    ------
    NoteError
        Naming the line that is not a witness key, or when the file holds none.
    """
    keys: list[CosignVerifier] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                v = parse_cosign_vkey(line)
            except NoteError as exc:
                raise NoteError(f"{path}:{n}: {exc}") from None
            if v not in keys:
                keys.append(v)
    if not keys:
        raise NoteError(f"{path}: no witness key")
    return keys


def split_note(note: str) -> tuple[str, list[str]]:
    """The text of a signed note and its signature lines (without newlines), checked for form.

    Raises
    ------
    NoteError
    """
    text, _ = _signature_lines(note)
    return text, note[len(text) + 1 :].split("\n")[:-1]


def merge_lines(note: str, lines: Iterable[str]) -> str:
    """The note with the signature ``lines`` it lacks added after its own.

    Raises
    ------
    NoteError
        For more than the signature lines a note may hold.
    """
    text, have = split_note(note)
    merged = have + [line for line in dict.fromkeys(lines) if line not in have]
    if len(merged) > MAX_SIGNATURES:
        raise NoteError(f"signed note: {len(merged)} signature lines (at most {MAX_SIGNATURES})")
    return text + "\n" + "".join(f"{line}\n" for line in merged)


@dataclass
class QuorumReport:
    """The pinned witnesses whose cosignatures verify (with their times), and the failures."""

    quorum: int
    pinned: int
    signed: list[tuple[CosignVerifier, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        names = ", ".join(v.label for v, _ in self.signed) or "none"
        return f"{len(self.signed)} of {self.pinned} pinned witnesses cosigned ({self.quorum} required): {names}"


def check_quorum(note: str, witnesses: Sequence[CosignVerifier], quorum: int) -> QuorumReport:
    """Check a checkpoint's cosignatures against pinned witness keys.

    Parameters
    ----------
    note : str
        The signed checkpoint (its log signature is checked elsewhere).
    witnesses : sequence of CosignVerifier
        The pinned witness keys.
    quorum : int
        How many distinct pinned witnesses must have cosigned.

    Returns
    -------
    QuorumReport
        Failing for a pinned witness's cosignature that does not verify, and when fewer than ``quorum``
        pinned witnesses cosigned.
    """
    rep = QuorumReport(quorum, len(witnesses))
    try:
        text, sigs = _signature_lines(note)
    except NoteError as exc:
        rep.failures.append(f"cosignatures: {exc}")
        return rep
    pinned = {(w.name, w.key_id): w for w in witnesses}
    for name, kid, raw in sigs:
        w = pinned.get((name, kid))
        if w is None:
            continue
        t = w.verify(text, raw)
        if t is None:
            rep.failures.append(f"cosignature by {w.label} does not verify")
        elif all(w != s for s, _ in rep.signed):
            rep.signed.append((w, t))
    if len(rep.signed) < quorum:
        rep.failures.append(f"quorum not met: {rep.summary()}")
    return rep


@dataclass
class AttachReport:
    """What :func:`attach` changed: checkpoints (by size) and bundles, with the cosignatures each gained."""

    checkpoints: dict[int, int] = field(default_factory=dict)
    bundles: dict[Path, int] = field(default_factory=dict)


def _accepted_lines(note: str, kept: str, witnesses: Sequence[CosignVerifier]) -> list[str]:
    """The lines of ``note`` that are valid cosignatures of ``kept``'s text by pinned witnesses."""
    text, lines = split_note(note)
    if text != split_note(kept)[0]:
        cp = parse_checkpoint(text)
        raise Conflict(f"the cosigned checkpoint of size {cp.size} is not the one this log signed at that size")
    pinned = {(w.name, w.key_id): w for w in witnesses}
    out = []
    for line, (name, kid, raw) in zip(lines, _signature_lines(note)[1], strict=True):
        w = pinned.get((name, kid))
        if w is not None and w.verify(text, raw) is not None:
            out.append(line)
    return out


def _refresh_bundle(bundle: Path, log: Log, cosigned: dict[int, str]) -> int:
    """Give a bundle the cosignatures of its checkpoint, or (when it has none) the smallest cosigned
    checkpoint that extends it, its inclusion proofs recomputed; returns the lines it gained."""
    doc = json.loads(bundle.read_text(encoding="utf-8"))
    text, have = split_note(doc["checkpoint"])
    cp = parse_checkpoint(text)
    if cp.origin != log.origin or cp.size > log.size or log.root(cp.size) != cp.root:
        raise Conflict(f"{bundle}: its checkpoint is not one of this log")
    if cp.size in cosigned:
        new = merge_lines(doc["checkpoint"], split_note(cosigned[cp.size])[1])
    else:
        larger = [s for s in cosigned if s > cp.size and len(split_note(cosigned[s])[1]) > len(have)]
        if not larger:
            return 0
        size = min(larger)
        new = cosigned[size]
        for row in doc["files"]:
            row["inclusion"] = [b64encode(h) for h in log.inclusion_proof(int(row["index"]), size)]
    gained = len(split_note(new)[1]) - len(have)
    if new != doc["checkpoint"]:
        doc["checkpoint"] = new
        write_atomic(bundle, bundle_bytes(doc))
    return gained


def attach(
    home: Path, notes: Iterable[str], witnesses: Sequence[CosignVerifier], bundles: Iterable[Path] = ()
) -> AttachReport:
    """Merge witnesses' cosigned checkpoints into the log's kept checkpoints and into proof bundles.

    Parameters
    ----------
    home : Path
        The data directory holding the log.
    notes : iterable of str
        Cosigned checkpoints, as ``truceline ledger witness cosign`` prints them.
    witnesses : sequence of CosignVerifier
        The pinned witness keys: only their cosignatures that verify are attached.
    bundles : iterable of Path
        Proof bundles to update (each gets the cosignatures of its checkpoint or of a later one).

    Returns
    -------
    AttachReport

    Raises
    ------
    Conflict
        For a cosigned checkpoint the log did not sign (another text at that size) or a bundle of
        another log.
    """
    log = Log.open(home)
    rep = AttachReport()
    cosigned: dict[int, str] = {}
    with log.writing():
        for note in notes:
            cp = parse_checkpoint(split_note(note)[0])
            kept = log.checkpoint_at(cp.size)
            if kept is None or cp.origin != log.origin:
                raise Conflict(f"the log {log.origin} kept no checkpoint of size {cp.size} for {cp.origin}")
            merged = merge_lines(cosigned.get(cp.size, kept), _accepted_lines(note, kept, witnesses))
            cosigned[cp.size] = merged
        latest = log.latest_checkpoint()
        for size, merged in cosigned.items():
            kept = log.checkpoint_at(size)
            assert kept is not None
            rep.checkpoints[size] = len(split_note(merged)[1]) - len(split_note(kept)[1])
            write_atomic(log.folder / "checkpoints" / str(size), merged.encode("utf-8"))
            if latest is not None and split_note(latest)[0] == split_note(merged)[0]:
                write_atomic(log.folder / "checkpoint", merge_lines(latest, split_note(merged)[1]).encode("utf-8"))
        for bundle in bundles:
            rep.bundles[bundle] = _refresh_bundle(bundle, log, cosigned)
    return rep
