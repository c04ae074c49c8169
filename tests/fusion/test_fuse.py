"""Fusion end to end on hand-built cases with known answers (toy theatre, tests/fusion/synth.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from tests.fusion.synth import T_START, lon_at, network, write_case
from truceline.core import Event, Incident, parse_record
from truceline.fusion.associate import Associator, associate
from truceline.fusion.inputs import load_inputs
from truceline.fusion.run import fuse
from truceline.io.detections import DetectionFileError
from truceline.io.jsonl import read_objects

GEOD = Geod(ellps="WGS84")


def _events(out: Path) -> list[Event]:
    return [parse_record(Event, o) for _, o in read_objects(out / "events.jsonl")]


def _incidents(out: Path) -> list[Incident]:
    return [parse_record(Incident, o) for _, o in read_objects(out / "incidents.jsonl")]


def _err_m(ev: Event, lon: float, lat: float) -> float:
    return float(GEOD.inv(ev.position.lon_deg, ev.position.lat_deg, lon, lat)[2])


def _t(ev: Event) -> float:
    return (ev.origin_time - T_START).total_seconds()


def _run(tmp_path: Path, make_agreement, sources, **kw) -> tuple[list[Event], dict[str, str], Path]:
    sensors = kw.pop("sensors", None) or network()
    labels = write_case(tmp_path / "in", sensors, sources, **kw)
    out = tmp_path / "out"
    fuse(tmp_path / "in", out, agreement=make_agreement())
    return _events(out), labels, out


def test_one_source_located_timed_and_attributed(tmp_path, make_agreement):
    lon, lat = lon_at(-12.0), 48.0  # UA side, 4 km behind the western row
    events, _, _ = _run(tmp_path, make_agreement, [(lon, lat, 100.0, "launch")])
    assert len(events) == 1
    ev = events[0]
    assert _err_m(ev, lon, lat) < 60.0
    assert abs(_t(ev) - 100.0) < 0.05
    assert ev.kind.value == "launch"
    assert ev.attribution.party is not None and ev.attribution.party.value == "UA"
    assert ev.attribution.probability >= 0.99
    # The truth lies inside the stated 95% ellipse (a 2-D chi-square of 5.99).
    cov = ev.location_uncertainty.covariance_en_m2()
    az, _, d = GEOD.inv(ev.position.lon_deg, ev.position.lat_deg, lon, lat)
    off = d * np.array([np.sin(np.radians(az)), np.cos(np.radians(az))])
    assert off @ np.linalg.solve(cov, off) < 5.99 * 2  # loose: one draw of a 95% region


def test_salvo_of_ten_within_five_seconds(tmp_path, make_agreement):
    # Ten rounds from ten firing positions in 5 s: every sensor hears them interleaved.
    rng = np.random.default_rng(4)
    pos = [
        (lon_at(float(x)), float(la))
        for x, la in zip(rng.uniform(-20, 20, 10), rng.uniform(47.8, 48.2, 10), strict=True)
    ]
    sources = [(lon, lat, 200.0 + 0.5 * i, "launch") for i, (lon, lat) in enumerate(pos)]
    events, labels, _ = _run(tmp_path, make_agreement, sources)
    assert len(events) == 10
    for ev in events:
        members = {labels[d] for d in ev.detection_ids}
        assert len(members) == 1  # no arrival of one round in another's event
        k = int(members.pop())
        assert _err_m(ev, *pos[k]) < 100.0
        assert abs(_t(ev) - sources[k][2]) < 0.1


def test_ripple_of_ten_from_one_launcher(tmp_path, make_agreement):
    # An MLRS ripple: ten rounds 0.5 s apart from one place; every sensor hears a regular train.
    lon, lat = lon_at(-15.0), 48.05
    sources = [(lon, lat, 200.0 + 0.5 * i, "launch") for i in range(10)]
    events, labels, _ = _run(tmp_path, make_agreement, sources)
    assert len(events) == 10
    for ev in events:
        members = {labels[d] for d in ev.detection_ids}
        assert len(members) == 1
        k = int(members.pop())
        assert abs(_t(ev) - sources[k][2]) < 0.05
        assert _err_m(ev, lon, lat) < 60.0


def test_false_detections_alone_make_no_event(tmp_path, make_agreement):
    events, _, _ = _run(tmp_path, make_agreement, [], false_per_sensor=10)
    assert events == []


def test_one_false_per_true_detection_keeps_the_event_clean(tmp_path, make_agreement):
    lon, lat = lon_at(6.0), 47.9  # RU side, between the rows
    events, labels, _ = _run(tmp_path, make_agreement, [(lon, lat, 300.0, "impact")], false_per_sensor=1)
    assert len(events) == 1
    assert _err_m(events[0], lon, lat) < 60.0
    assert sum(labels[d] == "" for d in events[0].detection_ids) <= 1
    assert events[0].attribution.party.value == "RU"


def test_outlier_detection_is_left_out(tmp_path, make_agreement):
    lon, lat = lon_at(-3.0), 48.1
    sensors = network()
    bad = sensors[3][0]
    events, _, _ = _run(tmp_path, make_agreement, [(lon, lat, 50.0, "impact")], shift={(0, bad): 1.5})
    assert len(events) == 1
    ev = events[0]
    assert bad not in ev.sensor_ids
    assert _err_m(ev, lon, lat) < 60.0


def test_clock_offset_sensor_does_not_bias_locations(tmp_path, make_agreement):
    sensors = network()
    faulty = sensors[5][0]
    sources = [(lon_at(x), 47.75 + 0.1 * i, 100.0 + 90 * i, "launch") for i, x in enumerate((-12, -4, 4, 12, -20))]
    events, _, _ = _run(tmp_path, make_agreement, sources, sensors=sensors, clock_s={faulty: 1.0})
    assert len(events) == 5
    for ev in events:
        assert faulty not in ev.sensor_ids
        k = round((_t(ev) - 100.0) / 90)
        assert _err_m(ev, sources[k][0], sources[k][1]) < 80.0


def test_mirror_ambiguous_source_stays_unattributed(tmp_path, make_agreement):
    # One row of sensors on the line itself: a source east of it and its mirror west of it
    # give the same arrival times, so the side cannot be told.
    sensors = network(offsets_km=(0.0,), spacing_km=4.0)
    lon, lat = lon_at(6.0), 48.0
    events, _, _ = _run(tmp_path, make_agreement, [(lon, lat, 100.0, "impact")], sensors=sensors)
    assert len(events) == 1
    ev = events[0]
    mirror = 35.0 - (lon - 35.0)
    assert min(_err_m(ev, lon, lat), _err_m(ev, mirror, lat)) < 150.0
    assert ev.attribution.party is None
    # The same source seen by two rows is attributed.
    events2, _, _ = _run(tmp_path / "two", make_agreement, [(lon, lat, 100.0, "impact")])
    assert events2[0].attribution.party.value == "RU"


def test_launch_and_impact_paired_by_time_of_flight(tmp_path, make_agreement):
    launch = (lon_at(-10.0), 48.0)
    impact = (lon_at(2.0), 48.02)
    _, _, d = GEOD.inv(*launch, *impact)
    tof = d / 330.0  # a 122 mm howitzer's mean speed
    sources = [(*launch, 100.0, "launch"), (*impact, 100.0 + tof, "impact")]
    events, _, out = _run(tmp_path, make_agreement, sources)
    assert len(events) == 2
    incidents = [i for i in _incidents(out) if i.launch_event_id and i.impact_event_id]
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc.weapon_class.value == "artillery_ge_100mm"
    assert inc.attribution.party is not None and inc.attribution.party.value == "UA"
    summary = json.loads((out / "fusion.json").read_text())
    assert summary["counts"]["paired"] == 1


def test_batch_and_stream_give_the_same_events(tmp_path):
    rng = np.random.default_rng(7)
    sources = [
        (lon_at(float(rng.uniform(-20, 20))), float(rng.uniform(47.7, 48.3)), float(t), "launch")
        for t in np.sort(rng.uniform(0, 900, 40))
    ]
    write_case(tmp_path, network(), sources, false_per_sensor=15, seed=3)
    inp = load_inputs(tmp_path)
    batch = associate(inp.sensors, inp.weather, inp.det_sensor, inp.det_t, inp.detections.time_sigma_s)
    order = np.argsort(inp.det_t, kind="stable")
    stream = Associator(inp.sensors, inp.weather)
    t = inp.det_t[order]
    for now in np.arange(2.0, t.max() + 4.0, 2.0):
        sel = (t > now - 2.0) & (t <= now)
        stream.push(inp.det_sensor[order][sel], t[sel], inp.detections.time_sigma_s[order][sel])
        stream.advance(now)
    stream.finish()
    got = sorted(tuple(sorted(order[e.members].tolist())) for e in stream.events())
    want = sorted(tuple(sorted(e.members.tolist())) for e in batch)
    assert len(want) >= 35
    assert got == want


def test_streaming_refuses_detections_from_the_past(tmp_path):
    write_case(tmp_path, network(), [(lon_at(0.0), 48.0, 10.0, "launch")])
    inp = load_inputs(tmp_path)
    a = Associator(inp.sensors, inp.weather)
    a.advance(500.0)
    with pytest.raises(ValueError, match="after the time already processed"):
        a.push(inp.det_sensor[:1], np.array([400.0]), np.array([0.05]))


def test_unknown_sensor_is_named(tmp_path):
    write_case(tmp_path, network(), [(lon_at(0.0), 48.0, 10.0, "launch")])
    det = tmp_path / "observations" / "detections.csv"
    lines = det.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[1], "NOPE", 1)
    det.write_text("\n".join(lines) + "\n")
    with pytest.raises(DetectionFileError, match=r"detections.csv:4: sensor_id: 'NOPE' — unknown sensor"):
        load_inputs(tmp_path)


def test_cli_fuse_then_score(tmp_path, make_agreement):
    from typer.testing import CliRunner

    from truceline.cli import app

    write_case(tmp_path / "in", network(), [(lon_at(-10.0), 48.0, 100.0, "launch")])
    agreement = make_agreement()
    runner = CliRunner()
    res = runner.invoke(
        app, ["fuse", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--agreement", str(agreement)]
    )
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and "1 events" in res.output
    assert len(_events(tmp_path / "out")) == 1
    bad = runner.invoke(app, ["fuse", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 2  # not found (README, "Exit codes")
    assert "missing: no such file or folder" in bad.output
