"""Quarantine of derived rows that no longer decode (processing and reporting hold them and go on), and
decisions on many entries at once (a systematic failure holds every window)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.service.test_quarantine import EX, HOUR, T0, arrivals, dets, failing_window, held, scope_at, sensors
from truceline.agreement import Agreement, default_agreement
from truceline.cli import app
from truceline.core.errors import Conflict, InvalidInput, NotFound
from truceline.service.process import process
from truceline.service.quarantine import decide_many, held_entries, hold, read_derived
from truceline.store import SQLiteStore
from truceline.store.base import to_us


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """As test_quarantine.py's: three sensors; detections in the 03:00 and the 05:00 windows."""
    s = SQLiteStore(tmp_path / "data")
    s.add_records("sensor", sensors())
    s.add_detections(dets(arrivals("a", T0) + arrivals("b", T0 + 2 * HOUR)))
    yield s
    s.close()


def poison(store: SQLiteStore, kind: str, rid: str, t_us: int, scope: str, body: dict[str, Any] | str) -> None:
    """A derived row as an older truceline (or a bug) could have left it, bypassing validation."""
    text = body if isinstance(body, str) else json.dumps(body)
    store._db.execute("INSERT INTO derived VALUES (?,?,?,?,?,?,NULL,?)", (kind, rid, t_us, scope, 1, None, text))


def bad_event(rid: str) -> dict[str, Any]:
    return {**json.loads(EX["event"].model_dump_json()), "id": rid, "origin_time": "10000-01-01T00:00:00Z"}


def test_processing_holds_a_derived_row_that_no_longer_decodes_and_goes_on(
    store: SQLiteStore, agreement: Agreement, caplog: pytest.LogCaptureFixture
) -> None:
    own = scope_at(T0)
    poison(store, "event", "evt-other", T0, "window:elsewhere", bad_event("evt-other"))  # another scope's row
    poison(store, "event", "evt-own", T0 + 1, own, "{not json")  # the window's own row, from an older run
    s = process(store, agreement)
    assert s.windows_processed == [scope_at(T0), scope_at(T0 + 2 * HOUR)] and s.windows_quarantined == []
    h = held(store)
    assert "stored record cannot be read" in h[("event", "evt-other")] and "origin_time" in h[("event", "evt-other")]
    assert "JSONDecodeError" in h[("event", "evt-own")] and s.quarantined == 2
    (entry,) = [e for e in store.quarantine_entries(kind="event") if e.target_id == "evt-other"]
    assert entry.time_us == T0 and [a.action for a in store.audit("evt-other")] == ["quarantine"]
    # The window's own poisoned row was superseded by its new run: reads no longer meet it.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        store.derived("event")
    assert "evt-own" not in caplog.text and "evt-other" in caplog.text


def test_releasing_a_held_derived_row_has_its_window_processed_again(
    store: SQLiteStore, agreement: Agreement
) -> None:
    poison(store, "event", "evt-other", T0, "window:elsewhere", bad_event("evt-other"))
    process(store, agreement)
    assert process(store, agreement).windows_processed == []
    (entry,) = store.quarantine_entries(kind="event")
    decide_many(store, [entry.qid], "release", "anna", "codebook fixed, derive it again")
    s = process(store, agreement)  # a release is new data at the row's time: its window is redone
    assert s.windows_processed == [scope_at(T0)]
    again = store.quarantine_entry(entry.qid)
    assert again is not None and again.state == "quarantined"  # it still does not decode: held again
    assert [a.action for a in store.audit("evt-other")] == ["quarantine", "release_quarantine", "quarantine"]


def test_read_derived_holds_every_bad_row_not_only_the_first(store: SQLiteStore) -> None:
    for k in range(3):
        poison(store, "violation", f"vio-{k}", T0 + k, "window:x", {"id": f"vio-{k}"})
    assert read_derived(store, "violation") == []
    assert {rid for kind, rid in held(store) if kind == "violation"} == {"vio-0", "vio-1", "vio-2"}


def test_the_bulletin_holds_a_poisoned_finding_or_verdict_and_is_written(
    store: SQLiteStore, agreement: Agreement, tmp_path: Path
) -> None:
    from truceline.report import BulletinOptions, build_bulletin

    process(store, agreement)
    vio = {**json.loads(EX["violation"].model_dump_json()), "id": "vio-bad"}
    vio["position"] = {"lon_deg": 37.7, "lat_deg": 91}
    poison(store, "violation", "vio-bad", T0, "window:x", vio)
    poison(store, "claim_assessment", "ca-bad", T0, "claims", {"id": "ca-bad"})
    poison(store, "event", "evt-bad", T0, "window:x", bad_event("evt-bad"))
    res = build_bulletin(store, agreement, "2025-04-20", tmp_path / "b", BulletinOptions(pdf=False))
    assert res.data.processed_until is not None and "vio-bad" not in {v.id for v in res.data.violations}
    assert {("violation", "vio-bad"), ("claim_assessment", "ca-bad"), ("event", "evt-bad")} <= set(held(store))


# -- decisions on many -----------------------------------------------------------------------------
@pytest.fixture
def systematic(store: SQLiteStore, agreement: Agreement, monkeypatch: pytest.MonkeyPatch) -> SQLiteStore:
    """Both windows held by one bug, and a detection held for its own reason."""
    with monkeypatch.context() as m:
        failing_window(m, T0 // HOUR * HOUR)
        failing_window(m, (T0 + 2 * HOUR) // HOUR * HOUR)
        s = process(store, agreement)
    assert len(s.windows_quarantined) == 2
    hold(store, "detection", "a1", T0 + 1_000_000, "looked wrong to an analyst", actor="anna")
    return store


def test_held_entries_select_by_kind_and_reason(systematic: SQLiteStore) -> None:
    scopes = held_entries(systematic, kind="scope")
    assert [e.target_id for e in scopes] == [scope_at(T0), scope_at(T0 + 2 * HOUR)]
    assert held_entries(systematic, match="zerodivisionERROR") == scopes
    assert [e.target_id for e in held_entries(systematic)] == [*(e.target_id for e in scopes), "a1"]
    with pytest.raises(InvalidInput, match="match"):
        held_entries(systematic, match=" ")


def test_decide_many_is_all_or_nothing_and_audits_each(systematic: SQLiteStore) -> None:
    qids = [e.qid for e in held_entries(systematic)]
    with pytest.raises(NotFound):
        decide_many(systematic, [*qids, 999], "release", "anna", "rule fixed")
    with pytest.raises(InvalidInput, match="decision"):
        decide_many(systematic, qids, "forget", "anna", "rule fixed")
    assert len(held_entries(systematic)) == 3 and all(a.action == "quarantine" for a in systematic.audit())
    done = decide_many(systematic, qids[:2], "reject", "anna", "test shots")
    assert [e.state for e in done] == ["rejected", "rejected"]
    with pytest.raises(Conflict, match="already rejected"):
        decide_many(systematic, qids, "release", "anna", "changed my mind")
    assert [e.target_id for e in held_entries(systematic)] == ["a1"]  # the failed batch wrote nothing
    for e in done:
        assert [a.action for a in systematic.audit(e.target_id)] == ["quarantine", "reject_quarantine"]


def run(args: list[str], data: Path, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, ["quarantine", *args, "--data", str(data)], input=stdin)


WHO = ["--actor", "anna", "--reason", "rule fixed in 1.4.2"]


def test_cli_releases_every_window_a_bug_held_after_confirming_the_count(
    systematic: SQLiteStore, agreement: Agreement, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    sel = ["release", "--all", "--kind", "scope", "--match", "ZeroDivisionError", *WHO]
    res = run(sel, data, stdin="n\n")
    assert res.exit_code == 1 and "release 2 entries (2 scope)?" in res.output
    assert len(held_entries(systematic)) == 3  # declined: nothing decided
    res = run(sel, data, stdin="y\n")
    assert res.exit_code == 0, res.output
    assert "released 2 entries (each audited)" in res.output
    assert [e.target_id for e in held_entries(systematic)] == ["a1"]
    for scope in (scope_at(T0), scope_at(T0 + 2 * HOUR)):
        assert [a.action for a in systematic.audit(scope)] == ["quarantine", "release_quarantine"]
        assert [a.actor for a in systematic.audit(scope)][-1] == "anna"
    assert process(systematic, agreement).windows_processed == [scope_at(T0), scope_at(T0 + 2 * HOUR)]
    res = run(["reject", "--all", "--kind", "scope", *WHO], data)
    assert res.exit_code == 0 and "no entry selected" in res.output


def test_cli_decides_several_ids_and_refuses_a_muddled_selection(systematic: SQLiteStore, tmp_path: Path) -> None:
    data = tmp_path / "data"
    qids = [str(e.qid) for e in held_entries(systematic)]
    for bad in (["release", qids[0], "--all"], ["release"], ["release", qids[0], "--kind", "scope"]):
        res = run([*bad, *WHO], data)
        assert res.exit_code == 2, res.output
    assert len(held_entries(systematic)) == 3
    res = run(["reject", *qids[:2], "--yes", *WHO], data)
    assert res.exit_code == 0 and res.output.count("\trejected\t") == 2, res.output
    res = run(["release", *qids, "--yes", *WHO], data)  # two are decided already: none is released
    assert res.exit_code == 1 and "already rejected" in res.output
    assert [e.target_id for e in held_entries(systematic)] == ["a1"]
    res = run(["list", "--kind", "detection", "--json"], data)
    (row,) = [json.loads(x) for x in res.output.splitlines()]
    assert row["id"] == "a1" and row["state"] == "quarantined"


# -- records stored before the bounds existed ------------------------------------------------------
def huge(body: dict[str, Any], rid: str) -> dict[str, Any]:
    return {**body, "id": rid, "count": {"low": 1, "best": 10**40, "high": 10**40}}


def test_a_count_beyond_any_physical_one_is_held_and_the_bulletin_written(
    store: SQLiteStore, agreement: Agreement, tmp_path: Path
) -> None:
    """Issue 13: an observer count of 1e40 stopped the bulletin (int64 overflow); stored before the
    ingest bounds, it is held by the first reader that uses it, with the field named."""
    from tests.service.test_quarantine import raw_observation
    from truceline.report import BulletinOptions, build_bulletin

    report = json.loads(EX["observer_report"].model_dump_json())
    raw_observation(store, "observer_report", "obs-huge", T0, huge(report, "obs-huge"))
    poison(store, "event", "evt-huge", T0, "window:x", huge(json.loads(EX["event"].model_dump_json()), "evt-huge"))
    assert {r.id for r in store.records("observer_report")} == {"obs-huge"}  # it decodes: only its count is absurd
    res = build_bulletin(store, agreement, "2025-04-20", tmp_path / "b", BulletinOptions(pdf=False))
    assert res.data.observer_reports == [] and res.data.events == []
    h = held(store)
    for key in (("observer_report", "obs-huge"), ("event", "evt-huge")):
        assert "out of bounds: count.high" in h[key] and "not a physical count" in h[key], h
    (entry,) = store.quarantine_entries(kind="observer_report")
    assert entry.time_us == to_us(EX["observer_report"].time)  # type: ignore[attr-defined]  # its window's
    assert process(store, agreement).windows_quarantined == []


def test_the_tally_clips_a_count_it_is_given_instead_of_overflowing(agreement: Agreement) -> None:
    from truceline.core import CountRange, evolve
    from truceline.report.data import MAX_TALLY, Tally

    ev = evolve(EX["event"], count=CountRange(low=1, best=10**40, high=10**40))
    tally = Tally.of(agreement, [ev], [], set())  # type: ignore[list-item]
    assert tally.total == MAX_TALLY
