"""Every scenario of the catalogue: simulated, checked for what it is meant to test, and scored."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from truceline.agreement import load_agreement
from truceline.cli import app
from truceline.sim.oracle import write_oracle

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("catalogue")
    out = {}
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        result = runner.invoke(app, ["simulate", str(path), "--out", str(base / path.stem)])
        assert result.exit_code == 0, result.output
        out[path.stem] = base / path.stem
    return out


def _score(run: Path, result: Path) -> dict:
    r = runner.invoke(app, ["score", "--truth", str(run), "--result", str(result), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_the_oracle_scores_perfectly_on_every_scenario(runs, tmp_path):
    for name, run in runs.items():
        write_oracle(run, tmp_path / name)
        card = _score(run, tmp_path / name)
        assert card["events"]["precision"] == 1.0, name
        assert card["events"]["recall_detectable"] == 1.0, name
        assert card["side_of_line"]["wrong_party_rate"] in (0.0, None), name
        assert card["claims"]["false_flags_corroborated"] == 0, name
        if card["claims"]["n_truth"]:
            assert card["claims"]["accuracy"] == 1.0, name


def test_a_shifted_and_side_swapped_result_is_punished(runs, tmp_path):
    run = runs["steady"]
    write_oracle(run, tmp_path / "bad", sigma_m=50.0, shift_east_m=1000.0, swap_sides=10)
    card = _score(run, tmp_path / "bad")
    ev, side = card["events"], card["side_of_line"]
    assert abs(ev["location_error_median_m"] - 1000.0) < 5.0
    assert ev["ellipse_coverage"] == 0.0
    assert side["n_wrong_party"] == 10
    narrow = runner.invoke(
        app, ["score", "--truth", str(run), "--result", str(tmp_path / "bad"), "--json", "--event-distance-km", "0.5"]
    )
    # Within 0.5 km only coincidences remain (a shifted rocket landing near another of its salvo).
    ev_narrow = json.loads(narrow.output)["events"]
    assert ev_narrow["matched"] < 0.03 * ev_narrow["n_result"]


def test_quiet_day_is_quiet(runs):
    assert len(_jsonl(runs["quiet"] / "truth" / "incidents.jsonl")) < 150


def test_escalation_brings_salvos_in_the_evening(runs):
    incidents = _jsonl(runs["escalation"] / "truth" / "incidents.jsonl")
    events = {e["id"]: e for e in _jsonl(runs["escalation"] / "truth" / "events.jsonl")}
    start = dt.datetime.fromisoformat("2026-09-02T00:00:00+03:00")
    hours = np.array(
        [
            (dt.datetime.fromisoformat(events[i["launch_event_id"]]["time"]) - start).total_seconds() / 3600
            for i in incidents
        ]
    )
    in_window = ((hours >= 16) & (hours < 22)).sum() / 6
    outside = ((hours < 16) | (hours >= 22)).sum() / 18
    assert in_window > 3 * outside
    salvo_sizes = Counter(i["salvo_id"] for i in incidents if i["weapon"] == "mlrs_122mm")
    assert max(salvo_sizes.values()) >= 30


def test_single_row_sits_on_the_line(runs):
    run = runs["single_row"]
    a = load_agreement(run / "agreement")
    sensors = _jsonl(run / "observations" / "sensors.jsonl")
    lon = [s["position"]["lon_deg"] for s in sensors]
    lat = [s["position"]["lat_deg"] for s in sensors]
    r = a.query(lon, lat, dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC))
    assert np.all(r.sides.distance_km < 0.01)


def test_sensor_outage_is_reported_and_blinds_claims(runs):
    run = runs["sensor_outage"]
    families = Counter(v["family"] for v in _jsonl(run / "truth" / "violations.jsonl"))
    assert families["monitoring_interference"] > 10
    truths = Counter(c["truth"] for c in _jsonl(run / "truth" / "claims.jsonl"))
    assert truths["blind_spot"] >= 1


def test_false_flag_claims_are_never_expected_corroborated(runs):
    claims = _jsonl(runs["false_flag"] / "truth" / "claims.jsonl")
    flags = [c for c in claims if c["truth"] == "false_flag"]
    assert flags
    assert all(c["expected_verdict"] == "contradicted" and c["accused_party"] != c["actual_party"] for c in flags)


def test_line_moved_has_two_versions(runs):
    a = load_agreement(runs["line_moved"] / "agreement")
    assert [v.valid_from.hour for v in a.versions][-1] == 9  # 12:00 at +03:00


def test_bad_weather_is_cold_and_windy(runs):
    wx = _jsonl(runs["bad_weather"] / "observations" / "weather.jsonl")
    temps = np.array([w["temperature_c"] for w in wx])
    winds = np.hypot([w["wind_u_ms"] for w in wx], [w["wind_v_ms"] for w in wx])
    assert -20 < temps.mean() < -10
    assert 11 < np.median(winds) < 19
