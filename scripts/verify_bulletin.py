#!/usr/bin/env python3
"""Verify a truceline bulletin offline: needs only Python >= 3.11 and ``cryptography`` (no truceline).

    python verify_bulletin.py BULLETIN_DIR_OR_ledger-proof.json --keys KEYS [--origin ORIGIN]
                              [--witnesses WITNESS_KEYS [--quorum N]]

KEYS holds the mission's verifier keys you pinned, one per line (``name+keyid+base64``; blank lines and
``#`` comments ignored). Exit 0 when every file of the bulletin is exactly what the mission's log holds
under a checkpoint signed by a pinned key; 1 naming every failure (which file, the signature, the root);
2 for unreadable keys or arguments. With ``--witnesses`` (the witnesses' keys the agreement pins, of
type 0x04, C2SP tlog-cosignature), the bulletin counts as published only when at least N of them (default:
all) cosigned its checkpoint; the script says which did.

Every step is in docs/ledger.md ("Verifying, step by step"), so that it can be re-implemented: this file
is written to be read. It shares no code with truceline on purpose.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import json
import sys
from pathlib import Path, PurePosixPath

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PROOF_FILE = "ledger-proof.json"
BUNDLE_FORMAT = "truceline-ledger-proof/1"
SIG_PREFIX = "\u2014 "  # an em dash and a space start every signature line of a signed note


class Failure(Exception):
    """One check that failed; its message names what."""


# -- 1. hashing (RFC 6962 / RFC 9162 section 2.1) -----------------------------------------------------
def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn != 0 and fn % 2 == 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


# -- 2. strict base64, keys, signed notes, checkpoints (C2SP signed-note, tlog-checkpoint) ------------
def b64(text: str, what: str) -> bytes:
    """Standard base64 with padding; only the canonical encoding of some bytes is accepted."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Failure(f"{what}: not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Failure(f"{what}: not canonical base64")
    return raw


def good_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name) and name.isprintable()


def read_keys(path: Path) -> dict[tuple[str, bytes], bytes]:
    """Pinned verifier keys ``name+keyid+base64(0x01 || public key)``: {(name, key id): public key}."""
    keys = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("+", 2)  # the base64 key may hold '+' itself
        if len(parts) != 3 or not good_name(parts[0]):
            raise Failure(f"{path}:{n}: not a verifier key name+keyid+base64")
        name, kid, key = parts
        raw = b64(key, f"{path}:{n}")
        if len(raw) != 33 or raw[0] != 0x01:
            raise Failure(f"{path}:{n}: not an Ed25519 key")
        expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]  # name || 0x0A || 0x01 || key
        if kid != expected.hex():
            raise Failure(f"{path}:{n}: key id {kid} does not match the key (expected {expected.hex()})")
        keys[(name, expected)] = raw[1:]
    if not keys:
        raise Failure(f"{path}: no verifier key")
    return keys


def open_note(note: str, keys: dict[tuple[str, bytes], bytes]) -> tuple[str, list[str]]:
    """The text of a signed note and the pinned keys that signed it; every pinned key's signature must verify."""
    if not note.endswith("\n") or "\n\n" not in note:
        raise Failure("signed note: no blank line before the signatures, or no final newline")
    cut = note.rfind("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :].split("\n")[:-1]
    if not 1 <= len(lines) <= 100:
        raise Failure(f"signed note: {len(lines)} signature lines")
    signed, seen = [], []
    for i, line in enumerate(lines, 1):
        if not line.startswith(SIG_PREFIX) or line.count(" ") != 2:
            raise Failure(f"signed note: signature line {i} is malformed")
        name, sig = line[len(SIG_PREFIX) :].split(" ")
        raw = b64(sig, f"signed note: signature line {i}")
        if not good_name(name) or len(raw) < 5:
            raise Failure(f"signed note: signature line {i} is malformed")
        seen.append(f"{name}+{raw[:4].hex()}")
        public = keys.get((name, raw[:4]))
        if public is None:
            continue  # a key we do not pin: ignored
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode("utf-8"))
        except (InvalidSignature, ValueError):
            raise Failure(f"signed note: the signature by {name}+{raw[:4].hex()} does not verify") from None
        signed.append(f"{name}+{raw[:4].hex()}")
    if not signed:
        raise Failure(f"signed note: no signature by a pinned key (signed by {', '.join(seen)})")
    return text, signed


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """(origin, tree size, root hash) of a checkpoint's text."""
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not good_name(lines[0]) or any(not x for x in lines[3:]):
        raise Failure("checkpoint: not origin, size, root hash (and extension lines)")
    size = lines[1]
    if not (size == "0" or (size.isdigit() and size.isascii() and size[0] != "0")):
        raise Failure(f"checkpoint: tree size {size!r} is not a decimal number")
    root = b64(lines[2], "checkpoint root hash")
    if len(root) != 32:
        raise Failure("checkpoint: root hash is not 32 bytes")
    return lines[0], int(size), root


# -- 2b. witnesses' cosignatures (C2SP tlog-cosignature, Ed25519 cosignature/v1) --------------------
def read_witness_keys(path: Path) -> dict[tuple[str, bytes], bytes]:
    """Pinned witness keys ``name+keyid+base64(0x04 || public key)``: {(name, key id): public key}."""
    keys = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("+", 2)
        if len(parts) != 3 or not good_name(parts[0]):
            raise Failure(f"{path}:{n}: not a witness key name+keyid+base64")
        name, kid, key = parts
        raw = b64(key, f"{path}:{n}")
        if len(raw) != 33 or raw[0] != 0x04:
            raise Failure(f"{path}:{n}: not a cosignature/v1 Ed25519 key (type 0x04)")
        expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]  # name || 0x0A || 0x04 || key
        if kid != expected.hex():
            raise Failure(f"{path}:{n}: key id {kid} does not match the key (expected {expected.hex()})")
        keys[(name, expected)] = raw[1:]
    if not keys:
        raise Failure(f"{path}: no witness key")
    return keys


def check_cosignatures(note: str, witnesses: dict[tuple[str, bytes], bytes], quorum: int) -> tuple[list[str], str]:
    """The failures of the checkpoint's cosignatures (a pinned witness's that does not verify; fewer than
    ``quorum`` pinned witnesses), and which witnesses cosigned."""
    cut = note.rfind("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :].split("\n")[:-1]
    failures, signed = [], []
    for line in lines:
        if not line.startswith(SIG_PREFIX) or line.count(" ") != 2:
            continue  # open_note has refused the note already
        name, sig = line[len(SIG_PREFIX) :].split(" ")
        try:
            raw = b64(sig, "cosignature")
        except Failure:
            continue
        public = witnesses.get((name, raw[:4]))
        if public is None:
            continue
        label = f"{name}+{raw[:4].hex()}"
        body = raw[4:]  # u64 big-endian timestamp || Ed25519 signature
        t = int.from_bytes(body[:8], "big")
        message = b"cosignature/v1\ntime " + str(t).encode() + b"\n" + text.encode("utf-8")
        try:
            if len(body) != 72 or t > 2**63 - 1:
                raise InvalidSignature
            Ed25519PublicKey.from_public_bytes(public).verify(body[8:], message)
        except (InvalidSignature, ValueError):
            failures.append(f"cosignature by {label} does not verify")
            continue
        if label not in signed:
            signed.append(label)
    summary = (f"{len(signed)} of {len(witnesses)} pinned witnesses cosigned ({quorum} required): "
               f"{', '.join(signed) or 'none'}")  # fmt: skip
    if len(signed) < quorum:
        failures.append(f"quorum not met: {summary}")
    return failures, summary


# -- 3. the bundle -----------------------------------------------------------------------------------
def canonical(doc: object) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def load_bundle(raw: bytes) -> dict:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Failure(f"bundle: not JSON ({exc})") from None
    rows = doc.get("files") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or set(doc) != {"bulletin", "checkpoint", "files", "format"}
        or not isinstance(doc["bulletin"], str)
        or not isinstance(doc["checkpoint"], str)
        or not isinstance(rows, list)
        or not all(isinstance(r, dict) and set(r) == {"entry", "index", "inclusion", "path"} for r in rows)
    ):
        raise Failure("bundle: not a proof bundle (fields bulletin, checkpoint, files, format)")
    return doc


def check_row(row: dict, bulletin: str, checkpoint: tuple[str, int, bytes] | None, folder: Path) -> list[str]:
    """The failures of one file: its entry, its inclusion proof, the file itself."""
    name, out = row["path"], []
    try:
        entry = json.loads(row["entry"]) if isinstance(row["entry"], str) else None
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or entry.get("type") != "bulletin-file":
        return [f"{name}: the entry is not a bulletin-file entry"]
    if entry.get("bulletin") != bulletin or entry.get("path") != name:
        out.append(f"{name}: the entry is of {entry.get('bulletin')!r} / {entry.get('path')!r}, not this file")
    index, path = row["index"], row["inclusion"]
    if checkpoint is not None:
        try:
            if type(index) is not int or not isinstance(path, list) or not all(isinstance(h, str) for h in path):
                raise Failure("index must be a number, inclusion a list of base64 hashes")
            hashes = [b64(h, "inclusion hash") for h in path]
            if any(len(h) != 32 for h in hashes):
                raise Failure("an inclusion hash is not 32 bytes")
            _, size, root = checkpoint
            if not verify_inclusion(index, size, leaf_hash(row["entry"].encode("utf-8")), hashes, root):
                out.append(f"{name}: the inclusion proof of entry {index} does not lead to the checkpoint's root")
        except Failure as exc:
            out.append(f"{name}: {exc}")
    file = folder / name
    if not file.is_file():
        return [*out, f"{name}: missing from {folder}"]
    data = file.read_bytes()
    if len(data) != entry.get("bytes") or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        out.append(f"{name}: the file differs from the one logged (SHA-256 or size)")
    return out


def check_folder(folder: Path, rows: list[dict]) -> list[str]:
    """No file left out of the bundle; manifest.json (when logged) lists exactly the other files."""
    listed = {r["path"] for r in rows if isinstance(r["path"], str)}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {PROOF_FILE}
    out = [f"{p}: in the folder but not in the bundle" for p in sorted(present - listed)]
    if "manifest.json" in listed and (folder / "manifest.json").is_file():
        try:
            there = {f["path"]: f["sha256"] for f in json.loads((folder / "manifest.json").read_bytes())["files"]}
        except (ValueError, KeyError, TypeError):
            return [*out, "manifest.json: not a manifest with files"]
        if set(there) != listed - {"manifest.json"}:
            out.append("manifest.json: does not list the same files as the bundle")
        logged = {}
        for r in rows:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                logged[r["path"]] = json.loads(r["entry"])["sha256"]
        out += [f"{p}: manifest.json gives another SHA-256 than the log" for p, sha in sorted(there.items())
                if p in logged and logged[p] != sha]  # fmt: skip
    return out


def safe_path(path: object) -> bool:
    if not isinstance(path, str) or not path or "\\" in path or path == PROOF_FILE:
        return False
    p = PurePosixPath(path)
    return not p.is_absolute() and ".." not in p.parts and str(p) == path


def verify(
    target: Path, keys: dict[tuple[str, bytes], bytes], origin: str | None, witnesses: tuple | None = None
) -> tuple[list[str], str]:
    """Every failure of the bundle at ``target`` (a file, or a folder holding ledger-proof.json), and a summary;
    ``witnesses``: (pinned witness keys, quorum) when cosignatures are required."""
    bundle = target / PROOF_FILE if target.is_dir() else target
    try:
        raw = bundle.read_bytes()
        doc = load_bundle(raw)
    except OSError as exc:
        return [f"bundle: cannot read {bundle} ({exc.strerror})"], ""
    except Failure as exc:
        return [str(exc)], ""
    failures = [] if canonical(doc) == raw else ["bundle: not in its canonical form (it was altered)"]
    if doc["format"] != BUNDLE_FORMAT:
        failures.append(f"bundle: format {doc['format']!r}")
    checkpoint, signed = None, []
    try:
        text, signed = open_note(doc["checkpoint"], keys)
        checkpoint = parse_checkpoint(text)
        if origin is not None and checkpoint[0] != origin:
            failures.append(f"checkpoint: origin {checkpoint[0]!r}, expected {origin!r}")
    except Failure as exc:
        failures.append(f"checkpoint: {exc}")
    seen: set[str] = set()
    for row in doc["files"]:
        if not safe_path(row["path"]) or row["path"] in seen:
            failures.append(f"bundle: file path {row['path']!r} is unsafe or repeated")
            continue
        seen.add(row["path"])
        failures += check_row(row, doc["bulletin"], checkpoint, bundle.parent)
    editions = set()
    for row in doc["files"]:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            editions.add(str(json.loads(row["entry"]).get("edition")))
    if len(editions) > 1:
        failures.append(f"bundle: entries of several editions {sorted(editions)}")
    if not doc["files"]:
        failures.append("bundle: lists no file")
    failures += check_folder(bundle.parent, doc["files"])
    cosigned = ""
    if witnesses is not None:
        quorum_failures, cosigned = check_cosignatures(doc["checkpoint"], *witnesses)
        failures += quorum_failures
    summary = ""
    if checkpoint is not None:
        summary = (f"{doc['bulletin']}: {len(seen)} files in log {checkpoint[0]} at size {checkpoint[1]}, "
                   f"signed by {', '.join(signed)}")  # fmt: skip
        summary += f"\nok: {cosigned}" if cosigned else ""
    return failures, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Verify a truceline bulletin offline against pinned keys.")
    ap.add_argument("target", type=Path, help="the bulletin folder, or its ledger-proof.json")
    ap.add_argument("--keys", type=Path, required=True, help="pinned verifier keys, one per line")
    ap.add_argument("--origin", help="the log's origin the checkpoint must name")
    ap.add_argument("--witnesses", type=Path, help="pinned witness keys (type 0x04), one per line")
    ap.add_argument("--quorum", type=int, help="cosignatures of pinned witnesses required (default: all)")
    args = ap.parse_args(argv)
    try:
        keys = read_keys(args.keys)
    except (OSError, UnicodeDecodeError, Failure) as exc:
        print(f"--keys: {exc}", file=sys.stderr)
        return 2
    try:
        witnesses = None
        if args.witnesses is not None:
            pinned = read_witness_keys(args.witnesses)
            quorum = len(pinned) if args.quorum is None else args.quorum
            if not 1 <= quorum <= len(pinned):
                raise Failure(f"--quorum {quorum}: 1 to the {len(pinned)} pinned witnesses")
            witnesses = (pinned, quorum)
        elif args.quorum is not None:
            raise Failure("--quorum needs --witnesses")
    except (OSError, UnicodeDecodeError, Failure) as exc:
        print(f"--witnesses: {exc}", file=sys.stderr)
        return 2
    failures, summary = verify(args.target, keys, args.origin, witnesses)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    if failures:
        return 1
    print(f"ok: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
