"""Analysts' decisions on findings become transparency-log entries (service/ledger_decisions.py), on a real
store of each backend asked for: after the store's commit, in audit order, with the public id only, once
each, and caught up after a decision the log could not take."""

from __future__ import annotations

import json

import pytest

from tests.service.test_review import ACTOR, SCOPE, derived_rows
from truceline.ledger import Log, keygen
from truceline.ledger.keys import key_dir
from truceline.service import review
from truceline.service.ledger_decisions import ENTRY_TYPE, log_decisions, log_home, log_position, logged_up_to
from truceline.service.redaction import public_ids
from truceline.store import Store

REASON = "patrol 7 found no crater at grid 37UDQ 1234 5678"


@pytest.fixture
def store(store: Store) -> Store:
    """The review tests' two incidents and two violations (vio-0001 corroborated, vio-0002 unverified)."""
    run = store.new_run("process", {"test": True})
    store.replace_scope(SCOPE, run, derived_rows(), seen_seq=0)
    return store


def _decisions(store: Store) -> list[dict[str, object]]:
    home = log_home(store)
    assert home is not None
    return [json.loads(raw) for raw in Log.open(home).entries() if b'"finding-decision"' in raw]


def _keyed(store: Store) -> Log:
    home = log_home(store)
    assert home is not None
    keygen(home, "mission.example/ledger")
    return Log.open(home)


def test_a_decision_on_a_finding_is_logged_with_its_public_id_only(store: Store) -> None:
    lg = _keyed(store)
    before = lg.size
    entry = review.dismiss(store, "violation", "vio-0001", ACTOR, REASON)
    (logged,) = _decisions(store)
    assert logged == {
        "type": ENTRY_TYPE,
        "finding": public_ids(store)("vio-0001"),
        "action": "dismiss",
        "status_before": "corroborated",
        "status_after": "refuted",
        "audit_seq": entry.seq,
        "time": entry.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    home = log_home(store)
    assert home is not None
    raw = (home / "ledger" / "entries.jsonl").read_text()
    assert ACTOR not in raw and "patrol 7" not in raw and "vio-0001" not in raw  # the audit trail's, not the log's
    lg = Log.open(home)
    assert lg.size == before + 1
    pos = log_position(store)
    assert pos is not None and pos.size == lg.size and pos.origin == "mission.example/ledger"


def test_decisions_are_logged_once_in_audit_order_and_other_actions_not_at_all(store: Store) -> None:
    _keyed(store)
    a = review.confirm(store, "violation", "vio-0002", ACTOR, REASON)
    review.annotate(store, "violation", "vio-0002", ACTOR, "a note")
    review.request_verification(store, "violation", "vio-0001", ACTOR, "send a patrol")
    review.confirm(store, "incident", "inc-0001", ACTOR, REASON)  # an incident is not a finding
    b = review.mark_inconclusive(store, "violation", "vio-0002", ACTOR, REASON)
    assert [(d["audit_seq"], d["status_after"]) for d in _decisions(store)] == [
        (a.seq, "verified"),
        (b.seq, "inconclusive"),
    ]
    assert log_decisions(store) == 0
    assert len(_decisions(store)) == 2


def test_decisions_made_before_the_log_had_a_key_are_caught_up(store: Store) -> None:
    review.dismiss(store, "violation", "vio-0001", ACTOR, REASON)  # no log yet: stored and audited only
    review.confirm(store, "violation", "vio-0002", ACTOR, REASON)
    assert log_decisions(store) == 0 and log_position(store) is None
    lg = _keyed(store)
    assert logged_up_to(lg) == 0
    assert log_decisions(store) == 2
    assert [d["finding"] for d in _decisions(store)] == [public_ids(store)(v) for v in ("vio-0001", "vio-0002")]
    assert log_decisions(store) == 0


def test_a_log_whose_key_is_gone_does_not_undo_the_decision(store: Store) -> None:
    _keyed(store)
    home = log_home(store)
    assert home is not None
    for key in key_dir(home).glob("*.key"):
        key.unlink()
    review.dismiss(store, "violation", "vio-0001", ACTOR, REASON)  # no exception: the decision stands
    d = store.get_derived("violation", "vio-0001")
    assert d is not None and d.status == "refuted"
    assert _decisions(store) == []
    with pytest.raises(Exception, match="signing key"):
        log_decisions(store)
