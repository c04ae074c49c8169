"""A witness: a party (or a third state) that checks the log's checkpoints grow append-only and cosigns them.

A witness keeps, under its own folder ``HOME``::

    HOME/secrets/witness/KEYID.key       its private key (folders 0700, file 0600; never shown)
    HOME/witness/lock                    flock'd while a checkpoint is examined
    HOME/witness/logs/ORIGIN/state.json  per log origin: the last checkpoint it cosigned
                                         {"origin", "size", "root", "checkpoint", "time"}
    HOME/witness/logs/ORIGIN/evidence/   what it refused for cause: a split view (same size, another root)
                                         or a checkpoint not shown to extend the last one, each a folder
                                         with both signed checkpoints (and the proof offered)

(``ORIGIN`` is the origin with ``/`` and other unsafe characters percent-escaped.)

:func:`cosign` checks a checkpoint (a C2SP signed note) against the log's pinned keys; against the last
checkpoint it cosigned for that origin it requires: not older; at the same size the same root (else a
**split view**: the log showed two different trees of one size, both signed); at a larger size a
consistency proof (``truceline ledger prove --consistency OLD NEW``) from the old root to the new one.
Then it appends its cosignature (:mod:`.cosign`) and records the checkpoint as its new state (written
atomically). :func:`compare` tells whether two checkpoints of one log (e.g. one from each party) can
both be true.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time as _time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truceline.core.errors import Conflict, NotFound
from truceline.ledger import merkle
from truceline.ledger.cosign import Cosigner, CosignVerifier, merge_lines
from truceline.ledger.keys import write_key_file
from truceline.ledger.log import write_atomic
from truceline.ledger.note import Checkpoint, NoteError, Verifier, b64decode, b64encode, open_note, parse_checkpoint

__all__ = [
    "Comparison",
    "WitnessRefusal",
    "compare",
    "cosign",
    "witness_keygen",
    "witness_signer",
    "witness_state",
]


class WitnessRefusal(Conflict):
    """The witness will not cosign: ``kind`` is ``signature``, ``origin``, ``older``, ``inconsistent`` or
    ``split-view``; ``evidence`` the folder where both checkpoints were kept (for cause)."""

    def __init__(self, kind: str, message: str, evidence: Path | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.evidence = evidence


def _key_dir(home: Path) -> Path:
    return Path(home) / "secrets" / "witness"


def _log_dir(home: Path, origin: str) -> Path:
    return Path(home) / "witness" / "logs" / urllib.parse.quote(origin, safe="")


def witness_keygen(home: Path, name: str) -> CosignVerifier:
    """Make the witness's key (one per ``home``), kept 0600 in a 0700 folder; returns its verifier key.

    Raises
    ------
    Conflict
        When ``home`` has a witness key already.
    """
    folder = _key_dir(home)
    for d in (folder.parent.parent, folder.parent, folder):
        d.mkdir(mode=0o700, exist_ok=True)
    for d in (folder.parent, folder):
        d.chmod(0o700)
    if any(folder.glob("*.key")):
        raise Conflict(f"{folder}: this witness has a key already")
    signer = Cosigner.generate(name)
    file = folder / f"{signer.verifier.key_id.hex()}.key"
    write_key_file(file, signer.skey())
    return signer.verifier


def witness_signer(home: Path) -> Cosigner:
    """The witness's private key.

    Raises
    ------
    NotFound
        When ``home`` has no witness key (``truceline ledger witness keygen NAME --home DIR``).
    """
    files = sorted(_key_dir(home).glob("*.key")) if _key_dir(home).is_dir() else []
    if not files:
        raise NotFound(f"{_key_dir(home)}: no witness key (truceline ledger witness keygen NAME --home DIR)")
    if files[0].stat().st_mode & 0o077:
        files[0].chmod(0o600)
    try:
        return Cosigner.from_skey(files[0].read_text(encoding="ascii"))
    except (NoteError, UnicodeDecodeError) as exc:
        raise NotFound(f"{files[0]}: not a witness key ({exc})") from None


def witness_state(home: Path, origin: str) -> dict[str, Any] | None:
    """The last checkpoint the witness cosigned for ``origin``: {"origin", "size", "root", ...}, or None."""
    f = _log_dir(home, origin) / "state.json"
    return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    folder = Path(home) / "witness"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _keep_evidence(home: Path, origin: str, kind: str, seen: str, offered: str, proof: Any, why: str) -> Path:
    """Keep both signed checkpoints (and the proof offered) in a new folder of the origin's evidence."""
    folder = _log_dir(home, origin) / "evidence" / f"{_stamp()}-{kind}"
    folder.mkdir(parents=True)
    write_atomic(folder / "seen.checkpoint", seen.encode("utf-8"))
    write_atomic(folder / "offered.checkpoint", offered.encode("utf-8"))
    if proof is not None:
        write_atomic(folder / "proof.json", (json.dumps(proof, indent=2) + "\n").encode("utf-8"))
    write_atomic(folder / "what.txt", (why + "\n").encode("utf-8"))
    return folder


def _open(note: str, log_keys: Sequence[Verifier], what: str = "checkpoint") -> Checkpoint:
    try:
        return parse_checkpoint(open_note(note, log_keys).text)
    except NoteError as exc:
        raise WitnessRefusal("signature", f"{what}: {exc}") from None


def _proof_hashes(proof: dict[str, Any] | None, old: int, new: int) -> list[bytes] | None:
    """The consistency proof's hashes when ``proof`` is one between sizes ``old`` and ``new``, else None."""
    if not isinstance(proof, dict) or proof.get("old") != old or proof.get("new") != new:
        return None
    hashes = proof.get("proof")
    if not isinstance(hashes, list):
        return None
    try:
        return [b64decode(str(h), "consistency hash") for h in hashes]
    except NoteError:
        return None


def _extends(old: Checkpoint, new: Checkpoint, proof: dict[str, Any] | None) -> bool | None:
    """Whether ``new`` extends ``old`` (sizes differ) per the proof; None when no proof of those sizes."""
    hashes = _proof_hashes(proof, old.size, new.size)
    if hashes is None:
        return None
    return merkle.verify_consistency(old.size, new.size, old.root, new.root, hashes)


def _check_against(home: Path, last: dict[str, Any], note: str, cp: Checkpoint, proof: dict[str, Any] | None) -> None:
    """Refuse ``cp`` unless it is the last cosigned checkpoint or provably extends it."""
    seen = Checkpoint(cp.origin, int(last["size"]), b64decode(last["root"], "state root"))
    if cp.size < seen.size:
        raise WitnessRefusal("older", f"older: size {cp.size} is below the size {seen.size} already cosigned")
    if cp.size == seen.size:
        if cp.root != seen.root:
            why = (f"SPLIT VIEW: log {cp.origin} signed two different trees of size {cp.size} "
                   f"(root {b64encode(seen.root)} cosigned before, {b64encode(cp.root)} now)")  # fmt: skip
            ev = _keep_evidence(home, cp.origin, "split-view", last["checkpoint"], note, proof, why)
            raise WitnessRefusal("split-view", f"{why}; both checkpoints kept in {ev}", ev)
        return
    ok = _extends(seen, cp, proof)
    if ok is None:
        raise WitnessRefusal(
            "inconsistent",
            f"inconsistent: no consistency proof from size {seen.size} to {cp.size} "
            f"(truceline ledger prove --consistency {seen.size} {cp.size})",
        )
    if not ok:
        why = (f"inconsistent: the log at size {cp.size} does not extend the log at size {seen.size} the witness "
               "cosigned (a fork, or a wrong proof)")  # fmt: skip
        ev = _keep_evidence(home, cp.origin, "inconsistent", last["checkpoint"], note, proof, why)
        raise WitnessRefusal("inconsistent", f"{why}; both checkpoints kept in {ev}", ev)


def cosign(
    home: Path,
    note: str,
    log_keys: Sequence[Verifier],
    proof: dict[str, Any] | None = None,
    now: int | None = None,
    origin: str | None = None,
) -> str:
    """Check a checkpoint and cosign it (module docstring).

    Parameters
    ----------
    home : Path
        The witness's folder.
    note : str
        The log's signed checkpoint.
    log_keys : sequence of Verifier
        The log's pinned keys.
    proof : dict, optional
        ``truceline ledger prove --consistency OLD NEW`` output, OLD the size last cosigned.
    now : int, optional
        The cosignature's POSIX time (default: the clock).
    origin : str, optional
        The origin the checkpoint must name.

    Returns
    -------
    str
        The checkpoint with the witness's cosignature appended.

    Raises
    ------
    WitnessRefusal
        Saying why (a split view or an inconsistent checkpoint is kept as evidence).
    NotFound
        When the witness has no key.
    """
    signer = witness_signer(home)
    cp = _open(note, log_keys)
    if origin is not None and cp.origin != origin:
        raise WitnessRefusal("origin", f"checkpoint: origin {cp.origin!r}, expected {origin!r}")
    with _locked(home):
        last = witness_state(home, cp.origin)
        if last is not None:
            _check_against(home, last, note, cp, proof)
        t = int(_time.time()) if now is None else now
        if last is not None and t < int(last.get("time", 0)):
            t = int(last["time"])  # never a cosignature older than the last one
        out = merge_lines(note, [signer.line(cp.text(), t)])
        state = {"origin": cp.origin, "size": cp.size, "root": b64encode(cp.root), "checkpoint": note, "time": t}
        folder = _log_dir(home, cp.origin)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "state.json", (json.dumps(state, indent=2) + "\n").encode("utf-8"))
    return out


@dataclass(frozen=True)
class Comparison:
    """What two checkpoints of one log say together: ``consistent``, ``split-view`` or ``unknown`` (sizes
    differ and no proof was given), with a sentence."""

    status: str
    message: str


def compare(a: str, b: str, log_keys: Sequence[Verifier], proof: dict[str, Any] | None = None) -> Comparison:
    """Whether two signed checkpoints of one log can both be true.

    Same size: consistent when the roots are equal, a split view otherwise. Different sizes: the smaller
    must be a prefix of the larger per ``proof`` (``ledger prove --consistency SMALL LARGE``).

    Raises
    ------
    WitnessRefusal
        When a checkpoint's signature by the log's pinned keys fails, or they are of two logs.
    """
    ca, cb = _open(a, log_keys, "A"), _open(b, log_keys, "B")
    if ca.origin != cb.origin:
        raise WitnessRefusal("origin", f"the checkpoints are of two logs ({ca.origin!r}, {cb.origin!r})")
    if ca.size == cb.size:
        if ca.root == cb.root:
            return Comparison("consistent", f"consistent: the same tree of size {ca.size}")
        return Comparison(
            "split-view",
            f"SPLIT VIEW: log {ca.origin} signed two different trees of size {ca.size} "
            f"({b64encode(ca.root)} and {b64encode(cb.root)})",
        )
    small, large = (ca, cb) if ca.size < cb.size else (cb, ca)
    ok = _extends(small, large, proof)
    if ok is None:
        return Comparison(
            "unknown",
            f"unknown: sizes {small.size} and {large.size} differ; give the proof of "
            f"truceline ledger prove --consistency {small.size} {large.size}",
        )
    if not ok:
        return Comparison(
            "split-view",
            f"SPLIT VIEW: the log at size {small.size} is not a prefix of the log at size {large.size} "
            "(the consistency proof fails)",
        )
    return Comparison("consistent", f"consistent: the log at size {large.size} extends the log at size {small.size}")
