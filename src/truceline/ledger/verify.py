"""Offline verification of a bulletin's proof bundle against pinned keys (what ``truceline ledger verify``
does; ``scripts/verify_bulletin.py`` does the same with no truceline installed).

Every check that fails is named (which file, the signature, the root), never only the first:

1. the bundle is UTF-8 JSON in its one canonical form (:func:`~truceline.ledger.publish.bundle_bytes`),
   with exactly the documented fields;
2. the checkpoint is a signed note whose signatures by pinned keys all verify (at least one), and its
   text a checkpoint (origin, size, root), of the expected origin when one is given;
3. for each file: its entry is a ``bulletin-file`` entry of this bulletin and path; the inclusion path
   leads from the entry's leaf hash at its index to the checkpoint's root; the file in the folder has
   the entry's size and SHA-256;
4. the folder holds no file the bundle leaves out, and ``manifest.json`` (when logged) lists exactly the
   other files, with the same SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from truceline.ledger import merkle
from truceline.ledger.note import Checkpoint, NoteError, Verifier, b64decode, open_note, parse_checkpoint, parse_vkey
from truceline.ledger.publish import BUNDLE_FORMAT, PROOF_FILE, bundle_bytes

__all__ = ["BundleReport", "read_keys", "verify_bundle", "verify_consistency_doc"]

_TOP = {"bulletin", "checkpoint", "files", "format"}
_ROW = {"entry", "index", "inclusion", "path"}


@dataclass
class BundleReport:
    """What a verification found: the failures (empty when the bulletin verifies) and what was checked."""

    bundle: Path
    failures: list[str] = field(default_factory=list)
    bulletin: str = ""
    checkpoint: Checkpoint | None = None
    signed_by: list[Verifier] = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


def read_keys(path: Path) -> list[Verifier]:
    """Pinned verifier keys: one per line, blank lines and ``#`` comments ignored.

    Raises
    ------
    NoteError
        Naming the line that is not a verifier key, or when the file holds none.
    """
    keys = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                keys.append(parse_vkey(line))
            except NoteError as exc:
                raise NoteError(f"{path}:{n}: {exc}") from None
    if not keys:
        raise NoteError(f"{path}: no verifier key")
    return keys


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _parse(raw: bytes, rep: BundleReport) -> dict[str, Any] | None:
    """The bundle's content when its structure holds (failures added otherwise)."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        rep.failures.append(f"bundle: not JSON ({exc})")
        return None
    if not isinstance(doc, dict) or set(doc) != _TOP:
        rep.failures.append(f"bundle: expected the fields {sorted(_TOP)}")
        return None
    if bundle_bytes(doc) != raw:
        rep.failures.append("bundle: not in its canonical form (it was altered)")
    if doc["format"] != BUNDLE_FORMAT:
        rep.failures.append(f"bundle: format {doc['format']!r} (expected {BUNDLE_FORMAT})")
    rows = doc["files"]
    if not (isinstance(doc["bulletin"], str) and isinstance(doc["checkpoint"], str) and isinstance(rows, list)
            and all(isinstance(r, dict) and set(r) == _ROW for r in rows)):  # fmt: skip
        rep.failures.append(f"bundle: bulletin and checkpoint must be text, files a list of {sorted(_ROW)}")
        return None
    rep.bulletin = doc["bulletin"]
    return doc


def _checkpoint(note: str, keys: list[Verifier], origin: str | None, rep: BundleReport) -> Checkpoint | None:
    try:
        opened = open_note(note, keys)
        cp = parse_checkpoint(opened.text)
    except NoteError as exc:
        rep.failures.append(f"checkpoint: {exc}")
        return None
    if origin is not None and cp.origin != origin:
        rep.failures.append(f"checkpoint: origin {cp.origin!r}, expected {origin!r}")
    rep.checkpoint, rep.signed_by = cp, opened.signed_by
    return cp


def _safe(path: Any) -> str | None:
    if not isinstance(path, str) or not path or "\\" in path:
        return None
    p = PurePosixPath(path)
    return None if p.is_absolute() or ".." in p.parts or str(p) != path else path


def _entry(row: dict[str, Any], bulletin: str, rep: BundleReport) -> dict[str, Any] | None:
    """The row's entry when it is a bulletin-file entry of this bulletin and path."""
    name = row["path"]
    try:
        e = json.loads(row["entry"]) if isinstance(row["entry"], str) else None
    except ValueError:
        e = None
    if not isinstance(e, dict) or e.get("type") != "bulletin-file":
        rep.failures.append(f"{name}: the entry is not a bulletin-file entry")
        return None
    if e.get("bulletin") != bulletin or e.get("path") != name:
        rep.failures.append(f"{name}: the entry is of {e.get('bulletin')!r} / {e.get('path')!r}, not this file")
    sha, size = e.get("sha256"), e.get("bytes")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha) and _is_int(size)):
        rep.failures.append(f"{name}: the entry has no sha256 (64 hex digits) and bytes")
        return None
    return e


def _included(row: dict[str, Any], cp: Checkpoint, rep: BundleReport) -> None:
    name, index, path = row["path"], row["index"], row["inclusion"]
    try:
        if not _is_int(index) or not isinstance(path, list) or not all(isinstance(h, str) for h in path):
            raise NoteError("index must be a number, inclusion a list of base64 hashes")
        hashes = [b64decode(h, "inclusion hash") for h in path]
        if any(len(h) != merkle.HASH_BYTES for h in hashes):
            raise NoteError("an inclusion hash is not 32 bytes")
    except NoteError as exc:
        rep.failures.append(f"{name}: {exc}")
        return
    leaf = merkle.leaf_hash(row["entry"].encode("utf-8"))
    if not merkle.verify_inclusion(index, cp.size, leaf, hashes, cp.root):
        rep.failures.append(
            f"{name}: the inclusion proof of entry {index} does not lead to the checkpoint's root (size {cp.size})"
        )


def _file(folder: Path, row: dict[str, Any], e: dict[str, Any], rep: BundleReport) -> None:
    name = row["path"]
    file = folder / name
    if not file.is_file():
        rep.failures.append(f"{name}: missing from {folder}")
        return
    data = file.read_bytes()
    if len(data) != e["bytes"] or hashlib.sha256(data).hexdigest() != e["sha256"]:
        rep.failures.append(f"{name}: the file differs from the one logged (SHA-256 or size)")


def _coverage(folder: Path, rows: list[dict[str, Any]], entries: dict[str, dict[str, Any]], rep: BundleReport) -> None:
    """No file of the folder left out; the manifest agrees with the bundle."""
    listed = {r["path"] for r in rows if isinstance(r["path"], str)}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {PROOF_FILE}
    rep.failures += [f"{p}: in the folder but not in the bundle" for p in sorted(present - listed)]
    m = entries.get("manifest.json")
    if m is None or not (folder / "manifest.json").is_file():
        return
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        files = {f["path"]: f["sha256"] for f in manifest["files"]}
    except (ValueError, KeyError, TypeError):
        rep.failures.append("manifest.json: not a manifest with files")
        return
    if set(files) != listed - {"manifest.json"}:
        rep.failures.append("manifest.json: does not list the same files as the bundle")
    rep.failures += [f"{p}: manifest.json gives another SHA-256 than the log" for p, sha in sorted(files.items())
                     if p in entries and entries[p]["sha256"] != sha]  # fmt: skip


def verify_bundle(path: Path, keys: Iterable[Verifier], origin: str | None = None) -> BundleReport:
    """Verify a proof bundle (a ``ledger-proof.json``, or the folder holding one) against pinned keys.

    Returns
    -------
    BundleReport
        Every failure named (module docstring); ``ok`` when there is none.
    """
    bundle = path / PROOF_FILE if path.is_dir() else path
    rep = BundleReport(bundle)
    try:
        raw = bundle.read_bytes()
    except OSError as exc:
        rep.failures.append(f"bundle: cannot read {bundle} ({exc.strerror})")
        return rep
    doc = _parse(raw, rep)
    if doc is None:
        return rep
    cp = _checkpoint(doc["checkpoint"], list(keys), origin, rep)
    entries: dict[str, dict[str, Any]] = {}
    editions, seen = set(), set()
    for row in doc["files"]:
        if _safe(row["path"]) is None or row["path"] in seen or row["path"] == PROOF_FILE:
            rep.failures.append(f"bundle: file path {row['path']!r} is unsafe or repeated")
            continue
        seen.add(row["path"])
        e = _entry(row, doc["bulletin"], rep)
        if cp is not None:
            _included(row, cp, rep)
        if e is not None:
            entries[row["path"]] = e
            editions.add(e.get("edition"))
            _file(bundle.parent, row, e, rep)
    if len(editions) > 1:
        rep.failures.append(f"bundle: entries of several editions {sorted(map(str, editions))}")
    if not doc["files"]:
        rep.failures.append("bundle: lists no file")
    _coverage(bundle.parent, doc["files"], entries, rep)
    rep.files = len(entries)
    return rep


def verify_consistency_doc(doc: dict[str, Any], keys: Iterable[Verifier]) -> list[str]:
    """Verify what ``truceline ledger prove --consistency`` prints: both checkpoints signed by a pinned key,
    of one origin, and the proof that the older is a prefix of the newer. Returns the failures."""
    keys, cps, failures = list(keys), [], []
    for which in ("old", "new"):
        try:
            cps.append(parse_checkpoint(open_note(str(doc.get(f"{which}_checkpoint", "")), keys).text))
        except NoteError as exc:
            failures.append(f"{which} checkpoint: {exc}")
    if failures:
        return failures
    old, new = cps
    if old.origin != new.origin:
        return [f"the checkpoints are of two logs ({old.origin!r}, {new.origin!r})"]
    try:
        proof = [b64decode(str(h), "consistency hash") for h in doc.get("proof", [])]
    except NoteError as exc:
        return [str(exc)]
    if not merkle.verify_consistency(old.size, new.size, old.root, new.root, proof):
        return [f"the log at size {new.size} does not extend the log at size {old.size} (consistency proof fails)"]
    return []
