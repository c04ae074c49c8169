"""``truceline store copy``: a whole store copied between backends with the same ids and content, verified
by rows and SHA-256 of each kind, resumed after an interruption or a SIGKILL, refusing what is not a copy.

Each test runs once per backend asked for (tests/backends.py): the source is a SQLite store, the
destination a store of the backend, and where a test copies back, the store of the backend is the
source of a second SQLite store: SQLite -> SQLite always, SQLite -> PostGIS -> SQLite with postgis.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.backends import all_rows, execute, is_sqlite
from truceline.cli import app
from truceline.core import Record, evolve, to_json_dict
from truceline.core.errors import Conflict, InvalidInput
from truceline.core.examples import EXAMPLE_TIME, example_records
from truceline.io.detections import DetectionTable
from truceline.store import Store, open_store
from truceline.store.base import DERIVED_KINDS, MAX_US, MIN_US, ApiToken, to_us
from truceline.store.copy import copy_store, same_store
from truceline.store.copy_verify import verify
from truceline.store.postgis_schema import point_ewkt
from truceline.store.tables import COPY_ORDER, TABLES

EX = example_records()
T0 = to_us(EXAMPLE_TIME)
OBS_KINDS = ("sensor", "sensor_status_report", "weather_report", "observer_report", "sighting",
             "freedom_of_movement_restriction", "claim")  # fmt: skip
AT = dt.datetime(2026, 8, 1, 9, 30, tzinfo=dt.UTC)


def dets(n: int, first: int = 0) -> DetectionTable:
    """``n`` detections ``det-NNNNNN`` from ``first``, a second apart, some with NaN (stored NULL)."""
    k = np.arange(first, first + n)
    nan_every_3 = np.where(k % 3 == 0, np.nan, (k % 360).astype(np.float64) + 0.25)
    return DetectionTable(
        ids=np.array([f"det-{i:06d}" for i in k]), sensor_ids=np.array([f"S{i % 4}" for i in k]),
        t_us=T0 + k.astype(np.int64) * 1_000_000, time_sigma_s=np.full(n, 0.05), bearing_deg=nan_every_3,
        bearing_sigma_deg=np.full(n, 3.0), amplitude_pa=k / 7.0, launch_score=np.full(n, np.nan),
        impact_score=np.full(n, 0.9), line=np.zeros(n, dtype=np.int64),
    )  # fmt: skip


def _derived_rows(suffix: str) -> list[tuple[str, Record, int]]:
    return [(k, evolve(EX[k], id=f"{EX[k].id}{suffix}"), T0 + i) for i, k in enumerate(DERIVED_KINDS)]


def _raw_undecodable(s: Store) -> None:
    """A stored sighting whose body no longer decodes (as after a codebook change): copied as it is."""
    at = AT.isoformat() if is_sqlite(s) else AT
    body = '{"id":"sig-undecodable","x":1}'
    execute(s, "INSERT INTO observations (kind, id, time_us, seq, ingested_at, source, body) VALUES (?,?,?,?,?,?,?)",
            ("sighting", "sig-undecodable", T0, s.last_seq(), at, "old.jsonl", body))  # fmt: skip


def fill(s: Store, n_obs: int = 5, n_det: int = 50) -> None:
    """Every kind of data a store holds: observations of each kind, detections, runs, derived rows
    (superseded, merged, reviewed), scopes, audit, quarantine in each state, tokens (one revoked)."""
    for kind in OBS_KINDS:
        base = EX[kind]
        s.add_records(kind, [base, *(evolve(base, id=f"{base.id}-{i:03d}") for i in range(n_obs))], f"{kind}.jsonl")
    s.add_detections(dets(n_det), "detections.csv")
    s.add_detections(dets(n_det, n_det), "late.csv")
    _raw_undecodable(s)
    for _ in range(2):  # the second supersedes the first
        run = s.new_run("process", {"params": {"window_s": 3600}}, window_s=3600)
        s.replace_scope("window:2025-04-20T03:00:00Z", run, _derived_rows(""), s.last_seq())
    s.replace_scope("claims", s.new_run("claims", {"n": 1}), _derived_rows("-c")[3:], s.last_seq())
    review = s.new_run("review", {"action": "merge"})
    s.put_derived("review:merge", review, [("incident", evolve(EX["incident"], id="inc-merged"), T0)])
    s.supersede("incident", [EX["incident"].id], review)
    s.set_status("violation", EX["violation"].id, "refuted")
    s.append_audit("anna", "dismiss", "violation", EX["violation"].id, "démolition", {"status": "x"}, {"status": "y"})
    s.append_audit("system:process", "quarantine", "detection", "det-000001", "bad", None, {"state": "quarantined"})
    held = [s.quarantine("detection", f"det-00000{i}", T0 + i, f"reason {i}") for i in range(1, 4)]
    s.quarantine("scope", "window:2025-04-20T04:00:00Z", None, "ZeroDivisionError: division by zero")
    s.decide_quarantine(held[0].qid, "released", "anna", "sensor fixed")
    s.decide_quarantine(held[1].qid, "rejected", "anna", "duplicate")
    s.add_token(ApiToken("tok-00000000000a", "anna", "analyst", None, "a" * 64, AT))
    s.add_token(ApiToken("tok-00000000000b", "liaison.ua", "liaison", "UA", "b" * 64, AT + dt.timedelta(seconds=1)))
    s.revoke_token("tok-00000000000b", AT + dt.timedelta(days=1))


def _detections(s: Store) -> dict[str, list[Any]]:
    d = s.detections(MIN_US, MAX_US)
    cols = ("ids", "sensor_ids", "t_us", "time_sigma_s", "bearing_deg", "amplitude_pa", "launch_score")
    return {c: [None if isinstance(v, float) and v != v else v for v in np.asarray(getattr(d, c)).tolist()]
            for c in cols}  # fmt: skip


def snapshot(s: Store) -> dict[str, Any]:
    """What the protocol reads of a store: everything a copy must keep."""
    derived = {k: [(to_json_dict(d.record), d.scope, d.run_id, d.status, d.superseded_by)
                   for d in s.derived(k, include_superseded=True)] for k in DERIVED_KINDS}  # fmt: skip
    return {
        "records": {k: [to_json_dict(r) for r in s.records(k)] for k in OBS_KINDS},
        "counts": {k: s.count(k) for k in (*OBS_KINDS, "detection")},
        "detections": _detections(s),
        "derived": derived,
        "scopes": s.scope_states(),
        "audit": list(s.audit()),
        "quarantine": s.quarantine_entries(),
        "tokens": s.tokens(),
        "seqs": (s.last_seq(), s.max_seq("detection"), s.max_seq_between(MIN_US, MAX_US), s.time_span_us()),
    }


def _sqlite_source(tmp_path: Path, name: str = "src", **kw: int) -> str:
    url = str(tmp_path / name)
    s = open_store(url)
    try:
        fill(s, **kw)
    finally:
        s.close()
    return url


def _read(url: str, fn: Callable[[Store], Any]) -> Any:
    s = open_store(url)
    try:
        return fn(s)
    finally:
        s.close()


def test_table_rows_page_in_key_order_and_load_rows_keeps_the_numbering(
    store: Store, new_store_url: Callable[[str], str]
) -> None:
    fill(store)
    other = open_store(new_store_url("other"))
    try:
        for name in COPY_ORDER:
            t = TABLES[name]
            whole = store.table_rows(name)
            assert whole, name
            keys = [t.key_of(r) for r in whole]
            assert keys == sorted(keys) and len(set(keys)) == len(keys), name
            paged, after = [], None
            while rows := store.table_rows(name, after=after, limit=7):
                paged += rows
                after = t.key_of(rows[-1])
            assert paged == whole, name
            assert store.table_rows(name, after=keys[0], upto=keys[-1]) == whole[1:], name
            other.load_rows(name, whole)
            with pytest.raises(ValueError, match=name):  # a key already stored: refused, nothing written
                other.load_rows(name, whole[:1])
            assert len(other.table_rows(name)) == len(whole)
        other.load_rows("seqs", store.table_rows("seqs"))
        assert snapshot(other) == snapshot(store)
        runs, audit, qids = (max(r[0] for r in other.table_rows(n)) for n in ("runs", "audit", "quarantine"))
        assert other.new_run("process", {}) == runs + 1
        assert other.append_audit("a", "b", "c", "d", "e", None, None).seq == audit + 1
        assert other.quarantine("sighting", "x", T0, "r").qid == qids + 1
        assert other.add_records("sighting", [evolve(EX["sighting"], id="new")]).inserted == 1
        assert other.max_seq("sighting") == store.last_seq() + 1
        with pytest.raises(ValueError, match="not a stored table"):
            other.table_rows("nope")
    finally:
        other.close()


def test_copy_keeps_every_id_and_content_both_ways(
    backend: str, tmp_path: Path, new_store_url: Callable[[str], str]
) -> None:
    src = _sqlite_source(tmp_path)
    mid, back = new_store_url("mid"), str(tmp_path / "back")
    there = copy_store(src, mid, batch=7)
    assert there.ok and not there.resumed, there.mismatched
    assert there.copied["observations"] == sum(6 for _ in OBS_KINDS) + 1 and there.copied["detections"] == 100
    names = {p.name for p in there.parts}
    assert {f"observations/{k}" for k in OBS_KINDS} | {f"derived/{k}" for k in DERIVED_KINDS} <= names
    assert {"detections", "runs", "scopes", "audit", "quarantine", "api_tokens", "seqs/obs"} <= names
    assert _read(mid, snapshot) == _read(src, snapshot)
    if backend == "postgis":  # geometries made from the bodies, as at ingest
        placed = _read(src, lambda s: sum(point_ewkt(r) is not None for k in OBS_KINDS for r in s.records(k)))
        got = _read(mid, lambda s: execute(s, "SELECT count(*) FROM observations WHERE geom IS NOT NULL"))
        assert got == [(placed,)]
    returned = copy_store(mid, back, batch=1000)
    assert returned.ok, returned.mismatched
    first, second = open_store(src), open_store(back)
    try:  # the very rows, times of writes as the same text included
        for name in TABLES:
            assert sorted(all_rows(second, name), key=repr) == sorted(all_rows(first, name), key=repr), name
        assert second.count("sighting") == 7 and len(second.records("sighting")) == 6  # undecodable kept, skipped
    finally:
        first.close()
        second.close()


def test_an_interrupted_copy_resumes_to_an_identical_copy(tmp_path: Path, new_store_url: Callable[[str], str]) -> None:
    src, dst = _sqlite_source(tmp_path), new_store_url("dst")

    def stop(table: str, written: int, present: int) -> None:
        if table == "derived" and written >= 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_store(src, dst, batch=3, progress=stop)
    partial = _read(dst, lambda s: (len(s.table_rows("derived")), s.last_seq(), s.count("detection")))
    assert partial == (6, 0, 100)  # detections done, derived begun, the counter not yet set
    again = copy_store(src, dst, batch=4)
    assert again.ok and again.resumed, again.mismatched
    assert again.present["derived"] == 6 and again.copied["detections"] == 0
    assert again.copied["derived"] == len(_read(src, lambda s: s.table_rows("derived"))) - 6
    assert _read(dst, snapshot) == _read(src, snapshot)
    done = copy_store(src, dst)  # a complete copy: nothing written, verified again
    assert done.ok and sum(done.copied.values()) == 0


def test_refuses_a_destination_that_is_not_a_copy_of_the_source(
    tmp_path: Path, new_store_url: Callable[[str], str]
) -> None:
    src, dst = _sqlite_source(tmp_path), new_store_url("dst")
    other = _sqlite_source(tmp_path, "other")  # the same records, ingested at other times
    with pytest.raises(Conflict, match=r"not a copy of .*observations differ"):
        copy_store(src, other)
    s = open_store(dst)
    s.add_token(ApiToken("tok-0000000000ff", "early", "admin", None, "f" * 64, AT))
    s.close()
    with pytest.raises(Conflict, match="api_tokens differ"):
        copy_store(src, dst)
    fresh = new_store_url("fresh")
    assert copy_store(src, fresh).ok
    s = open_store(fresh)
    s.add_records("sighting", [evolve(EX["sighting"], id="after-the-copy")])
    s.close()
    with pytest.raises(Conflict, match="counter 'obs'"):
        copy_store(src, fresh)


def test_refuses_one_store_twice_and_a_source_that_is_not_there(tmp_path: Path) -> None:
    src = _sqlite_source(tmp_path, n_obs=0, n_det=1)
    assert same_store(src, f"sqlite://{src}") and same_store(src, f"{tmp_path}/src/../src")
    assert same_store("postgresql://a:p@h:5432/db", "postgres://b:q@H/db")
    assert not same_store("postgresql://a:p@h/db", "postgresql://a:p@h/db2")
    with pytest.raises(InvalidInput, match="same store"):
        copy_store(src, f"sqlite://{src}")
    with pytest.raises(InvalidInput, match="no store there"):
        copy_store(str(tmp_path / "missing"), str(tmp_path / "dst"))
    assert not (tmp_path / "missing").exists()


def test_cli_prints_the_verification_and_names_bad_input(tmp_path: Path, new_store_url: Callable[[str], str]) -> None:
    runner = CliRunner()
    src, dst = _sqlite_source(tmp_path), new_store_url("dst")
    res = runner.invoke(app, ["store", "copy", src, dst, "--batch", "20"])
    assert res.exit_code == 0, res.output
    assert "observations/sighting" in res.stdout and "derived/violation" in res.stdout and "MISMATCH" not in res.stdout
    assert "verified:" in res.stderr
    res = runner.invoke(app, ["store", "copy", src, dst, "--json"])  # complete: nothing written, verified again
    report = json.loads(res.stdout)
    assert res.exit_code == 0 and report["ok"] and report["resumed"] and sum(report["copied"].values()) == 0
    assert all(len(p["source_sha256"]) == 64 and p["ok"] for p in report["parts"])
    s = open_store(dst)
    s.append_audit("mallory", "annotate", "violation", "v", "added in the copy", None, None)  # no sequence number
    s.close()
    res = runner.invoke(app, ["store", "copy", src, dst])
    assert res.exit_code == 1 and "verification failed: audit differ" in res.stderr, res.output
    assert "MISMATCH" in res.stdout
    res = runner.invoke(app, ["store", "copy", "mysql://u:secret@h/db", dst])
    assert res.exit_code == 2 and "source: store URL 'mysql://u:***@h/db'" in res.stderr and "secret" not in res.output
    res = runner.invoke(app, ["store", "copy", src, "postgresql://u:secret@127.0.0.1:1/db"])
    assert res.exit_code == 2 and "destination: store URL 'postgresql://u:***@127.0.0.1:1/db'" in res.stderr
    assert "cannot connect" in res.stderr and "secret" not in res.output
    res = runner.invoke(app, ["store", "copy", src, src])
    assert res.exit_code == 2 and "same store" in res.stderr


def _copy_process(src: str, dst: str, batch: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "truceline", "store", "copy", src, dst, "--batch", str(batch)]
    return subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_a_copy_killed_with_sigkill_resumes_to_a_verified_copy(
    tmp_path: Path, new_store_url: Callable[[str], str]
) -> None:
    src, dst = _sqlite_source(tmp_path, n_obs=40, n_det=15_000), new_store_url("dst")
    total = 30_000
    seen, kills, finished = 0, 0, False
    for _ in range(3):  # killed as soon as it has committed more detections, three times over
        proc = _copy_process(src, dst, 100)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            n = _read(dst, lambda s: s.count("detection"))
            if seen < n < total:
                proc.send_signal(signal.SIGKILL)
                kills, seen = kills + 1, n
                break
            time.sleep(0.02)
        finished = proc.wait(timeout=60) == 0
        if finished:
            break
    assert kills >= 1
    if not finished:
        assert _read(dst, lambda s: s.last_seq()) == 0  # an interrupted copy: its counter is set last
    res = CliRunner().invoke(app, ["store", "copy", src, dst])
    assert res.exit_code == 0, res.output
    assert "(resumed)" in res.stderr and "MISMATCH" not in res.stdout
    assert _read(dst, lambda s: s.count("detection")) == total
    assert _read(dst, snapshot) == _read(src, snapshot)
    s, d = open_store(src), open_store(dst)
    try:
        assert all(p.ok for p in verify(s, d))
    finally:
        s.close()
        d.close()


def test_the_copy_takes_the_server_s_keys_so_tokens_and_public_ids_hold(
    tmp_path: Path, new_store_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tokens are kept as keyed hashes and public ids are keyed: a copy without the keys would lose them."""
    from truceline.service import keys
    from truceline.service.redaction import public_ids
    from truceline.service.tokens import authenticate, create_token

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # where a server store's keys go
    monkeypatch.delenv("TRUCELINE_SECRETS_DIR", raising=False)
    src = _sqlite_source(tmp_path)
    token = _read(src, lambda s: create_token(s, "analyst", "a.analyst")[0])
    pid = _read(src, lambda s: public_ids(s)("v-1"))
    dst = new_store_url("dst")
    res = CliRunner().invoke(app, ["store", "copy", src, dst])
    assert res.exit_code == 0 and "keys carried: token, public-id" in res.stderr, res.output
    monkeypatch.setattr(keys, "_KEYS", {})  # a new process serving the copy
    who = _read(dst, lambda s: authenticate(s, token))
    assert who is not None and who.name == "a.analyst"
    assert _read(dst, lambda s: public_ids(s)("v-1")) == pid
    # A destination that made keys of its own is not silently given others.
    home = keys.key_home_of_url(dst)
    assert home is not None
    (tmp_path / "fourth").mkdir()
    keys.key_file(tmp_path / "fourth", "token").parent.mkdir(mode=0o700)
    keys.key_file(tmp_path / "fourth", "token").write_bytes(b"x" * keys.KEY_BYTES)
    res = CliRunner().invoke(app, ["store", "copy", src, str(tmp_path / "fourth")])
    assert res.exit_code == 1 and "another token key" in res.stderr, res.output
