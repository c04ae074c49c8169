"""Launch-impact pairing: only pairs the times of flight make unambiguous (fusion/pairing.py)."""

from __future__ import annotations

import numpy as np
from pyproj import Geod

from tests.fusion.synth import lon_at
from tests.fusion.test_fuse import _incidents, _run
from truceline.fusion.pairing import pair_events

GEOD = Geod(ellps="WGS84")
V_122 = 330.0  # a 122 mm howitzer's mean horizontal speed, m/s (pairing.BALLISTICS)
V_152 = 380.0  # a 152 mm howitzer's


def _tof(a: tuple[float, float], b: tuple[float, float], speed: float = V_122) -> float:
    return float(GEOD.inv(*a, *b)[2]) / speed


def _arrays(points: list[tuple[float, float, float, str]]):
    """Event arrays (x, y in metres east/north of the first point) of ``(km east, km north, t, kind)``."""
    x = np.array([p[0] * 1000.0 for p in points])
    y = np.array([p[1] * 1000.0 for p in points])
    t = np.array([p[2] for p in points])
    kind = np.array([p[3] for p in points])
    cov = np.tile(np.eye(2) * 30.0**2, (len(points), 1, 1))
    return kind == "launch", kind == "impact", t, x, y, cov, np.full(len(points), 0.05)


def test_two_rounds_paired_only_the_physical_way(tmp_path, make_agreement):
    # Two launches 5 s apart and two impacts: L1 -> I1 (12 km, 122 mm) and L2 -> I2 (18 km, 152 mm);
    # crosswise, L1 -> I2 would need 26 km at ~500 m/s and L2 -> I1 17.6 km at ~560 m/s, which no
    # family of the table flies.
    l1, l2 = (lon_at(-10.0), 48.0), (lon_at(-8.0), 48.15)
    i1, i2 = (lon_at(2.0), 48.02), (lon_at(10.0), 48.15)
    sources = [
        (*l1, 100.0, "launch"),
        (*l2, 105.0, "launch"),
        (*i1, 100.0 + _tof(l1, i1), "impact"),
        (*i2, 105.0 + _tof(l2, i2, V_152), "impact"),
    ]
    events, labels, out = _run(tmp_path, make_agreement, sources)
    assert len(events) == 4
    source_of = {}
    for ev in events:
        srcs = {labels[d] for d in ev.detection_ids} - {""}
        assert len(srcs) == 1
        source_of[ev.id] = int(srcs.pop())
    pairs = {
        (source_of[i.launch_event_id], source_of[i.impact_event_id])
        for i in _incidents(out)
        if i.launch_event_id and i.impact_event_id
    }
    assert pairs == {(0, 2), (1, 3)}


def test_impact_two_launches_could_have_fired_stays_unpaired(tmp_path, make_agreement):
    # Two launches 1 s apart, equally far (12 km) from one impact whose time of flight fits both.
    impact = (lon_at(2.0), 48.0)
    l1, l2 = (lon_at(-10.0), 47.93), (lon_at(-10.0), 48.07)
    assert abs(_tof(l1, impact) - _tof(l2, impact)) < 0.3
    sources = [(*l1, 100.0, "launch"), (*l2, 101.0, "launch"), (*impact, 100.5 + _tof(l1, impact), "impact")]
    events, _, out = _run(tmp_path, make_agreement, sources)
    assert sorted(e.kind.value for e in events) == ["impact", "launch", "launch"]
    incidents = _incidents(out)
    assert not [i for i in incidents if i.launch_event_id and i.impact_event_id]
    assert len(incidents) == 3


def test_lone_round_paired_and_salvo_left_unpaired():
    # One round alone: paired. Four rounds of a salvo, 0.5 s apart from one place at one target,
    # whose times of flight cannot tell them apart: none paired (no guess between them).
    lone = [(0.0, 0.0, 0.0, "launch"), (12.0, 0.0, 12000.0 / V_122, "impact")]
    p = pair_events(*_arrays(lone))
    assert p.launch.tolist() == [0] and p.impact.tolist() == [1]
    assert p.probability[0] >= 0.95
    salvo = [(0.0, 0.05 * k, 0.5 * k, "launch") for k in range(4)]
    salvo += [(12.0, 0.05 * k, 0.5 * k + 12000.0 / V_122, "impact") for k in range(4)]
    assert pair_events(*_arrays(salvo)).launch.size == 0


def test_impact_out_of_every_family_stays_unpaired():
    # 12 km in 10 s (1,200 m/s beyond the tank's 5.5 km range) fits no family.
    p = pair_events(*_arrays([(0.0, 0.0, 0.0, "launch"), (12.0, 0.0, 10.0, "impact")]))
    assert p.launch.size == 0
