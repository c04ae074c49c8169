"""The log on disk: an append-only file of entries and a file of their leaf hashes, crash-safe.

Folder ``HOME/ledger/``::

    entries.jsonl     one entry per line: canonical JSON (keys sorted, no spaces, UTF-8), the leaf's data
                      is the line's bytes without its newline
    leaves.bin        the leaf hashes, 32 bytes each, in order
    size              the committed number of entries (decimal)
    log.json          {"origin": ...}: the log's name, written once
    checkpoint        the latest signed checkpoint (a signed note)
    checkpoints/N     the signed checkpoint of size N, for each one signed
    lock              taken (flock) by whoever appends or reads the size

An append writes the entries' lines and fsyncs, then their hashes and fsyncs, then commits: the new size
goes into ``size`` (a temporary file, fsync'd, renamed; the folder fsync'd). The log's size is the
committed size. Opening the log cuts off what an append cut by a crash left beyond it (under the lock), so
a crash leaves the log at the size before the append or after it, a batch of entries (a bulletin's files)
in whole or not at all. Files holding less than the committed size are corruption, never repaired
silently (:class:`LedgerCorrupt`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from truceline.ledger import merkle
from truceline.ledger.note import Checkpoint, NoteError, Signer, check_name, sign_note

__all__ = ["LedgerCorrupt", "Log", "canonical", "ledger_dir"]

HB = merkle.HASH_BYTES
#: Subtrees of at most this many leaves are hashed from their leaf hashes read at once; larger perfect
#: subtrees (complete, so immutable) are kept in memory once computed.
_CHUNK = 256


class LedgerCorrupt(RuntimeError):
    """The log's files disagree in a way no crash explains (the message names the file)."""


def canonical(entry: dict[str, Any]) -> bytes:
    """An entry's bytes in the log: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def ledger_dir(home: Path) -> Path:
    """The log's folder under a data directory."""
    return Path(home) / "ledger"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file whole or not at all: a temporary beside it, fsync'd, renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class Log:
    """The append-only log in ``HOME/ledger`` (module docstring). Use :meth:`open` or :meth:`create`."""

    def __init__(self, folder: Path, origin: str) -> None:
        self.folder = folder
        self.origin = origin
        self._size = 0
        self._perfect: dict[tuple[int, int], bytes] = {}

    # -- opening -------------------------------------------------------------------------------------
    @classmethod
    def exists(cls, home: Path) -> bool:
        return (ledger_dir(home) / "log.json").is_file()

    @classmethod
    def create(cls, home: Path, origin: str) -> Log:
        """Make the log of a data directory (its origin given once); an existing one is opened instead
        when its origin is the same.

        Raises
        ------
        NoteError
            For an origin with spaces or ``+``, or another origin than the existing log's.
        """
        check_name(origin, "origin")
        folder = ledger_dir(home)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "checkpoints").mkdir(exist_ok=True)
        if not (folder / "log.json").exists():
            write_atomic(folder / "log.json", json.dumps({"origin": origin}).encode() + b"\n")
        log = cls.open(home)
        if log.origin != origin:
            raise NoteError(f"{folder}: the log's origin is {log.origin!r}, not {origin!r}")
        return log

    @classmethod
    def open(cls, home: Path) -> Log:
        """Open the log of a data directory, repairing what a crash left (module docstring).

        Raises
        ------
        FileNotFoundError
            When the data directory has no log.
        LedgerCorrupt
        """
        folder = ledger_dir(home)
        meta = json.loads((folder / "log.json").read_text(encoding="utf-8"))
        log = cls(folder, str(meta["origin"]))
        with log.locked():
            log.recover()
        return log

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the log's lock (one writer at a time, across processes)."""
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Log]:
        """Hold the lock with the log brought up to date (what another process appended, a crash repaired)."""
        with self.locked():
            self.recover()
            yield self

    @property
    def entries_file(self) -> Path:
        return self.folder / "entries.jsonl"

    @property
    def leaves_file(self) -> Path:
        return self.folder / "leaves.bin"

    @property
    def size_file(self) -> Path:
        return self.folder / "size"

    def _truncate(self, file: Path, length: int) -> None:
        if file.stat().st_size > length:
            with file.open("r+b") as fh:
                fh.truncate(length)
                os.fsync(fh.fileno())

    def recover(self) -> int:
        """Bring the files back to the committed size after a crash (hold the lock); returns the log's size.

        Raises
        ------
        LedgerCorrupt
            When a file holds fewer entries or hashes than were committed, or the last hash is not the
            last entry's.
        """
        self.entries_file.touch()
        self.leaves_file.touch()
        committed = int(self.size_file.read_text()) if self.size_file.is_file() else 0
        data = self.entries_file.read_bytes()
        end = 0
        lines: list[bytes] = []
        while len(lines) < committed:
            nl = data.find(b"\n", end)
            if nl < 0:
                raise LedgerCorrupt(f"{self.entries_file}: {len(lines)} entries, {committed} committed")
            lines.append(data[end:nl])
            end = nl + 1
        if self.leaves_file.stat().st_size < committed * HB:
            raise LedgerCorrupt(f"{self.leaves_file}: fewer hashes than the {committed} entries committed")
        self._truncate(self.entries_file, end)  # what an append cut by a crash left beyond the committed size
        self._truncate(self.leaves_file, committed * HB)
        self._size = committed
        if lines and self.leaf_hashes(committed - 1, committed)[0] != merkle.leaf_hash(lines[-1]):
            raise LedgerCorrupt(f"{self.leaves_file}: the last hash is not the hash of the last entry")
        return committed

    # -- reading -------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """The number of entries (as of the last open, recover or append of this object)."""
        return self._size

    def leaf_hashes(self, lo: int, hi: int) -> list[bytes]:
        """The leaf hashes of entries ``lo <= i < hi``."""
        if not 0 <= lo <= hi <= self._size:
            raise IndexError(f"leaves {lo}..{hi} of a log of {self._size}")
        with self.leaves_file.open("rb") as fh:
            fh.seek(lo * HB)
            raw = fh.read((hi - lo) * HB)
        return [raw[i : i + HB] for i in range(0, len(raw), HB)]

    def entry(self, index: int) -> bytes:
        """The bytes of entry ``index`` (its leaf's data)."""
        if not 0 <= index < self._size:
            raise IndexError(f"entry {index} of a log of {self._size}")
        with self.entries_file.open("rb") as fh:
            for i, line in enumerate(fh):
                if i == index:
                    return line.rstrip(b"\n")
        raise LedgerCorrupt(f"{self.entries_file}: entry {index} is missing")

    def entries(self) -> Iterator[bytes]:
        """Every entry's bytes, in order (up to :attr:`size`)."""
        with self.entries_file.open("rb") as fh:
            for i, line in enumerate(fh):
                if i >= self._size:
                    return
                yield line.rstrip(b"\n")

    def subtree(self, lo: int, hi: int) -> bytes:
        """The hash of the subtree over entries ``lo <= i < hi`` (a :data:`merkle.Hasher`)."""
        n = hi - lo
        if n <= _CHUNK:
            return merkle.root_of(self.leaf_hashes(lo, hi))
        perfect = n & (n - 1) == 0
        if perfect and (lo, hi) in self._perfect:
            return self._perfect[(lo, hi)]
        k = merkle.split(n)
        h = merkle.node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))
        if perfect:
            self._perfect[(lo, hi)] = h
        return h

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the log at ``size`` entries (default: all)."""
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise IndexError(f"size {size} of a log of {self._size}")
        return merkle.EMPTY_ROOT if size == 0 else self.subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of entry ``index`` at ``size`` entries (default: all)."""
        size = self._size if size is None else size
        if size > self._size:
            raise IndexError(f"size {size} of a log of {self._size}")
        return merkle.inclusion_proof(index, size, self.subtree)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """The proof that the log at ``old`` entries is a prefix of the log at ``new`` (default: all)."""
        new = self._size if new is None else new
        if new > self._size:
            raise IndexError(f"size {new} of a log of {self._size}")
        return merkle.consistency_proof(old, new, self.subtree)

    def check(self) -> None:
        """Recompute every leaf hash from its entry (a full check; the open only checks the last).

        Raises
        ------
        LedgerCorrupt
            Naming the first entry whose hash differs.
        """
        stored = self.leaf_hashes(0, self._size)
        for i, line in enumerate(self.entries()):
            if merkle.leaf_hash(line) != stored[i]:
                raise LedgerCorrupt(f"{self.entries_file}: entry {i} does not have the hash {self.leaves_file} holds")

    # -- writing (hold the lock) ---------------------------------------------------------------------
    def _write_hashes(self, hashes: list[bytes]) -> None:
        with self.leaves_file.open("ab") as fh:
            fh.write(b"".join(hashes))
            fh.flush()
            os.fsync(fh.fileno())

    def append(self, entries: list[dict[str, Any]]) -> list[tuple[int, bytes]]:
        """Append entries (inside :meth:`writing`).

        Returns
        -------
        list of (int, bytes)
            Each entry's index and its bytes in the log.
        """
        raw = [canonical(e) for e in entries]
        first = self._size
        with self.entries_file.open("ab") as fh:
            fh.write(b"".join(r + b"\n" for r in raw))
            fh.flush()
            os.fsync(fh.fileno())
        self._write_hashes([merkle.leaf_hash(r) for r in raw])
        write_atomic(self.size_file, str(first + len(raw)).encode())  # the commit point
        self._size += len(raw)
        return [(first + i, r) for i, r in enumerate(raw)]

    def commit(self, entries: list[dict[str, Any]], signers: list[Signer]) -> tuple[list[tuple[int, bytes]], str]:
        """Append entries and sign the checkpoint of the new size with ``signers`` (inside :meth:`writing`).

        Returns
        -------
        (list of (int, bytes), str)
            What :meth:`append` returns, and the signed checkpoint (kept as the latest).
        """
        appended = self.append(entries)
        note = sign_note(Checkpoint(self.origin, self._size, self.root()).text(), signers)
        self.save_checkpoint(note, self._size)
        return appended, note

    def save_checkpoint(self, note: str, size: int) -> None:
        """Keep a signed checkpoint: as ``checkpoints/SIZE`` and as the latest."""
        (self.folder / "checkpoints").mkdir(exist_ok=True)
        write_atomic(self.folder / "checkpoints" / str(size), note.encode("utf-8"))
        write_atomic(self.folder / "checkpoint", note.encode("utf-8"))

    def latest_checkpoint(self) -> str | None:
        """The latest signed checkpoint, None before the first."""
        f = self.folder / "checkpoint"
        return f.read_text(encoding="utf-8") if f.is_file() else None

    def checkpoint_at(self, size: int) -> str | None:
        """The signed checkpoint of ``size`` entries, None when none was signed at that size."""
        f = self.folder / "checkpoints" / str(size)
        return f.read_text(encoding="utf-8") if f.is_file() else None
