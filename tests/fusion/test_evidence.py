"""Quiet sources reported on the weight of evidence; coincidences of far arrivals are not.

The toy network (tests/fusion/synth.py): two staggered rows 16 km apart, sensors 5 km apart along
each. Loud rounds (heard to 40 km) teach the run its detection curve; a quiet round is heard only
within 12 km.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pyproj import Geod
from scipy.special import ndtr

from tests.fusion.synth import T_START, lon_at, network, write_case
from truceline.core import Event, SensorHealth, SensorStatusReport, parse_record
from truceline.core.noise import DEGRADED_PENALTY_DB, path_loss_db
from truceline.fusion.associate import AssocEvent
from truceline.fusion.evidence import EvidenceParams, source_evidence
from truceline.fusion.inputs import health_table, load_inputs
from truceline.fusion.lookups import SensorTimes
from truceline.fusion.loudness import LoudnessParams, fit_law, marginal_log_lik
from truceline.fusion.refine import refine
from truceline.fusion.run import fuse
from truceline.io.jsonl import read_objects, write_records

GEOD = Geod(ellps="WGS84")
ROW_LAT = 47.6 + 8 * 5.0 / 111.32  # the latitude of the west row's ninth sensor, S0-08
QUIET = (lon_at(-14.0), ROW_LAT, 2130.0, "impact")  # 6 km west of the west row, between loud rounds


def _loud(n: int = 14) -> list[tuple[float, float, float, str]]:
    rng = np.random.default_rng(3)
    return [
        (lon_at(float(rng.uniform(-14, 14))), float(rng.uniform(47.75, 48.25)), 100.0 + 270.0 * i, "launch")
        for i in range(n)
    ]


def _quiet_events(tmp_path, make_agreement, **kw) -> list[Event]:
    sources = [*_loud(), QUIET]
    # A quiet night: one false detection per sensor in the hour and a quarter.
    write_case(tmp_path / "in", network(), sources, false_per_sensor=1, ranges_km=[40.0] * 14 + [12.0], **kw)
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


def _quiet_odds(root, status=(), **kw) -> float:
    """The source test's log odds of the quiet round, its detections taken as one event (the loud
    rounds as the others), with ``status`` reports written beside the observations."""
    sources = [*_loud(), QUIET]
    labels = write_case(root / "in", network(), sources, false_per_sensor=1, ranges_km=[40.0] * 14 + [12.0], **kw)
    if status:
        write_records(root / "in" / "observations" / "sensor_status.jsonl", list(status))
    inp = load_inputs(root / "in")
    events = []
    for k, (lon, lat, t0, _) in enumerate(sources):
        idx = np.array([i for i, d in enumerate(inp.detections.ids) if labels[str(d)] == str(k)])
        x, y = inp.proj.forward(lon, lat)
        events.append(AssocEvent(idx, float(x), float(y), t0, 0.0, 0.0, 1.0, int(idx[0])))
    ev = source_evidence(inp, refine(inp, events), quiet=np.array([False] * 14 + [True]))
    return float(ev.log_odds[14])


def test_a_working_sensor_that_missed_the_round_counts_against_it_unless_reported_out(tmp_path):
    """Four sensors hear the quiet round (S0-06 and S0-10 at 11.7 km, S0-07 and S0-08 nearer); S0-09,
    7.8 km away, works (it hears the loud rounds) but not this one: strong evidence against the
    round. The same data with S0-09 reported jammed for that hour: not evidence, the round stands."""
    live = _quiet_odds(tmp_path / "live", missed=frozenset({(14, "S0-09")}))
    jam = [SensorStatusReport(id="st-1", sensor_id="S0-09", time=T_START + dt.timedelta(seconds=1800),
                              health=SensorHealth.JAMMED, reason="broadband noise"),
           SensorStatusReport(id="st-2", sensor_id="S0-09", time=T_START + dt.timedelta(seconds=2400),
                              health=SensorHealth.OK)]  # fmt: skip
    jammed = _quiet_odds(tmp_path / "jammed", status=jam, missed=frozenset({(14, "S0-09")}))
    assert live < jammed - 1.0, (live, jammed)
    assert jammed >= EvidenceParams().accept_log_odds
    # Reported jammed only after the round: the miss counts again.
    late = [SensorStatusReport(id="st-3", sensor_id="S0-09", time=T_START + dt.timedelta(seconds=3000),
                               health=SensorHealth.JAMMED, reason="broadband noise")]  # fmt: skip
    assert _quiet_odds(tmp_path / "late", status=late, missed=frozenset({(14, "S0-09")})) == pytest.approx(live)


def _evidence_of(tmp_path, quiet_source, heard_by):
    """Source test of one event made of the detections of ``quiet_source`` (the 15th source)."""
    sources = [*_loud(), quiet_source]
    labels = write_case(tmp_path / "in", network(), sources, false_per_sensor=1, ranges_km=[40.0] * 14 + [16.0],
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
    # The same place heard by its four nearest sensors only (S0-07 and S0-09 are equally near, one
    # heard): a quiet round, kept.
    near = {"S0-07", "S0-08", "S1-07", "S1-08"}
    ok = _evidence_of(tmp_path / "near", (lon_at(0.0), ROW_LAT, 2000.0, "impact"), near)
    assert ok.heard[14] == 4 and ok.accept[14] and ok.log_odds[14] > ev.log_odds[14] + 10
    assert ev.accept[:14].all()  # the loud rounds stand whatever their odds


def test_sensor_time_lookups_agree_with_brute_force(tmp_path):
    # The last sensors (in id order) and one in the middle heard nothing: lookups there say "none".
    write_case(tmp_path / "in", network(), _loud(6), false_per_sensor=20, silent=frozenset({"S1-16", "S1-17", "S0-03"}))
    inp = load_inputs(tmp_path / "in")
    times = SensorTimes(inp.det_sensor, inp.det_t, len(inp.sensors))
    rng = np.random.default_rng(0)
    sensor = rng.integers(0, len(inp.sensors), 300)
    t = rng.uniform(inp.det_t.min() - 100, inp.det_t.max() + 100, 300)
    gap = times.nearest_gap(sensor, t)
    count = times.count_within(sensor, t, 40.0)
    for s, q, g, c in zip(sensor, t, gap, count, strict=True):
        mine = inp.det_t[inp.det_sensor == s]
        assert g == pytest.approx(np.abs(mine - q).min() if mine.size else np.inf)
        assert c == int((np.abs(mine - q) <= 40.0).sum())


def _pairs_of(rng, margins, sigma, p_max, n_sensors=60):
    """Hits and misses of sources of the given margins at sensors 1-60 km away, drawn from the law."""
    ev, dist, heard = [], [], []
    for i, m in enumerate(margins):
        d = rng.uniform(1000.0, 60_000.0, n_sensors)
        p = p_max * ndtr((m - path_loss_db(d)) / sigma)
        ev.append(np.full(n_sensors, i))
        dist.append(d)
        heard.append(rng.random(n_sensors) < p)
    return np.concatenate(ev), np.concatenate(dist), np.concatenate(heard)


def test_the_detection_law_is_learnt_from_the_run():
    rng = np.random.default_rng(4)
    ev, dist, heard = _pairs_of(rng, rng.uniform(80.0, 100.0, 300), sigma=3.0, p_max=0.9)
    law = fit_law(ev, dist, heard, np.ones(300, bool), 300)
    assert law.sigma_db == pytest.approx(3.0, abs=1.0) and law.p_max == pytest.approx(0.9, abs=0.07)
    # The prior over margins sits where the training sources were.
    top = law.margins_db[np.argsort(law.log_prior)[-5:]]
    assert np.all((top >= 76.0) & (top <= 104.0))
    # No training events: a broad law, not an error.
    bare = fit_law(ev[:0], dist[:0], heard[:0], np.zeros(0, bool), 0)
    assert np.allclose(np.exp(bare.log_prior).sum(), 1.0)


def test_heard_near_and_missed_far_is_likelier_than_the_reverse():
    law = fit_law(*_pairs_of(np.random.default_rng(5), np.full(200, 90.0), sigma=3.0, p_max=0.95),
                  np.ones(200, bool), 200)  # fmt: skip
    dist = np.array([5000.0, 6000.0, 7000.0, 8000.0, 20_000.0, 21_000.0, 22_000.0, 23_000.0])
    near = np.array([True] * 4 + [False] * 4)
    ll = marginal_log_lik(law, np.zeros(16, np.int64) + np.repeat([0, 1], 8), np.r_[dist, dist],
                          np.r_[near, ~near], 2, LoudnessParams())  # fmt: skip
    assert ll[0] > ll[1] + 5  # each near miss costs log(1 - p_max) ~ 3


def test_a_degraded_sensor_s_miss_weighs_less_than_a_healthy_one_s_and_more_than_a_jammed_one_s(tmp_path):
    """S0-09 (7.8 km from the quiet round) misses it. Reported degraded for that hour, its threshold is
    DEGRADED_PENALTY_DB higher (as coverage has it): 10 dB is a third of the range, and a round heard to
    about 12 km is one it would hardly hear; its miss is much weaker evidence than a healthy sensor's,
    but evidence still, unlike a jammed sensor's (nothing)."""
    missed = frozenset({(14, "S0-09")})
    live = _quiet_odds(tmp_path / "live", missed=missed)

    def reported(health, folder):
        status = [SensorStatusReport(id="st-1", sensor_id="S0-09", time=T_START + dt.timedelta(seconds=1800),
                                     health=health, reason="reported"),
                  SensorStatusReport(id="st-2", sensor_id="S0-09", time=T_START + dt.timedelta(seconds=2400),
                                     health=SensorHealth.OK)]  # fmt: skip
        return _quiet_odds(tmp_path / folder, status=status, missed=missed)

    degraded, jammed = reported(SensorHealth.DEGRADED, "degraded"), reported(SensorHealth.JAMMED, "jammed")
    assert live < degraded - 1.0 and degraded < jammed, (live, degraded, jammed)


def test_the_health_table_gives_the_penalty_of_the_last_report_and_the_worse_of_two_at_once():
    t = T_START
    reports = [
        ("a", "S1", 100, SensorHealth.DEGRADED),
        ("b", "S1", 200, SensorHealth.OK),
        ("c", "S1", 200, SensorHealth.DEGRADED),
        ("d", "S2", 50, SensorHealth.OUTAGE),
    ]
    reports = [SensorStatusReport(id=i, sensor_id=s, time=t + dt.timedelta(seconds=sec), health=h,
                                  reason="" if h == SensorHealth.OK else "reported")
               for i, s, sec, h in reports]  # fmt: skip
    table = health_table(reports, ["S0", "S1", "S2"], t)
    sensor = np.array([0, 1, 1, 1, 2, 2])
    when = np.array([150.0, 50.0, 150.0, 250.0, 10.0, 60.0])
    np.testing.assert_array_equal(table.penalty_at(sensor, when), [0.0, 0.0, DEGRADED_PENALTY_DB, DEGRADED_PENALTY_DB,
                                                                    0.0, 0.0])  # fmt: skip
    np.testing.assert_array_equal(table.working_at(sensor, when), [True, True, True, True, True, False])
