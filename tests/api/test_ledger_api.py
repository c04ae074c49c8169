"""``/api/v1/ledger``: the transparency log over HTTP, read by the public as a party would, and every answer
checked with the same verification the parties run offline (signatures, inclusion, consistency)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.data import LOG_NAME, Built
from truceline.agreement import Agreement
from truceline.api.app import create_app
from truceline.ledger import Log, key_state, verify_consistency_doc
from truceline.ledger.merkle import leaf_hash, verify_inclusion
from truceline.ledger.note import b64decode, open_note, parse_checkpoint
from truceline.store import SQLiteStore


@pytest.fixture(scope="module")
def pinned(built: Built) -> list[object]:
    """The mission's key as a party pins it: from the log's own key entry on disk, not from the API."""
    state = key_state(Log.open(built.data))
    assert state.active is not None
    return [state.active]


def test_the_public_reads_a_signed_checkpoint_of_the_whole_log(client: TestClient, built: Built, pinned) -> None:
    r = client.get("/api/v1/ledger")
    assert r.status_code == 200, r.text
    doc = r.json()
    log = Log.open(built.data)
    assert doc["origin"] == LOG_NAME and doc["size"] == log.size == 3  # key-init + one file of each edition
    cp = parse_checkpoint(open_note(doc["checkpoint"], pinned).text)  # raises unless signed by the pinned key
    assert (cp.size, cp.root) == (log.size, log.root())
    text = client.get("/api/v1/ledger/checkpoint")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert text.text == doc["checkpoint"]
    assert client.get("/api/v1/ledger/checkpoint?size=1").text == log.checkpoint_at(1)
    assert client.get("/api/v1/ledger/checkpoint?size=4").status_code == 404  # beyond the log


def test_every_entry_is_proved_included_under_the_checkpoint(client: TestClient, pinned) -> None:
    entries = client.get("/api/v1/ledger/entries?start=0&limit=2").json()
    assert entries["next"] == 2 and len(entries["entries"]) == 2
    rest = client.get("/api/v1/ledger/entries?start=2").json()
    assert rest["next"] is None
    all_entries = entries["entries"] + rest["entries"]
    assert [json.loads(e)["type"] for e in all_entries] == ["key-init", "bulletin-file", "bulletin-file"]
    for i, raw in enumerate(all_entries):
        doc = client.get(f"/api/v1/ledger/proof/inclusion?index={i}").json()
        assert doc["entry"] == raw
        cp = parse_checkpoint(open_note(doc["checkpoint"], pinned).text)
        path = [b64decode(h, "hash") for h in doc["inclusion"]]
        assert verify_inclusion(i, cp.size, leaf_hash(raw.encode()), path, cp.root)
        assert not verify_inclusion(i, cp.size, leaf_hash(raw.encode() + b" "), path, cp.root)
    assert client.get("/api/v1/ledger/proof/inclusion?index=3").status_code == 404
    assert client.get("/api/v1/ledger/entries?limit=1001").status_code == 400


def test_consistency_between_checkpoints_verifies_offline(client: TestClient, pinned) -> None:
    doc = client.get("/api/v1/ledger/proof/consistency?old=1").json()
    assert (doc["old"], doc["new"]) == (1, 3)
    assert verify_consistency_doc(doc, pinned) == []
    doc["proof"] = doc["proof"][::-1] if len(doc["proof"]) > 1 else ["A" * 43 + "="]
    assert verify_consistency_doc(doc, pinned) != []
    assert client.get("/api/v1/ledger/proof/consistency?old=3&new=1").status_code == 400


def test_keys_list_the_signing_key_and_warn_to_pin_elsewhere(client: TestClient, pinned) -> None:
    text = client.get("/api/v1/ledger/keys").text
    assert pinned[0].vkey in text.splitlines()  # type: ignore[attr-defined]
    assert text.startswith("# the log's verifier keys; pin them from a channel you trust")
    assert "PRIVATE" not in text


def test_a_store_without_a_log_answers_404(tmp_path: Path, agreement: Agreement) -> None:
    SQLiteStore(tmp_path / "data").close()
    with TestClient(create_app(tmp_path / "data", agreement)) as c:
        r = c.get("/api/v1/ledger")
        assert r.status_code == 404 and "keeps no transparency log" in r.json()["detail"]
