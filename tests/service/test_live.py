"""Live operations (issue 15 item 2): the live loop processes what arrives and ends where a batch run over
everything ends; its status (lag, errors) reaches GET /api/v1/health for the mission only; GET
/api/v1/stream pushes a `changes` event when new data lands."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.scenarios import one_sector_day
from truceline.agreement import load_agreement
from truceline.api import create_app
from truceline.api.middleware import ServerSettings
from truceline.service.ingest import ingest_files
from truceline.service.live import STATUS_FILE, LiveProcessor, read_status
from truceline.service.process import process
from truceline.service.tokens import create_token
from truceline.sim.run import simulate
from truceline.sim.scenario import parse_scenario
from truceline.store import SQLiteStore, Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim_day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two simulated hours; the detections cut at 1 h 30 min (mid-window) into what came first and later."""
    root = tmp_path_factory.mktemp("live")
    simulate(parse_scenario(one_sector_day("live", 2)), root / "sim")
    obs = root / "sim" / "observations"
    with (obs / "detections.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    col = header.index("arrival_time")
    cut = min(dt.datetime.fromisoformat(r[col]) for r in body) + dt.timedelta(minutes=90)
    parts = {"early": [r for r in body if dt.datetime.fromisoformat(r[col]) < cut]}
    parts["late"] = [r for r in body if dt.datetime.fromisoformat(r[col]) >= cut]
    out = {"sim": root / "sim", "agreement": root / "sim" / "agreement"}
    for name, part in parts.items():
        assert part, name
        (root / name).mkdir()
        with (root / name / "detections.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows([header, *part])
        out[name] = root / name / "detections.csv"
    out["rest"] = root / "rest"
    out["rest"].mkdir()
    for p in obs.iterdir():
        if p.name != "detections.csv":
            (out["rest"] / p.name).write_bytes(p.read_bytes())
    return out


def _incidents(store: Store) -> list[tuple[str, str]]:
    return sorted((d.record.window.start.isoformat(), str(d.record.weapon_class)) for d in store.derived("incident"))  # type: ignore[attr-defined]


def test_the_live_loop_follows_the_data_and_ends_where_a_batch_run_ends(
    sim_day: dict[str, Path], tmp_path: Path
) -> None:
    agr = load_agreement(sim_day["agreement"])
    data = tmp_path / "live"
    store = SQLiteStore(data)
    assert ingest_files(store, [sim_day["rest"], sim_day["early"]]).ok
    store.close()
    loop = LiveProcessor(data, agr, interval_s=1)
    first = loop.run_once()
    assert first.error is None and first.windows_processed >= 1 and first.processed_until is not None
    assert first.lag_s is not None and first.lag_s > 0
    status = read_status(data)
    assert status is not None and status["processed_until"] == first.processed_until and status["runs"] == 1
    until_early, done_early = first.processed_until, first.windows_processed  # the status object is updated in place
    store = SQLiteStore(data)
    assert ingest_files(store, [sim_day["late"]]).ok
    store.close()
    second = loop.run_once()
    assert second.error is None and second.windows_processed > done_early
    assert second.processed_until is not None and second.processed_until >= until_early
    assert loop.run_once().windows_processed == second.windows_processed  # nothing new: nothing processed

    batch = SQLiteStore(tmp_path / "batch")
    assert ingest_files(batch, [sim_day["rest"], sim_day["early"], sim_day["late"]]).ok
    process(batch, agr)
    live = SQLiteStore(data)
    try:
        assert _incidents(live) == _incidents(batch) and _incidents(batch)
    finally:
        live.close()
        batch.close()


def test_a_failing_run_is_recorded_and_the_loop_goes_on(sim_day: dict[str, Path], tmp_path: Path) -> None:
    agr = load_agreement(sim_day["agreement"])
    data = tmp_path / "data"
    SQLiteStore(data).close()
    loop = LiveProcessor(data, agr, interval_s=1)
    (data / "truceline.sqlite").write_bytes(b"not a database")  # the store breaks under the loop
    st = loop.run_once()
    assert st.error and st.runs == 1
    assert json.loads((data / STATUS_FILE).read_text())["error"] == st.error
    assert loop.run_once().runs == 2  # the loop outlives the failure
    with pytest.raises(ValueError, match="interval"):
        LiveProcessor(data, agr, interval_s=0)


@pytest.fixture
def served(sim_day: dict[str, Path], tmp_path: Path) -> dict[str, object]:
    data = tmp_path / "data"
    store = SQLiteStore(data)
    assert ingest_files(store, [sim_day["rest"], sim_day["early"]]).ok
    token, _ = create_token(store, "analyst", "anna.analyst")
    store.close()
    agr = load_agreement(sim_day["agreement"])
    LiveProcessor(data, agr, interval_s=1).run_once()
    app = create_app(data, agr, settings=ServerSettings(stream_poll_s=0.05, stream_max_s=3.0))
    return {"data": data, "app": app, "token": token}


def test_health_gives_the_lag_to_the_mission_only(served: dict[str, object]) -> None:
    with TestClient(served["app"]) as c:  # type: ignore[arg-type]
        public = c.get("/api/v1/health")
        assert public.status_code == 200 and set(public.json()) == {"status", "time"}
        doc = c.get("/api/v1/health", headers={"Authorization": f"Bearer {served['token']}"}).json()
    p = doc["processing"]
    assert doc["status"] == "ok" and p["processed_until"] and p["lag_s"] > 0
    assert p["live"]["runs"] == 1 and p["live"]["error"] is None


def test_the_stream_pushes_a_change_when_data_lands(served: dict[str, object], sim_day: dict[str, Path]) -> None:
    events: list[dict[str, object]] = []
    with TestClient(served["app"]) as c:  # type: ignore[arg-type]
        seq0 = c.get("/api/v1/changes").json()["seq"]
        with c.stream("GET", "/api/v1/stream") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            lines = r.iter_lines()
            assert next(lines) == "retry: 3000"
            kind = None
            for line in lines:
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "changes":
                    events.append(json.loads(line[6:]))
                    if len(events) == 1:  # the first tells the current state; now new data arrives
                        store = SQLiteStore(served["data"])  # type: ignore[arg-type]
                        assert ingest_files(store, [sim_day["late"]]).ok
                        store.close()
                    else:
                        break
    assert events[0] == {"seq": seq0}
    assert len(events) == 2 and int(events[1]["seq"]) > seq0  # type: ignore[call-overload]
