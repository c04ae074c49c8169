"""Final location (fusion/refine.py): a row solved again alone is what solving them all again gives."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np

from tests.fusion.synth import lon_at, network, write_case
from truceline.fusion.associate import associate
from truceline.fusion.inputs import load_inputs
from truceline.fusion.refine import Merged, refine, refine_merged


def _same(a, b) -> None:
    w = max(a.det.shape[1], b.det.shape[1])
    a, b = a.widened(w), b.widened(w)
    np.testing.assert_array_equal(a.det, b.det)
    np.testing.assert_allclose(a.p_mirror, b.p_mirror, rtol=1e-9, atol=1e-12)
    # Equal to rounding: sums over a wider padding add their terms in another order.
    for f in fields(a.fit):
        for side in ("fit", "mirror"):
            u, v = getattr(getattr(a, side), f.name), getattr(getattr(b, side), f.name)
            if u.dtype == bool or u.dtype.kind == "i":
                np.testing.assert_array_equal(u, v)
            else:
                np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-9)


def test_events_that_took_arrivals_are_solved_again_and_the_rest_kept(tmp_path: Path) -> None:
    sources = [(lon_at(-20.0 + 8.0 * i), 48.0 + (0.06 if i % 2 else -0.04), 60.0 * i, "launch") for i in range(6)]
    write_case(tmp_path, network(), sources, false_per_sensor=3)
    inp = load_inputs(tmp_path / "observations")
    events = associate(inp.sensors, inp.weather, inp.det_sensor, inp.det_t, inp.detections.time_sigma_s)
    assert len(events) >= 5
    ref = refine(inp, events)
    # Event 3 is dropped and event 1 takes more arrivals (as merging a mirror duplicate does).
    held = set(np.concatenate([e.members for e in events]).tolist())
    grown = events[1].members.tolist() + [g for g in range(inp.det_t.size) if g not in held][:3]
    after = [e for i, e in enumerate(events) if i != 3]
    after[1] = type(events[1])(**{**events[1].__dict__, "members": np.array(grown, np.int64)})
    merged = Merged(after, np.array([i for i in range(len(events)) if i != 3], np.int64), np.array([1], np.int64))
    again = refine_merged(inp, ref, merged)
    _same(again, refine(inp, after))
    assert again.det.shape[1] >= len(grown)
