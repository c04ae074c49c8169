"""Keys, signed notes and checkpoints: the Go sumdb/note reference example byte for byte, key ids,
strict base64, and every way a note is refused."""

from __future__ import annotations

import base64
import hashlib

import pytest

from truceline.ledger.note import (
    Checkpoint,
    NoteError,
    Signer,
    b64decode,
    key_id,
    open_note,
    parse_checkpoint,
    parse_vkey,
    sign_note,
    unverified_checkpoint,
)

# The example of golang.org/x/mod/sumdb/note (its package documentation): a signer key, its verifier key,
# and the note it signs (Ed25519 signatures are deterministic, so the note is reproduced exactly).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
GO_NOTE = GO_TEXT + f"\n\u2014 PeterNeumann {GO_SIG}\n"
# A verifier key of transparency-dev/formats' tests whose base64 holds a '+'.
PLUS_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"


def test_the_go_reference_note_is_reproduced_and_verifies() -> None:
    signer = Signer.from_skey(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.skey() == GO_SKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    opened = open_note(GO_NOTE, [parse_vkey(GO_VKEY)])
    assert opened.text == GO_TEXT
    assert [v.label for v in opened.signed_by] == ["PeterNeumann+c74f20a3"]


def test_key_id_is_the_documented_hash() -> None:
    v = parse_vkey(GO_VKEY)
    assert key_id(v.name, v.public) == hashlib.sha256(b"PeterNeumann\n\x01" + v.public).digest()[:4]
    assert key_id(v.name, v.public).hex() == "c74f20a3"
    assert parse_vkey(PLUS_VKEY).vkey == PLUS_VKEY


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key id of another key
        "PeterNeumanx+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # another name
        "PeterNeumann+c74f20a3+AhpcMQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # another type
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # not base64
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        parse_vkey(bad)


def test_a_private_key_given_as_a_verifier_key_is_not_echoed() -> None:
    with pytest.raises(NoteError) as exc:
        parse_vkey(GO_SKEY)
    assert GO_SKEY.split("+", 4)[4] not in str(exc.value)


def test_base64_is_read_strictly() -> None:
    assert b64decode("AAE=", "x") == b"\x00\x01"
    for bad in ("AAF=", "AAE", "AA E=", "AAE=\n", "A-E="):  # AAF= decodes to the same bytes as AAE=
        with pytest.raises(NoteError):
            b64decode(bad, "x")


def test_notes_are_refused_when_altered_unsigned_or_signed_by_others() -> None:
    mission, other = Signer.generate("mission.example/ledger"), Signer.generate("mission.example/ledger")
    note = sign_note("mission.example/ledger\n3\n" + base64.b64encode(bytes(32)).decode() + "\n", [mission])
    assert open_note(note, [mission.verifier]).text.startswith("mission.example/ledger\n3\n")
    with pytest.raises(NoteError, match="no signature by a pinned key"):
        open_note(note, [other.verifier])  # same name, another key: another key id
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.replace("\n3\n", "\n4\n"), [mission.verifier])
    both = sign_note("a\n", [other, mission])
    assert [v.label for v in open_note(both, [mission.verifier]).signed_by] == [mission.verifier.label]
    forged = both.replace(
        both.split("\n")[3].split(" ")[2], base64.b64encode(mission.verifier.key_id + bytes(64)).decode()
    )
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [mission.verifier])  # a pinned key's bad signature fails the note
    for bad in ("a\n", "a\n\n", "a\n\n\u2014 x\n", note[:-1], note.replace("\u2014", "-")):
        with pytest.raises(NoteError):
            open_note(bad, [mission.verifier])


def test_signing_refuses_a_text_a_note_cannot_hold() -> None:
    s = Signer.generate("k")
    for text in ("no newline", "a\n\nb\n", "\n"):
        with pytest.raises(NoteError):
            sign_note(text, [s])
    assert "seed" not in repr(s) and s.seed.hex() not in repr(s)


def test_checkpoints_round_trip_and_refuse_bad_lines() -> None:
    cp = Checkpoint("mission.example/ledger", 12, hashlib.sha256(b"x").digest(), ("ext one",))
    assert parse_checkpoint(cp.text()) == cp
    s = Signer.generate("k")
    assert unverified_checkpoint(sign_note(cp.text(), [s])) == cp
    root = base64.b64encode(bytes(32)).decode()
    for bad in (f"o\n012\n{root}\n", f"o\n-1\n{root}\n", "o\n1\nAAAA\n", f"o\n1\n{root}", f"\n1\n{root}\n",
                f"o o\n1\n{root}\n", f"o\n1\n{root}\n\n", "o\n1\n"):  # fmt: skip
        with pytest.raises(NoteError):
            parse_checkpoint(bad)
