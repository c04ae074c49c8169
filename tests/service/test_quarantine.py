"""Quarantine, never a halt: a stored record or a window that fails in processing is held, audited and
skipped, processing goes on, and an analyst releases or rejects it; derived rows that no longer decode
are held too, and many entries can be decided at once (a systematic failure holds every window).

The stores are built by hand (three sensors, a few detections an hour apart) and bad records are
written straight into the store, as an older truceline or a hole in validation could have left them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.backends import execute, is_sqlite
from truceline.agreement import Agreement, default_agreement
from truceline.cli import app
from truceline.core import Sensor, evolve
from truceline.core.errors import Conflict, InvalidInput, NotFound
from truceline.core.examples import EXAMPLE_TIME, example_records
from truceline.io.detections import DetectionTable
from truceline.service import process as process_module
from truceline.service.process import ProcessParams, process, processed_until, window_scope, windows
from truceline.service.quarantine import decide_many, held_entries, hold, read_derived, reject, release
from truceline.store import Store, open_store
from truceline.store.base import StoredRecordError, to_us

EX = example_records()
T0 = to_us(EXAMPLE_TIME)  # 2025-04-20T03:15:07Z: in the 03:00 window
HOUR = 3_600_000_000
NAT = -9_223_372_036_854_775_808  # numpy's NaT as int64: what a CSV time "Z" was once stored as
YEAR_10000 = to_us(dt.datetime(9999, 12, 31, tzinfo=dt.UTC)) + 2 * 86_400_000_000


def sensors() -> list[Sensor]:
    s: Sensor = EX["sensor"]  # type: ignore[assignment]
    return [evolve(s, id=f"S{k}", position=evolve(s.position, lat_deg=s.position.lat_deg + 0.05 * k)) for k in range(3)]


def dets(rows: list[tuple[str, int, str]]) -> DetectionTable:
    n = len(rows)
    nan = np.full(n, np.nan)
    return DetectionTable(
        ids=np.array([r[0] for r in rows]), sensor_ids=np.array([r[2] for r in rows]),
        t_us=np.array([r[1] for r in rows], dtype=np.int64), time_sigma_s=np.full(n, 0.05), bearing_deg=nan,
        bearing_sigma_deg=nan, amplitude_pa=nan, launch_score=nan, impact_score=nan, line=np.zeros(n, dtype=np.int64),
    )  # fmt: skip


def arrivals(prefix: str, t_us: int) -> list[tuple[str, int, str]]:
    return [(f"{prefix}{k}", t_us + k * 1_000_000, f"S{k}") for k in range(3)]


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture
def store(store: Store) -> Store:
    """Three sensors; detections in the 03:00 and the 05:00 windows (on each backend asked for, tests/backends.py)."""
    store.add_records("sensor", sensors())
    store.add_detections(dets(arrivals("a", T0) + arrivals("b", T0 + 2 * HOUR)))
    return store


def scope_at(t_us: int) -> str:
    return window_scope(dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=t_us // HOUR * HOUR))


def held(store: Store) -> dict[tuple[str, str], str]:
    return {(e.kind, e.target_id): e.reason for e in store.quarantine_entries(state="quarantined")}


def test_a_detection_no_datetime_can_hold_is_held_and_the_rest_is_processed(
    store: Store, agreement: Agreement
) -> None:
    store.add_detections(dets([("nat", NAT, "S0"), ("y10000", YEAR_10000, "S1")]))
    assert len(windows(store, ProcessParams(), None, None)) == 2  # the times no datetime reaches count for nothing
    assert processed_until(store) is None  # reading the state does not die either
    s = process(store, agreement)
    assert s.windows_processed == [scope_at(T0), scope_at(T0 + 2 * HOUR)] and s.windows_quarantined == []
    h = held(store)
    assert set(h) == {("detection", "nat"), ("detection", "y10000")} and s.quarantined == 2
    assert "outside the years 1 to 9999" in h[("detection", "nat")]
    assert s.processed_until == dt.datetime(2025, 4, 20, 6, tzinfo=dt.UTC)
    assert [e.action for e in store.audit("nat")] == ["quarantine"]
    # Held, they stay out of every read; the raw rows stay stored (append-only).
    assert store.count("detection") == 8 and "nat" not in set(store.detections(NAT, YEAR_10000 + 1).ids.tolist())
    assert store.time_span_us() == (T0, T0 + 2 * HOUR + 2_000_000)
    assert process(store, agreement).windows_processed == []


def test_a_lone_detection_in_2100_costs_its_window_not_the_span(store: Store, agreement: Agreement) -> None:
    far = to_us(dt.datetime(2100, 1, 1, 12, 30, tzinfo=dt.UTC))
    store.add_detections(dets(arrivals("far", far)))
    starts = windows(store, ProcessParams(), None, None)
    assert starts == [T0 // HOUR * HOUR, (T0 + 2 * HOUR) // HOUR * HOUR, far // HOUR * HOUR]
    s = process(store, agreement)
    assert s.windows_total == 3 and len(s.windows_processed) == 3
    # Limits still apply, and only the windows holding data within them are listed.
    since = dt.datetime(2025, 4, 20, 4, tzinfo=dt.UTC)
    assert windows(store, ProcessParams(), since, dt.datetime(2099, 1, 1, tzinfo=dt.UTC)) == [starts[1]]


def test_detections_within_the_overlap_make_the_neighbour_window_one(new_store_url: Callable[[str], str]) -> None:
    s = open_store(new_store_url("d"))
    h8 = to_us(dt.datetime(2025, 4, 20, 8, tzinfo=dt.UTC))
    # 08:01:40 is in the 07:00 window's overlap (240 s), not in its 60 s one; 09:58:30 likewise for 10:00.
    s.add_detections(dets([("after", h8 + 100_000_000, "S0"), ("before", h8 + 2 * HOUR - 90_000_000, "S1")]))
    assert windows(s, ProcessParams(), None, None) == [h8 - HOUR, h8, h8 + HOUR, h8 + 2 * HOUR]
    assert windows(s, ProcessParams(overlap_s=60), None, None) == [h8, h8 + HOUR]
    assert windows(s, ProcessParams(window_s=7200, overlap_s=60), None, None) == [h8]
    s.close()


def test_a_culprit_detection_is_held_and_its_window_processed_without_it(
    store: Store, agreement: Agreement
) -> None:
    store.add_detections(dets([("ghost", T0 + 5_000_000, "NO-SUCH-SENSOR")]))
    s = process(store, agreement)
    assert scope_at(T0) in s.windows_processed and s.windows_quarantined == []
    reason = held(store)[("detection", "ghost")]
    assert scope_at(T0) in reason and "unknown sensor" in reason
    assert "ghost" not in set(store.detections(T0 - HOUR, T0 + HOUR).ids.tolist())


def failing_window(monkeypatch: pytest.MonkeyPatch, bad_start_us: int) -> None:
    """Make adjudication fail in one window only (as a bug triggered by some data would)."""
    real = process_module.adjudicate
    bad_end = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=bad_start_us + HOUR)

    def adjudicate(ctx: Any) -> Any:
        if ctx.created_at == bad_end:
            raise ZeroDivisionError("a bug in one rule")
        return real(ctx)

    monkeypatch.setattr(process_module, "adjudicate", adjudicate)


def test_a_window_that_fails_with_no_culprit_is_held_and_the_run_goes_on(
    store: Store, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = T0 // HOUR * HOUR
    with monkeypatch.context() as m:
        failing_window(m, bad)
        s = process(store, agreement)
        assert s.windows_quarantined == [scope_at(bad)] and s.windows_processed == [scope_at(bad + 2 * HOUR)]
        (entry,) = store.quarantine_entries(kind="scope")
        assert entry.target_id == scope_at(bad) and "ZeroDivisionError: a bug in one rule" in entry.reason
        assert processed_until(store) is None  # the first window is not done
        again = process(store, agreement)  # a held window is not retried on every run
        assert again.windows_processed == [] and again.windows_quarantined == []
    release(store, entry.qid, "anna", "rule fixed in 1.4.2")
    s = process(store, agreement)
    assert s.windows_processed == [scope_at(bad)]
    assert processed_until(store) == dt.datetime(2025, 4, 20, 6, tzinfo=dt.UTC)
    actions = [e.action for e in store.audit(scope_at(bad))]
    assert actions == ["quarantine", "release_quarantine"]


def test_a_rejected_window_is_kept_out_and_counts_as_done(
    store: Store, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = T0 // HOUR * HOUR
    with monkeypatch.context() as m:
        failing_window(m, bad)
        process(store, agreement)
    (entry,) = store.quarantine_entries(kind="scope")
    reject(store, entry.qid, "anna", "sensor test shots, not mission data")
    assert process(store, agreement).windows_processed == []
    assert processed_until(store) == dt.datetime(2025, 4, 20, 6, tzinfo=dt.UTC)
    with pytest.raises(Conflict, match="already rejected"):
        release(store, entry.qid, "anna", "changed my mind")


def raw_observation(store: Store, kind: str, rid: str, t_us: int, body: dict[str, Any]) -> None:
    """Write a stored observation as an older truceline could have left it (bypassing validation)."""
    execute(
        store,
        "INSERT INTO observations (kind, id, time_us, seq, ingested_at, source, body) VALUES (?,?,?,?,?,?,?)",
        (kind, rid, t_us, store._next_seq(1), "2025-04-20T00:00:00+00:00", "old", json.dumps(body)),  # type: ignore[attr-defined]
    )


def test_a_stored_record_that_no_longer_decodes_is_skipped_then_held(
    store: Store, agreement: Agreement, caplog: pytest.LogCaptureFixture
) -> None:
    good = json.loads(EX["sighting"].model_dump_json())
    bad = {**good, "id": "sgt-bad", "position": {**good["position"], "lat_deg": 91.0}}
    raw_observation(store, "sighting", "sgt-bad", T0, bad)
    with caplog.at_level(logging.WARNING):
        assert store.records("sighting") == []  # readers (the bulletin, the API) skip it, with a warning
    assert "sgt-bad" in caplog.text
    with pytest.raises(StoredRecordError, match="sgt-bad"):
        store.records("sighting", strict=True)
    s = process(store, agreement)
    assert scope_at(T0) in s.windows_processed
    assert "stored record cannot be read" in held(store)[("sighting", "sgt-bad")]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert store.records("sighting", strict=True) == []
    assert "sgt-bad" not in caplog.text


def test_a_claim_holding_a_lone_surrogate_is_held_and_the_others_judged(
    store: Store, agreement: Agreement
) -> None:
    claim = json.loads(EX["claim"].model_dump_json())
    t = to_us(EX["claim"].period.start)  # type: ignore[attr-defined]
    raw_observation(store, "claim", "clm-bad", t, {**claim, "id": "clm-bad", "text": "x\ud800"})
    store.add_records("claim", [EX["claim"]])
    assert [c.id for c in store.records("claim")] == [EX["claim"].id]
    s = process(store, agreement)
    assert s.claims == 1 and "surrogate" in held(store)[("claim", "clm-bad")]


def test_a_released_record_is_used_again_and_a_rejected_one_never(store: Store, agreement: Agreement) -> None:
    first = hold(store, "detection", "a1", T0 + 1_000_000, "looked wrong to an analyst", actor="anna")
    second = hold(store, "detection", "b1", T0 + 2 * HOUR + 1_000_000, "looked wrong", actor="anna")
    process(store, agreement)
    assert "a1" not in set(store.detections(T0 - HOUR, T0 + HOUR).ids.tolist())
    release(store, first.qid, "anna", "checked against the sensor log")
    reject(store, second.qid, "anna", "a test shot")
    s = process(store, agreement)  # a release is new data in its window: that window is redone
    assert s.windows_processed == [scope_at(T0)]
    assert "a1" in set(store.detections(T0 - HOUR, T0 + HOUR).ids.tolist())
    assert "b1" not in set(store.detections(T0 + HOUR, T0 + 3 * HOUR).ids.tolist())
    assert [e.action for e in store.audit("a1")] == ["quarantine", "release_quarantine"]
    assert [e.actor for e in store.audit("b1")] == ["anna", "anna"]


def test_decisions_need_a_known_held_entry_an_actor_and_a_reason(store: Store) -> None:
    e = hold(store, "detection", "a1", T0, "x")
    with pytest.raises(NotFound):
        release(store, 999, "anna", "why")
    with pytest.raises(InvalidInput, match="reason"):
        release(store, e.qid, "anna", " ")
    with pytest.raises(InvalidInput, match="actor"):
        reject(store, e.qid, "", "why")
    release(store, e.qid, "anna", "why")
    with pytest.raises(Conflict, match="already released"):
        release(store, e.qid, "anna", "again")
    # Held again (it fails again), it waits for a new decision; holding it twice audits once.
    hold(store, "detection", "a1", T0, "failed again")
    hold(store, "detection", "a1", T0, "failed again")
    assert [x.action for x in store.audit("a1")] == ["quarantine", "release_quarantine", "quarantine"]


def test_cli_lists_releases_and_rejects(store: Store, agreement: Agreement, store_url: str) -> None:
    store.add_detections(dets([("nat", NAT, "S0"), ("ghost", T0 + 5_000_000, "NO-SUCH-SENSOR")]))
    process(store, agreement)
    data = ["--store", store_url]
    runner = CliRunner()
    res = runner.invoke(app, ["quarantine", "list", *data])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split("\t") == ["qid", "kind", "id", "time", "quarantined_at", "state", "reason"]
    rows = {ln.split("\t")[2]: ln.split("\t") for ln in lines[1:]}
    assert rows["nat"][1] == "detection" and rows["nat"][5] == "quarantined" and rows["nat"][3].endswith("us")
    assert rows["ghost"][3] == "2025-04-20T03:15:12Z" and "unknown sensor" in rows["ghost"][6]
    who = ["--actor", "anna", "--reason", "clock fault, not an event"]
    res = runner.invoke(app, ["quarantine", "reject", rows["nat"][0], *who, *data])
    assert res.exit_code == 0 and "rejected" in res.output, res.output
    res = runner.invoke(app, ["quarantine", "release", rows["nat"][0], *who, *data])
    assert res.exit_code == 1 and "already rejected" in res.output
    res = runner.invoke(app, ["quarantine", "release", "424242", *who, *data])
    assert res.exit_code == 2 and "not found" in res.output
    res = runner.invoke(app, ["quarantine", "list", "--state", "rejected", "--json", *data])
    (row,) = [json.loads(x) for x in res.output.splitlines()]
    assert row["id"] == "nat" and row["decided_by"] == "anna" and row["decision"] == "clock fault, not an event"
    res = runner.invoke(app, ["quarantine", "list", "--state", "lost", *data])
    assert res.exit_code == 2 and "state" in res.output
    res = runner.invoke(app, ["review", "history", "nat", *data])
    assert "anna reject_quarantine: clock fault" in res.output


def test_the_bulletin_is_built_over_bad_stored_records_before_and_after_processing(
    store: Store, agreement: Agreement, tmp_path: Path
) -> None:
    from truceline.report import BulletinOptions, build_bulletin

    store.add_detections(dets([("nat", NAT, "S0"), ("y10000", YEAR_10000, "S1")]))
    sighting = json.loads(EX["sighting"].model_dump_json())
    raw_observation(store, "sighting", "sgt-bad", T0, {**sighting, "id": "sgt-bad", "notes": "\ud800"})
    day = "2025-04-20"
    before = build_bulletin(store, agreement, day, tmp_path / "b1", BulletinOptions(pdf=False))
    assert before.data.processed_until is None and before.data.sightings == []
    process(store, agreement)
    after = build_bulletin(store, agreement, day, tmp_path / "b2", BulletinOptions(pdf=False))
    assert after.data.processed_until == dt.datetime(2025, 4, 20, 6, tzinfo=dt.UTC)
    assert {k for k, _ in held(store)} == {"detection", "sighting"}


# --------------------------------------------------------------- derived rows and decisions on many
def poison(store: Store, kind: str, rid: str, t_us: int, scope: str, body: dict[str, Any] | str) -> None:
    """A derived row as an older truceline (or a bug) could have left it, bypassing validation."""
    text = body if isinstance(body, str) else json.dumps(body)
    cols = "kind, id, time_us, scope, run_id, status, superseded_by, body"
    execute(store, f"INSERT INTO derived ({cols}) VALUES (?,?,?,?,?,?,NULL,?)", (kind, rid, t_us, scope, 1, None, text))


def not_json(store: Store) -> str:
    """A body that does not decode: no JSON on SQLite; JSON that is no record on PostGIS (its json column
    refuses what is no JSON)."""
    return "{not json" if is_sqlite(store) else '["not", "a record"]'


def bad_event(rid: str) -> dict[str, Any]:
    return {**json.loads(EX["event"].model_dump_json()), "id": rid, "origin_time": "10000-01-01T00:00:00Z"}


def test_processing_holds_a_derived_row_that_no_longer_decodes_and_goes_on(
    store: Store, agreement: Agreement, caplog: pytest.LogCaptureFixture
) -> None:
    own = scope_at(T0)
    poison(store, "event", "evt-other", T0, "window:elsewhere", bad_event("evt-other"))  # another scope's row
    poison(store, "event", "evt-own", T0 + 1, own, not_json(store))  # the window's own row, from an older run
    s = process(store, agreement)
    assert s.windows_processed == [scope_at(T0), scope_at(T0 + 2 * HOUR)] and s.windows_quarantined == []
    h = held(store)
    assert "stored record cannot be read" in h[("event", "evt-other")] and "origin_time" in h[("event", "evt-other")]
    assert ("JSONDecodeError" if is_sqlite(store) else "expected a mapping") in h[("event", "evt-own")]
    assert s.quarantined == 2
    (entry,) = [e for e in store.quarantine_entries(kind="event") if e.target_id == "evt-other"]
    assert entry.time_us == T0 and [a.action for a in store.audit("evt-other")] == ["quarantine"]
    # The window's own poisoned row was superseded by its new run: reads no longer meet it.
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        store.derived("event")
    assert "evt-own" not in caplog.text and "evt-other" in caplog.text


def test_releasing_a_held_derived_row_has_its_window_processed_again(
    store: Store, agreement: Agreement
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


def test_read_derived_holds_every_bad_row_not_only_the_first(store: Store) -> None:
    for k in range(3):
        poison(store, "violation", f"vio-{k}", T0 + k, "window:x", {"id": f"vio-{k}"})
    assert read_derived(store, "violation") == []
    assert {rid for kind, rid in held(store) if kind == "violation"} == {"vio-0", "vio-1", "vio-2"}


def test_the_bulletin_holds_a_poisoned_finding_or_verdict_and_is_written(
    store: Store, agreement: Agreement, tmp_path: Path
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
def systematic(store: Store, agreement: Agreement, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Both windows held by one bug, and a detection held for its own reason."""
    with monkeypatch.context() as m:
        failing_window(m, T0 // HOUR * HOUR)
        failing_window(m, (T0 + 2 * HOUR) // HOUR * HOUR)
        s = process(store, agreement)
    assert len(s.windows_quarantined) == 2
    hold(store, "detection", "a1", T0 + 1_000_000, "looked wrong to an analyst", actor="anna")
    return store


def test_held_entries_select_by_kind_and_reason(systematic: Store) -> None:
    scopes = held_entries(systematic, kind="scope")
    assert [e.target_id for e in scopes] == [scope_at(T0), scope_at(T0 + 2 * HOUR)]
    assert held_entries(systematic, match="zerodivisionERROR") == scopes
    assert [e.target_id for e in held_entries(systematic)] == [*(e.target_id for e in scopes), "a1"]
    with pytest.raises(InvalidInput, match="match"):
        held_entries(systematic, match=" ")


def test_decide_many_is_all_or_nothing_and_audits_each(systematic: Store) -> None:
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


def run(args: list[str], url: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, ["quarantine", *args, "--store", url], input=stdin)


WHO = ["--actor", "anna", "--reason", "rule fixed in 1.4.2"]


def test_cli_releases_every_window_a_bug_held_after_confirming_the_count(
    systematic: Store, agreement: Agreement, store_url: str
) -> None:
    data = store_url
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


def test_cli_decides_several_ids_and_refuses_a_muddled_selection(systematic: Store, store_url: str) -> None:
    data = store_url
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
    store: Store, agreement: Agreement, tmp_path: Path
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
