"""A long run associated in parts of time (fusion/parts.py): same events as one stream, any core count."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.fusion.synth import lon_at, network, write_case
from truceline.fusion.associate import AssocEvent, AssocParams, associate
from truceline.fusion.inputs import load_inputs
from truceline.fusion.parts import associate_parts, cut, stitch


def test_the_cut_covers_the_span_in_equal_parts_whatever_the_cores() -> None:
    spans = cut(0.0, 86_400.0, 21_600.0)
    assert len(spans) == 4
    assert spans[0][0] == -math.inf and spans[-1][1] == math.inf
    assert [hi for _, hi in spans[:-1]] == [lo for lo, _ in spans[1:]] == [21_600.0, 43_200.0, 64_800.0]
    assert len(cut(0.0, 3_600.0, 21_600.0)) == 1
    assert len(cut(0.0, 21_601.0, 21_600.0)) == 2
    assert len(cut(0.0, 1e6, math.inf)) == 1


def _sources_near_seams() -> list[tuple[float, float, float, str]]:
    """Rounds every 100 s for an hour, several within a minute of the 600-s seams."""
    out = []
    for i, t in enumerate([30.0, 130.0, 290.0, 560.0, 598.0, 601.0, 640.0, 900.0, 1195.0, 1203.0, 1500.0, 1790.0]):
        out.append((lon_at(-30.0 + 5.0 * (i % 12)), 48.0 + (0.05 if i % 2 else -0.05), t, "launch"))
    return out


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parts")
    write_case(root, network(), _sources_near_seams(), false_per_sensor=6)
    return root / "observations"


def _key(events: list[AssocEvent]) -> set[tuple[int, ...]]:
    return {tuple(sorted(e.members.tolist())) for e in events}


def test_parts_find_the_events_one_stream_finds_across_the_seams(case: Path) -> None:
    inp = load_inputs(case)
    args = (inp.sensors, inp.weather, inp.det_sensor, inp.det_t, inp.detections.time_sigma_s)
    whole = associate(*args, AssocParams())
    params = replace(AssocParams(), part_s=600.0, part_overlap_s=400.0)
    assert len(cut(float(inp.det_t.min()), float(inp.det_t.max()), params.part_s)) >= 3
    parts = associate_parts(*args, params, workers=1)
    assert len(whole) >= len(_sources_near_seams())
    assert _key(parts) == _key(whole)
    # No arrival is held by two events after stitching.
    held = np.concatenate([e.members for e in parts])
    assert held.size == np.unique(held).size
    # The parts run side by side give the same events as one after the other.
    assert _key(associate_parts(*args, params, workers=2)) == _key(parts)


def _ev(members: list[int], t0: float, x: float = 0.0) -> AssocEvent:
    return AssocEvent(np.array(members, np.int64), x, 0.0, t0, t0, t0, 1.0, members[0])


def test_stitching_gives_a_shared_arrival_to_the_larger_event_and_keeps_only_new_strays() -> None:
    params = AssocParams()  # floor 6 sensors
    spans = [(-math.inf, 100.0), (100.0, math.inf)]
    a = _ev([1, 2, 3, 4, 5, 6, 7, 8], 99.0)  # part 0's own, 8 arrivals
    b = _ev([8, 9, 10, 11, 12, 13, 14], 101.0, x=50_000.0)  # part 1's own, shares arrival 8
    stray_seen = _ev([1, 2, 3, 4, 5, 6], 99.2)  # part 1 saw part 0's event again (its arrivals): dropped
    stray_dup = _ev([30, 31, 32, 33, 34, 35], 99.5, x=200.0)  # the same source from other arrivals: dropped
    stray_new = _ev([20, 21, 22, 23, 24, 25], 98.0, x=90_000.0)  # part 1's find before its span
    out = stitch([[a], [b, stray_seen, stray_dup, stray_new]], spans, params)
    assert [e.t0 for e in out] == [98.0, 99.0, 101.0]
    by_t = {e.t0: e for e in out}
    assert by_t[99.0].members.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert by_t[101.0].members.tolist() == [9, 10, 11, 12, 13, 14]


def test_an_event_left_below_the_floor_by_the_seam_is_dropped() -> None:
    params = AssocParams()
    spans = [(-math.inf, 100.0), (100.0, math.inf)]
    a = _ev([1, 2, 3, 4, 5, 6, 7, 8], 99.0)
    b = _ev([7, 8, 9, 10, 11, 12], 100.5, x=40_000.0)  # loses 7 and 8: 4 left, under 6
    assert [e.t0 for e in stitch([[a], [b]], spans, params)] == [99.0]
