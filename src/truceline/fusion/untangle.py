"""Untangling a fire mission's trains: no round keeps an arrival of the other train.

The rounds of a ripple reach a sensor 0.3-0.7 s apart, and the launch train and the impact train of
one mission can overlap there: association, which builds one event at a time, lets a launch take an
arrival of the impact train (or the reverse) when it falls within its tolerance, and a launch and an
impact would then share evidence. Once the mission is known (:mod:`truceline.fusion.missions`; only
missions with a train of rounds, closer than ``MissionParams.rate_mlrs_s``, on one side at least):

- at each sensor the other train can reach at the time (its rounds' times plus their distances at a
  nominal sound speed, give or take ``celerity_spread`` and ``slack_s``: the weather is not needed
  to know that two trains overlap), an arrival whose class scores favour the other kind (launch
  against impact, from the detection's own signature) is taken out of the round that held it;
- a round that lost arrivals is located again with the rest (if it keeps ``min_arrivals``; otherwise
  it is left as it was, and the source tests judge it).

Timing alone cannot tell the trains apart where they interleave a quarter of a second apart; the
signature can. Reassigning arrivals between the rounds of one train by their predicted times was tried
and measured worse (the catalogue's ripple events are mixtures, so their predictions are too): rounds
lost more true arrivals than wrong ones (``steady``: 602 of 1,355 arrivals taken out were the round's
own), hence only the other train's arrivals are taken out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from truceline.core import NoiseModel
from truceline.fusion.associate import AssocEvent
from truceline.fusion.inputs import FusionInput
from truceline.fusion.missions import Located, MissionParams, pair_sides, sides
from truceline.fusion.pairing import pair_events
from truceline.fusion.refine import Refined, refine

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class UntangleParams:
    """``passes``: take-out-and-relocate rounds; ``min_arrivals``: fewest arrivals a round keeps (else it
    keeps its old ones); ``c_ms``, ``celerity_spread``, ``slack_s``: the nominal sound speed, its
    relative spread (wind and temperature) and a margin, s, for when a train can reach a sensor."""

    passes: int = 1
    c_ms: float = 340.0
    celerity_spread: float = 0.08
    slack_s: float = 1.0
    min_arrivals: int = 4


def untangle(
    inp: FusionInput,
    events: list[AssocEvent],
    ref: Refined,
    kinds: IntArray,
    noise: NoiseModel,
    params: UntangleParams | None = None,
    mission: MissionParams | None = None,
) -> tuple[list[AssocEvent], Refined]:
    """The events and solutions with every multi-round mission's arrivals reassigned (module docstring)."""
    params = params or UntangleParams()
    mission = mission or MissionParams()
    events = list(events)
    kcost = kind_cost(inp)
    for _ in range(params.passes):
        located = _located(inp, ref, kinds)
        groups = _groups(located, mission)
        changed: dict[int, IntArray] = {}
        for g in groups:
            changed.update(_take_out(inp, located, g, kcost, params))
        if not changed:
            break
        idx = np.array(sorted(changed), dtype=np.int64)
        for i in idx.tolist():
            events[i] = dataclasses.replace(events[i], members=changed[i])
        ref = ref.splice(idx, refine(inp, [events[i] for i in idx.tolist()], noise))
    return events, ref


def _located(inp: FusionInput, ref: Refined, kinds: IntArray) -> Located:
    det = np.where(ref.fit.inlier & (ref.det >= 0), ref.det, -1)
    sensor_xy = np.column_stack([inp.sensors.x, inp.sensors.y])
    return Located(kinds, ref.fit.x, ref.fit.y, ref.fit.t0, ref.fit.cov_xy, det, inp.det_sensor, inp.det_t, sensor_xy)


def _groups(ev: Located, mission: MissionParams) -> list[IntArray]:
    """The events of every mission with a train of rounds on one side at least (the two sides of a
    paired mission together)."""
    side = sides(ev, mission)
    sigma = np.sqrt(np.maximum(np.linalg.eigvalsh(ev.cov)[:, -1], 0.0)) if ev.x.size else np.zeros(0)
    pairs = pair_events(ev.kind == 0, ev.kind == 1, ev.t0, ev.x, ev.y, sigma)
    comp = side.copy()
    for a, b in pair_sides(ev, side, pairs, mission).items():
        comp[comp == b] = a
    out = []
    for lab in np.unique(comp).tolist():
        g = np.flatnonzero(comp == lab)
        if any(_is_train(ev.t0[g[ev.kind[g] == k]], mission) for k in (0, 1)):
            out.append(g)
    return out


def _is_train(t0: FloatArray, mission: MissionParams) -> bool:
    """Rounds fired closer together than a ripple's interval (``rate_mlrs_s``): arrivals that can
    interleave at a sensor. Rounds seconds apart (a battery's volleys) reach every sensor apart, and
    association has already told them apart."""
    return t0.size >= 3 and float(np.median(np.diff(np.sort(t0)))) <= mission.rate_mlrs_s


def _take_out(
    inp: FusionInput, ev: Located, g: IntArray, kcost: FloatArray, params: UntangleParams
) -> dict[int, IntArray]:
    """New arrivals of the group's rounds that held arrivals of the other train (module docstring)."""
    rows, cols = np.nonzero(ev.det[g] >= 0)
    d = ev.det[g][rows, cols]
    raw = ev.kind[g][rows]
    kind = np.clip(raw, 0, 1)
    if not ((ev.kind[g] == 0).any() and (ev.kind[g] == 1).any()):
        return {}
    sens = ev.det_sensor[d]
    spans = [_spans(inp, ev, g[ev.kind[g] == k], params) for k in (0, 1)]
    lo = np.maximum(spans[0][0], spans[1][0])[sens]
    hi = np.minimum(spans[0][1], spans[1][1])[sens]
    t = ev.det_t[d]
    drop = (raw < 2) & (kcost[1 - kind, d] < kcost[kind, d]) & (t >= lo) & (t <= hi)  # undetermined: kept
    out: dict[int, IntArray] = {}
    for r in np.unique(rows[drop]).tolist():
        keep = d[(rows == r) & ~drop]
        if keep.size >= params.min_arrivals:
            out[int(g[r])] = np.sort(keep)
    return out


def _spans(inp: FusionInput, ev: Located, m: IntArray, params: UntangleParams) -> tuple[FloatArray, FloatArray]:
    """When a side's train can reach each sensor: from its first round's earliest to its last round's
    latest arrival at a nominal sound speed, widened by the celerity's spread and ``slack_s``."""
    d = np.hypot(inp.sensors.x[:, None] - ev.x[m][None, :], inp.sensors.y[:, None] - ev.y[m][None, :])
    lo = float(ev.t0[m].min()) + d.min(axis=1) / (params.c_ms * (1 + params.celerity_spread)) - params.slack_s
    hi = float(ev.t0[m].max()) + d.max(axis=1) / (params.c_ms * (1 - params.celerity_spread)) + params.slack_s
    return lo, hi


def kind_cost(inp: FusionInput) -> FloatArray:
    """``(2, n)``: -2 log P(launch), -2 log P(impact) of each detection from its class scores (0 when unscored)."""
    pl = np.clip(np.nan_to_num(inp.detections.launch_score, nan=0.5), 0.02, 0.98)
    pi = np.clip(np.nan_to_num(inp.detections.impact_score, nan=0.5), 0.02, 0.98)
    total = pl + pi
    return np.vstack([-2 * np.log(pl / total), -2 * np.log(pi / total)])
