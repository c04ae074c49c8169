"""The log on disk: roots and proofs equal the in-memory tree's, a crash mid-append leaves a consistent
size (cut files, and a writer killed with SIGKILL), corruption is refused; keys: files 0600 in a 0700
folder, never printed, rotation and revocation recorded and signed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from truceline.core.errors import Conflict
from truceline.ledger import LedgerCorrupt, Log, key_state, keygen, merkle, revoke, rotate
from truceline.ledger.keys import active_signer, key_dir, verify_key_entry
from truceline.ledger.note import NoteError, open_note, unverified_checkpoint

REPO = Path(__file__).resolve().parents[2]


def _log(tmp_path: Path, n: int) -> Log:
    log = Log.create(tmp_path, "test.example/log")
    with log.writing():
        log.append([{"type": "test", "n": i} for i in range(n)])
    return log


def test_roots_and_proofs_equal_the_tree_in_memory(tmp_path: Path) -> None:
    log = _log(tmp_path, 700)  # beyond the chunk of leaves hashed at once, so cached subtrees are used
    hashes = [merkle.leaf_hash(e) for e in log.entries()]
    mth = merkle.subtree_hasher(hashes)
    for size in (1, 2, 255, 256, 257, 511, 512, 513, 700):
        assert log.root(size) == merkle.root_of(hashes[:size])
        for i in (0, size // 3, size - 1):
            assert log.inclusion_proof(i, size) == merkle.inclusion_proof(i, size, mth)
    assert log.consistency_proof(300, 700) == merkle.consistency_proof(300, 700, mth)
    assert json.loads(log.entry(5)) == {"n": 5, "type": "test"}
    assert Log.open(tmp_path).root() == log.root()


def test_a_cut_entry_line_is_dropped(tmp_path: Path) -> None:
    log = _log(tmp_path, 5)
    root = log.root()
    with log.entries_file.open("ab") as fh:
        fh.write(b'{"n":5,"ty')  # the crash came mid-line
    again = Log.open(tmp_path)
    assert (again.size, again.root()) == (5, root)
    assert log.entries_file.read_bytes().endswith(b"}\n")


def test_an_append_cut_anywhere_is_rolled_back_whole(tmp_path: Path) -> None:
    log = _log(tmp_path, 6)
    root6, entries, leaves = log.root(), log.entries_file.read_bytes(), log.leaves_file.read_bytes()
    with log.entries_file.open("ab") as fh:  # a batch of three written, its hashes half written, not committed
        fh.write(b'{"n":6}\n{"n":7}\n{"n":8}\n')
    with log.leaves_file.open("ab") as fh:
        fh.write(bytes(32 + 7))
    again = Log.open(tmp_path)
    assert (again.size, again.root()) == (6, root6)
    assert log.entries_file.read_bytes() == entries and log.leaves_file.read_bytes() == leaves
    again.check()


@pytest.mark.parametrize(("file", "message"), [("leaves.bin", "fewer hashes"), ("entries.jsonl", "4 entries")])
def test_files_shorter_than_the_committed_size_are_corruption(tmp_path: Path, file: str, message: str) -> None:
    log = _log(tmp_path, 5)
    f = log.folder / file
    if file == "leaves.bin":
        f.write_bytes(f.read_bytes()[: 4 * 32])
    else:
        f.write_bytes(b"".join(line + b"\n" for line in list(log.entries())[:4]))
    with pytest.raises(LedgerCorrupt, match=message):
        Log.open(tmp_path)


def test_an_entry_changed_in_place_is_found(tmp_path: Path) -> None:
    log = _log(tmp_path, 4)
    data = log.entries_file.read_bytes().replace(b'"n":1', b'"n":7')
    log.entries_file.write_bytes(data)
    with pytest.raises(LedgerCorrupt, match="entry 1"):
        Log.open(tmp_path).check()
    log.entries_file.write_bytes(data.replace(b'"n":3', b'"n":8'))
    with pytest.raises(LedgerCorrupt, match="last hash"):
        Log.open(tmp_path)


_WRITER = """
import sys
from pathlib import Path
from truceline.ledger import Log
log = Log.open(Path(sys.argv[1]))
print("ready", flush=True)
i = 0
while True:
    with log.writing():
        log.append([{"type": "test", "n": i, "pad": "x" * 5000} for _ in range(20)])
    i += 1
"""


def test_a_writer_killed_mid_append_leaves_a_consistent_log(tmp_path: Path) -> None:
    before = _log(tmp_path, 3)
    root3 = before.root()
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, cwd=REPO)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.2 + 0.15 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        log = Log.open(tmp_path)
        log.check()  # every hash is its entry's
        assert log.size > 3
        assert merkle.verify_consistency(3, log.size, root3, log.root(), log.consistency_proof(3))


def test_keys_are_made_kept_and_never_shown(tmp_path: Path) -> None:
    v, active = keygen(tmp_path, "mission.example/ledger")
    assert active
    folder = key_dir(tmp_path)
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.parent.stat().st_mode & 0o777 == 0o700
    (file,) = folder.glob("*.key")
    assert file.stat().st_mode & 0o777 == 0o600
    secret = file.read_text().strip()
    log = Log.open(tmp_path)
    assert secret not in log.entries_file.read_text() and secret.split("+", 4)[4] not in log.entries_file.read_text()
    note = log.latest_checkpoint()
    assert note is not None
    assert open_note(note, [v]).text.startswith("mission.example/ledger\n1\n")
    assert key_state(log).active == v
    _, active2 = keygen(tmp_path, "mission.example/ledger")
    assert not active2 and key_state(Log.open(tmp_path)).active == v


def test_rotation_and_revocation_are_signed_entries(tmp_path: Path) -> None:
    old, _ = keygen(tmp_path, "mission.example/ledger")
    new, _ = keygen(tmp_path, "mission.example/ledger2")
    assert rotate(tmp_path, "mission.example/ledger2") == (old, new)
    log = Log.open(tmp_path)
    state = key_state(log)
    assert state.active == new and state.retired == [old]
    note = log.latest_checkpoint()
    assert note is not None
    assert open_note(note, [old]).signed_by == [old]  # a party pinning the old key sees the rotation's checkpoint
    assert open_note(note, [new]).signed_by == [new]
    entries = [json.loads(e) for e in log.entries()]
    rotation = entries[-1]
    verify_key_entry(rotation)
    with pytest.raises(NoteError, match="does not verify"):
        verify_key_entry({**rotation, "time": "2000-01-01T00:00:00Z"})
    with pytest.raises(Conflict, match="is the signing key"):
        revoke(tmp_path, new.vkey, "test")
    with pytest.raises(Conflict, match="revoked or retired"):
        rotate(tmp_path, old.label)  # no going back to a retired key
    assert revoke(tmp_path, old.vkey, "retired laptop") == old
    log = Log.open(tmp_path)
    assert key_state(log).revoked == [old]
    verify_key_entry(json.loads(list(log.entries())[-1]))
    assert not (key_dir(tmp_path) / f"{old.key_id.hex()}.key").exists()
    signer = active_signer(tmp_path, log)
    assert signer is not None and signer.verifier == new
    cp = unverified_checkpoint(log.latest_checkpoint() or "")
    assert cp.size == log.size and cp.root == log.root()


def test_the_key_file_is_refused_when_not_a_key(tmp_path: Path) -> None:
    keygen(tmp_path, "k")
    (file,) = key_dir(tmp_path).glob("*.key")
    os.chmod(file, 0o644)
    file.write_text("PRIVATE+KEY+k+00000000+AAAA\n")
    with pytest.raises(RuntimeError, match="restore it from backup") as exc:
        active_signer(tmp_path, Log.open(tmp_path))
    assert "AAAA" not in str(exc.value)
    assert file.stat().st_mode & 0o777 == 0o600  # permissions put right on reading
