"""Quiet sources reported on the weight of evidence; coincidences of far arrivals are not.

The toy network (tests/fusion/synth.py): two staggered rows 16 km apart, sensors 5 km apart along
each. Loud rounds (heard to 40 km) teach the run its detection curve; a quiet round is heard only
within 12 km.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from tests.fusion.synth import lon_at, network, write_case
from truceline.core import Event, parse_record
from truceline.fusion.associate import AssocEvent
from truceline.fusion.evidence import EvidenceParams, _SensorTimes, detection_curve, source_evidence
from truceline.fusion.inputs import load_inputs
from truceline.fusion.refine import refine
from truceline.fusion.run import fuse
from truceline.io.jsonl import read_objects

GEOD = Geod(ellps="WGS84")
ROW_LAT = 47.6 + 8 * 5.0 / 111.32  # the latitude of the west row's ninth sensor, S0-08
QUIET = (lon_at(-14.0), ROW_LAT, 2000.0, "impact")  # 6 km west of the west row


def _loud(n: int = 14) -> list[tuple[float, float, float, str]]:
    rng = np.random.default_rng(3)
    return [
        (lon_at(float(rng.uniform(-14, 14))), float(rng.uniform(47.75, 48.25)), 100.0 + 270.0 * i, "launch")
        for i in range(n)
    ]


def _quiet_events(tmp_path, make_agreement, **kw) -> list[Event]:
    sources = [*_loud(), QUIET]
    write_case(tmp_path / "in", network(), sources, false_per_sensor=3, ranges_km=[40.0] * 14 + [12.0], **kw)
    fuse(tmp_path / "in", tmp_path / "out", agreement=make_agreement())
    events = [parse_record(Event, o) for _, o in read_objects(tmp_path / "out" / "events.jsonl")]
    return [e for e in events if GEOD.inv(e.position.lon_deg, e.position.lat_deg, QUIET[0], QUIET[1])[2] < 1000]


def test_a_quiet_round_heard_by_four_beside_a_dead_sensor_is_reported(tmp_path, make_agreement):
    # Five sensors are within 12 km (S0-06 .. S0-10); S0-10 is dead all day: four hear the round.
    (ev,) = _quiet_events(tmp_path, make_agreement, silent=frozenset({"S0-10"}))
    assert len(ev.sensor_ids) == 4 and "S0-10" not in ev.sensor_ids
    assert abs((ev.origin_time - ev.origin_time.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
               - QUIET[2]) < 1.0  # fmt: skip
    assert ev.provenance.parameters["source_log_odds"] >= EvidenceParams().accept_log_odds


def test_a_working_sensor_that_missed_the_round_counts_against_it(tmp_path, make_agreement):
    """The same four arrivals, but S0-10 worked all day and did not hear this round: weaker evidence."""
    (dead,) = _quiet_events(tmp_path / "dead", make_agreement, silent=frozenset({"S0-10"}))
    live = _quiet_events(tmp_path / "live", make_agreement, missed=frozenset({(14, "S0-10")}))
    odds_dead = dead.provenance.parameters["source_log_odds"]
    assert all(e.provenance.parameters["source_log_odds"] < odds_dead for e in live)


def _evidence_of(tmp_path, quiet_source, heard_by):
    """Source test of one event made of the detections of ``quiet_source`` (the 15th source)."""
    sources = [*_loud(), quiet_source]
    labels = write_case(tmp_path / "in", network(), sources, false_per_sensor=3, ranges_km=[40.0] * 14 + [16.0],
                        missed=frozenset((14, s) for s, _, _ in network() if s not in heard_by))  # fmt: skip
    inp = load_inputs(tmp_path / "in")
    idx = {k: np.array([i for i, d in enumerate(inp.detections.ids) if labels[str(d)] == str(k)]) for k in range(15)}
    events = []
    for k in range(15):
        x, y = inp.proj.forward(sources[k][0], sources[k][1])
        events.append(AssocEvent(idx[k], float(x), float(y), sources[k][2], 0.0, 0.0, 1.0, int(idx[k][0])))
    ref = refine(inp, events)
    return source_evidence(inp, ref, quiet=np.array([False] * 14 + [True]))


def test_four_far_arrivals_where_the_near_sensors_heard_nothing_are_not_a_source(tmp_path):
    """Between the rows, 8 km from the nearest sensors: arrivals at four sensors 13-15 km away that fit
    one point exactly, while the seven sensors nearer to it (working, hearing the loud rounds) heard
    nothing. No loudness explains that pattern: a coincidence, not reported."""
    far = {"S0-06", "S0-10", "S1-05", "S1-10"}
    ev = _evidence_of(tmp_path / "far", (lon_at(0.0), ROW_LAT, 2000.0, "impact"), far)
    assert ev.heard[14] == 4 and ev.missed[14] >= 7
    assert not ev.accept[14] and ev.log_odds[14] < EvidenceParams().accept_log_odds
    # The same place heard by its four nearest sensors only: a quiet round, kept.
    near = {"S0-07", "S0-08", "S0-09", "S1-07"}
    ok = _evidence_of(tmp_path / "near", (lon_at(0.0), ROW_LAT, 2000.0, "impact"), near)
    assert ok.heard[14] == 4 and ok.accept[14] and ok.log_odds[14] > ev.log_odds[14] + 10
    assert ev.accept[:14].all()  # the loud rounds stand whatever their odds


def test_sensor_time_lookups_agree_with_brute_force(tmp_path):
    # The last sensors (in id order) and one in the middle heard nothing: lookups there say "none".
    write_case(tmp_path / "in", network(), _loud(6), false_per_sensor=20, silent=frozenset({"S1-16", "S1-17", "S0-03"}))
    inp = load_inputs(tmp_path / "in")
    times = _SensorTimes(inp)
    rng = np.random.default_rng(0)
    sensor = rng.integers(0, len(inp.sensors), 300)
    t = rng.uniform(inp.det_t.min() - 100, inp.det_t.max() + 100, 300)
    gap = times.nearest_gap(sensor, t)
    count = times.count_within(sensor, t, 40.0)
    for s, q, g, c in zip(sensor, t, gap, count, strict=True):
        mine = inp.det_t[inp.det_sensor == s]
        assert g == pytest.approx(np.abs(mine - q).min() if mine.size else np.inf)
        assert c == int((np.abs(mine - q) <= 40.0).sum())


def test_the_detection_curve_falls_with_distance_and_keeps_the_prior_where_no_data():
    prm = EvidenceParams()
    dist = np.r_[np.full(200, 2500.0), np.full(200, 30_500.0)]
    heard = np.r_[np.ones(150, bool), np.zeros(50, bool), np.ones(10, bool), np.zeros(190, bool)]
    curve = detection_curve(heard, dist, np.ones(400, bool), prm)
    assert np.all(np.diff(curve) <= 0)
    # Near, the data (150 of 200) pooled with the nearer bins that only have the prior: about 0.75.
    assert 0.74 < curve[2] < 0.78 and curve[30] < 0.1
    # No training data at all: the logistic prior, made non-increasing.
    bare = detection_curve(np.zeros(0, bool), np.zeros(0), np.zeros(0, bool), prm)
    assert bare[0] == pytest.approx(0.9 / (1 + np.exp((500 - 15000) / 3000)), rel=1e-3)
