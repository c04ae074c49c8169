"""Publishing a bulletin into the log: one entry per file, a signed checkpoint, a proof bundle in its folder.

The bundle (``ledger-proof.json`` in the bulletin's folder) is self-contained: with the folder and the
mission's pinned verifier keys, a party checks offline that every file is exactly what the log holds
(:mod:`truceline.ledger.verify`, or ``scripts/verify_bulletin.py`` with no truceline installed)::

    {
      "bulletin": "bulletin-2026-09-02-public",
      "checkpoint": "<the signed checkpoint, a signed note>",
      "files": [
        {"entry": "<the entry's JSON, exactly the leaf's data>", "index": 12,
         "inclusion": ["<base64 hash>", ...], "path": "bulletin.html"},
        ...
      ],
      "format": "truceline-ledger-proof/1"
    }

It is written in one canonical form (:func:`bundle_bytes`: JSON, keys sorted, indent 2, ASCII, a final
newline), and verifiers refuse any other, so that no byte of it can change unnoticed.

An entry of a bulletin's file:
``{"type": "bulletin-file", "bulletin": ID, "edition": "public"|"internal", "path": P, "sha256": HEX,
"bytes": N, "time": T}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from truceline.ledger.keys import active_signer
from truceline.ledger.log import Log, write_atomic
from truceline.ledger.note import b64encode, unverified_checkpoint

__all__ = [
    "BUNDLE_FORMAT",
    "PROOF_FILE",
    "bundle_bytes",
    "consistency_doc",
    "file_entry",
    "inclusion_doc",
    "log_bulletin",
]

PROOF_FILE = "ledger-proof.json"
BUNDLE_FORMAT = "truceline-ledger-proof/1"


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The one form a bundle is written in (and verifiers accept)."""
    return (json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def _sha256(path: Path) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def file_entry(folder: Path, bulletin: str, public: bool, path: str) -> dict[str, Any]:
    """The log entry of one file of a bulletin's folder."""
    sha, n = _sha256(folder / path)
    return {
        "type": "bulletin-file",
        "bulletin": bulletin,
        "edition": "public" if public else "internal",
        "path": path,
        "sha256": sha,
        "bytes": n,
        "time": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


def log_bulletin(home: Path | None, folder: Path, bulletin: str, public: bool, files: list[str]) -> Path | None:
    """Log every file of a published bulletin and write its proof bundle into its folder.

    Parameters
    ----------
    home : Path or None
        The data directory whose log records the bulletin; None (a store in memory) logs nothing.
    folder : Path
        The bulletin's folder.
    bulletin : str
        The bulletin's id.
    public : bool
        The edition.
    files : list of str
        The files to log, relative to ``folder`` (``/``-separated).

    Returns
    -------
    Path or None
        The bundle written; None when the data directory keeps no log, or its log has no signing key yet
        (``truceline ledger keygen`` makes one).

    Raises
    ------
    NotFound
        When the log's signing key is not kept in the data directory.
    """
    if home is None or not Log.exists(home):
        return None
    log = Log.open(home)
    with log.writing():
        signer = active_signer(home, log)
        if signer is None:
            return None
        entries = [file_entry(folder, bulletin, public, p) for p in sorted(set(files))]
        appended, note = log.commit(entries, [signer])
        size = log.size
        rows = [
            {
                "entry": raw.decode("utf-8"),
                "index": i,
                "inclusion": [b64encode(h) for h in log.inclusion_proof(i, size)],
                "path": e["path"],
            }
            for (i, raw), e in zip(appended, entries, strict=True)
        ]
    bundle = {"bulletin": bulletin, "checkpoint": note, "files": rows, "format": BUNDLE_FORMAT}
    out = folder / PROOF_FILE
    write_atomic(out, bundle_bytes(bundle))
    return out


def consistency_doc(log: Log, old: int, new: int) -> dict[str, Any]:
    """The proof that the log at ``old`` entries is a prefix of the log at ``new``, with the two signed
    checkpoints when they were kept (what ``truceline verify`` checks as a consistency document).

    Raises
    ------
    IndexError
        Unless ``0 <= old <= new <=`` the log's size.
    """
    if not 0 <= old <= new <= log.size:
        raise IndexError(f"sizes {old} {new} (0 <= OLD <= NEW <= {log.size})")
    return {
        "old": old,
        "new": new,
        "old_checkpoint": log.checkpoint_at(old),
        "new_checkpoint": log.checkpoint_at(new),
        "proof": [b64encode(h) for h in log.consistency_proof(old, new)],
    }


def inclusion_doc(log: Log, index: int) -> dict[str, Any]:
    """Entry ``index``, the latest signed checkpoint and the entry's inclusion path under it.

    Raises
    ------
    IndexError
        When the entry is not under the latest checkpoint.
    """
    latest = log.latest_checkpoint()
    size = unverified_checkpoint(latest).size if latest else 0
    if not 0 <= index < size:
        raise IndexError(f"entry {index} is not under the latest checkpoint (size {size})")
    return {
        "index": index,
        "entry": log.entry(index).decode("utf-8"),
        "checkpoint": latest,
        "inclusion": [b64encode(h) for h in log.inclusion_proof(index, size)],
    }
