"""Association: detections into events, in batch or as a stream, with the same decisions.

:class:`Associator` holds the detections delivered so far and the events found. ``push`` adds
detections (in arrival order, as a stream delivers them); ``advance(now)`` makes every decision
due by ``now``. Each detection is scheduled once per lag bin of its sensor
(:mod:`truceline.fusion.tables`), at the time the last sensor near that bin's candidate sources
could have heard them; decisions see only detections that have arrived by then
(:mod:`truceline.fusion.seeding`). A batch run is ``push(all)`` then ``finish()``, so batch and
stream give the same events on the same input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from truceline.core import DEFAULT_NOISE, NoiseModel
from truceline.fusion import kernels as K
from truceline.fusion.bundles import Arrivals, Detections, Entries, Events, Sensors, Tables, Weather
from truceline.fusion.inputs import SensorTable, WeatherTable
from truceline.fusion.seeding import run_entries
from truceline.fusion.tables import cached_tables

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ALGORITHM = "fusion.associate.seeded_grid"
VERSION = "1.0"


@dataclass(frozen=True)
class AssocParams:
    """Association settings (units in the names). The defaults suit rows of sensors 5 km apart.

    The noise of an arrival and the number of sensors an event needs come from ``noise`` (the
    :class:`~truceline.core.NoiseModel` the location and coverage use too). The search is
    stricter about the sound speed than the physics: its gates and χ² test model the sound-speed
    error as ``search_sound_speed_scale`` times the model's (0.6 × 0.5 = 0.3 m/s), a setting of
    the search (like its gates), not a claim about the weather; the final location uses the
    physical sigma, so that its ellipses are calibrated. ``fusion.json`` and provenance write the
    model's values flat (:meth:`as_dict`): ``min_stations``, ``path_sigma_s``, ``path_fraction``
    and, as ``sound_speed_sigma_ms``, the search sigma. A long run is associated in parts of
    ``part_s`` seconds that overlap by ``part_overlap_s`` either side (:mod:`truceline.fusion.parts`).
    """

    grid_m: float = 1000.0
    region_radius_m: float = 40_000.0
    region_rank: int = 2
    n_neighbours: int = 8
    lag_step_m: float = 3000.0
    gather_radius_m: float = 80_000.0
    coarse_tol_s: float = 2.5
    fine_tol_s: float = 0.8
    gate_sigmas: float = 4.0
    gate_max_s: float = 3.0
    min_seed: int = 5
    noise: NoiseModel = DEFAULT_NOISE
    search_sound_speed_scale: float = 0.6
    back_s: float = 320.0
    max_chi2_dof: float = 2.0
    duplicate_s: float = 1.0
    duplicate_m: float = 1500.0
    train_gap_s: float = 1.0
    same_round_s: float = 0.2
    repeat_share: float = 0.6
    nearest_n: int = 6
    nearest_min: int = 3
    repeat_window_s: float = 90.0
    mirror_until_n: int = 14
    clear_ratio: float = 0.5
    quiet_min_seed: int = 4
    quiet_duplicate_s: float = 3.0
    part_s: float = 21_600.0
    part_overlap_s: float = 900.0

    def vector(self) -> FloatArray:
        prm = np.zeros(K.N_PRM)
        prm[K.P_COARSE_TOL] = self.coarse_tol_s
        prm[K.P_GATE] = self.gate_sigmas
        prm[K.P_MIN_SEED] = self.min_seed
        prm[K.P_MIN_STATIONS] = self.noise.min_sensors
        prm[K.P_GATHER_R] = self.gather_radius_m
        prm[K.P_PATH_SIGMA] = self.noise.path_sigma_s
        prm[K.P_PATH_FRAC] = self.noise.path_fraction
        prm[K.P_SIGMA_C] = self.search_sound_speed_sigma_ms
        prm[K.P_BACK_S] = self.back_s
        prm[K.P_MAX_CHI2] = self.max_chi2_dof
        prm[K.P_GATE_MAX] = self.gate_max_s
        prm[K.P_DUP_S] = self.duplicate_s
        prm[K.P_DUP_M] = self.duplicate_m
        prm[K.P_GRID] = self.grid_m
        prm[K.P_FINE_TOL] = self.fine_tol_s
        prm[K.P_REPEAT_S] = self.same_round_s
        prm[K.P_REPEAT_SHARE] = self.repeat_share
        prm[K.P_NEAREST_N] = self.nearest_n
        prm[K.P_NEAREST_MIN] = self.nearest_min
        prm[K.P_REPEAT_WINDOW] = self.repeat_window_s
        prm[K.P_YOUNG_N] = self.mirror_until_n
        prm[K.P_RATIO] = self.clear_ratio
        return prm

    @property
    def search_sound_speed_sigma_ms(self) -> float:
        """The sound-speed sigma of the association's gates and χ² test, m/s (see the class docstring)."""
        return self.search_sound_speed_scale * self.noise.sound_speed_sigma_ms

    def quiet(self) -> AssocParams:
        """The settings of the second pass over the arrivals no event took: events of as few as the
        noise model's ``evidence_min_sensors`` (:func:`associate_quiet`)."""
        floor = min(self.noise.evidence_min_sensors, self.noise.min_sensors)
        return replace(self, noise=replace(self.noise, min_sensors=floor), min_seed=min(self.quiet_min_seed, floor))

    def as_dict(self) -> dict[str, float | int]:
        """The settings as ``fusion.json`` and provenance write them: the noise model's values flat,
        in the place and under the keys they have always had (``min_stations``, ``path_sigma_s``,
        ``path_fraction``, ``sound_speed_sigma_ms`` = the search sigma)."""
        out: dict[str, float | int] = {}
        for f in fields(self):
            if f.name == "noise":
                out |= {
                    "min_stations": self.noise.min_sensors,
                    "path_sigma_s": self.noise.path_sigma_s,
                    "path_fraction": self.noise.path_fraction,
                    "sound_speed_sigma_ms": self.search_sound_speed_sigma_ms,
                }
            elif f.name != "search_sound_speed_scale":
                out[f.name] = getattr(self, f.name)
        return out


class _Grow:
    """A 1-D (or row-wise) array with capacity doubling."""

    def __init__(self, dtype: type, shape: tuple[int, ...] = (), fill: float | int = 0) -> None:
        self.a: NDArray[Any] = np.full((1024, *shape), fill, dtype=dtype)
        self.n = 0
        self.fill = fill

    def ensure(self, n: int) -> None:
        if n > self.a.shape[0]:
            cap = max(n, 2 * self.a.shape[0])
            new = np.full((cap, *self.a.shape[1:]), self.fill, dtype=self.a.dtype)
            new[: self.a.shape[0]] = self.a
            self.a = new

    def extend(self, values: NDArray[Any]) -> None:
        self.ensure(self.n + len(values))
        self.a[self.n : self.n + len(values)] = values
        self.n += len(values)


@dataclass
class AssocEvent:
    """An associated event: members (detection indices in push order) and the association solution."""

    members: IntArray
    x: float
    y: float
    t0: float
    created_s: float
    last_needed_s: float
    chi2_dof: float
    seed: int
    quiet: bool = False  # found by the second pass (associate_quiet): reported only on its evidence


@dataclass
class Associator:
    """Incremental associator over a fixed sensor network (see the module docstring)."""

    sensors: SensorTable
    weather: WeatherTable
    params: AssocParams = field(default_factory=AssocParams)

    def __post_init__(self) -> None:
        p = self.params
        self.tables: Tables = cached_tables(
            self.sensors.x,
            self.sensors.y,
            p.grid_m,
            p.region_radius_m,
            p.region_rank,
            p.n_neighbours,
            p.lag_step_m,
            p.gather_radius_m,
        )
        self._prm = p.vector()
        self._wx = Weather.of(self.weather)
        self._net = Sensors(self.sensors.x, self.sensors.y, self.sensors.k)
        # The growing arrays of the Detections (and claimed, of Arrivals) and Events bundles, by field name.
        self._d = {
            "sens": _Grow(np.int64),
            "t": _Grow(np.float64),
            "sig": _Grow(np.float64),
            "c": _Grow(np.float64),
            "u": _Grow(np.float64),
            "v": _Grow(np.float64),
            "follow": _Grow(np.int64),
            "claimed": _Grow(np.int64, fill=-1),
        }
        self._ev = {
            "x": _Grow(np.float64),
            "y": _Grow(np.float64),
            "t0": _Grow(np.float64),
            "cov": _Grow(np.float64, (3, 3)),
            "n": _Grow(np.int64),
            "mem": _Grow(np.int64, (K.MAXM,), fill=-1),
            "k": _Grow(np.float64),
            "q": _Grow(np.float64),
            "created": _Grow(np.float64),
            "seed": _Grow(np.int64),
            "last": _Grow(np.float64),
        }
        self.n_events = 0
        self._first_ev = 0
        self._pending_t = np.zeros(0)
        self._pending_det = np.zeros(0, np.int64)
        self._pending_bin = np.zeros(0, np.int32)
        self._now = -np.inf
        self._t_sorted = True
        self._last_t = np.full(len(self.sensors), -np.inf)
        self._index_n = -1
        self._idx: tuple[IntArray, FloatArray, IntArray] = (np.zeros(1, np.int64), np.zeros(0), np.zeros(0, np.int64))
        self._index_from = -np.inf
        self.entries_done = 0

    # ------------------------------------------------------------------ input
    def push(self, sensor: IntArray, t: FloatArray, sigma_t: FloatArray) -> None:
        """Deliver detections (sensor index, arrival s, timing sigma s), in arrival order."""
        sensor = np.asarray(sensor, np.int64)
        t = np.asarray(t, np.float64)
        if t.size == 0:
            return
        if np.any(t <= self._now):
            raise ValueError("detections must be delivered after the time already processed")
        first = self._d["t"].n
        c, u, v = self.weather.at(t, self.sensors.x[sensor], self.sensors.y[sensor])
        for key, vals in (
            ("sens", sensor),
            ("t", t),
            ("sig", np.asarray(sigma_t, float)),
            ("c", c),
            ("u", u),
            ("v", v),
        ):
            self._d[key].extend(vals)
        follow = self._followers(sensor, t)
        self._d["follow"].extend(follow)
        self._d["claimed"].extend(-1 - follow)
        # One entry per non-empty lag bin of the detection's sensor.
        tab = self.tables
        nb = tab.n_bins
        counts = np.diff(tab.sb_ptr).reshape(-1, nb)[sensor]  # (n, bins)
        has = counts > 0
        k = self.sensors.k[sensor]
        v_lo = np.maximum((c - np.hypot(u, v)) * k, 200.0)
        when = t[:, None] + tab.bin_lag_m[sensor] / v_lo[:, None] + self.params.coarse_tol_s + 0.1
        det = np.broadcast_to(np.arange(first, first + t.size)[:, None], has.shape)
        b = np.broadcast_to(np.arange(nb, dtype=np.int32)[None, :], has.shape)
        p_t = np.concatenate([self._pending_t, when[has]])
        p_det = np.concatenate([self._pending_det, det[has]])
        p_bin = np.concatenate([self._pending_bin, b[has]])
        order = np.lexsort((p_bin, p_det, p_t))  # the one global order of decisions
        self._pending_t, self._pending_det, self._pending_bin = p_t[order], p_det[order], p_bin[order]
        if first and t.min() < self._d["t"].a[first - 1]:
            self._t_sorted = False
        if np.any(np.diff(t) < 0):
            self._t_sorted = False

    def _followers(self, sensor: IntArray, t: FloatArray) -> IntArray:
        """1 where an arrival comes less than ``train_gap_s`` after the previous one at its sensor."""
        order = np.lexsort((t, sensor))
        s_o, t_o = sensor[order], t[order]
        prev = np.empty_like(t_o)
        prev[1:] = t_o[:-1]
        first = np.ones(t_o.size, dtype=bool)
        first[1:] = s_o[1:] != s_o[:-1]
        prev[first] = self._last_t[s_o[first]]
        out = np.zeros(t.size, np.int64)
        out[order] = (t_o - prev < self.params.train_gap_s).astype(np.int64)
        last = first.copy()
        last[:-1] = first[1:]
        last[-1] = True
        self._last_t[s_o[last]] = t_o[last]
        return out

    # ------------------------------------------------------------------ processing
    def _index(self, lo: float) -> tuple[IntArray, FloatArray, IntArray]:
        """Per-sensor sorted arrival times of the detections that arrived after ``lo``."""
        n = self._d["t"].n
        if n == self._index_n and lo <= self._index_from + 60.0:
            return self._idx
        t = self._d["t"].a[:n]
        s = self._d["sens"].a[:n]
        keep = np.arange(int(np.searchsorted(t, lo)), n) if self._t_sorted else np.flatnonzero(t >= lo)
        order = keep[np.lexsort((t[keep], s[keep]))]
        w_ptr = np.searchsorted(s[order], np.arange(len(self.sensors) + 1)).astype(np.int64)
        self._idx = (w_ptr, np.ascontiguousarray(t[order]), order.astype(np.int64))
        self._index_n, self._index_from = n, lo
        return self._idx

    def advance(self, now: float) -> list[int]:
        """Make every decision due by ``now``; return the indices of the events created."""
        cut = int(np.searchsorted(self._pending_t, now, side="right"))
        if cut == 0:
            self._now = max(self._now, now)
            return []
        e_t, e_det, e_bin = self._pending_t[:cut], self._pending_det[:cut], self._pending_bin[:cut]
        self._pending_t, self._pending_det, self._pending_bin = (
            self._pending_t[cut:],
            self._pending_det[cut:],
            self._pending_bin[cut:],
        )
        # Every lookup of these entries lies after the earliest one's look-back.
        w_ptr, w_time, w_id = self._index(float(e_t[0]) - self.params.back_s - 120.0)
        before = self.n_events
        start = 0
        ent = Entries(e_t, e_det, e_bin)
        d, ev = self._d, self._ev
        while start < e_t.size:
            for g in ev.values():
                g.ensure(self.n_events + 4096)
            n = d["t"].n
            det = Detections(*(d[f].a[:n] for f in Detections._fields))
            arv = Arrivals(w_ptr, w_time, w_id, d["claimed"].a[:n])
            events = Events(*(ev[f].a for f in Events._fields))
            start, self.n_events = run_entries(
                ent, start, e_t.size, self._first_ev, self.n_events, det, arv, events, self.tables, self._net,
                self._wx, self._prm,
            )  # fmt: skip
        self.entries_done += int(e_t.size)
        self._now = max(self._now, now)
        created = ev["created"].a[: self.n_events]
        while self._first_ev < self.n_events and created[self._first_ev] < now - 4 * self.params.back_s:
            self._first_ev += 1
        return list(range(before, self.n_events))

    def finish(self) -> None:
        """Decide everything still pending (end of input)."""
        self.advance(np.inf)

    # ------------------------------------------------------------------ output
    def events(self) -> list[AssocEvent]:
        """Events found so far (members as detection indices in push order)."""
        ev = self._ev
        out = []
        for e in range(self.n_events):
            n = int(ev["n"].a[e])
            if n == 0:
                continue
            out.append(
                AssocEvent(
                    members=ev["mem"].a[e, :n].copy(),
                    x=float(ev["x"].a[e]),
                    y=float(ev["y"].a[e]),
                    t0=float(ev["t0"].a[e]),
                    created_s=float(ev["created"].a[e]),
                    last_needed_s=float(ev["last"].a[e]),
                    chi2_dof=float(ev["q"].a[e]),
                    seed=int(ev["seed"].a[e]),
                )
            )
        return out


def associate(
    sensors: SensorTable,
    weather: WeatherTable,
    det_sensor: IntArray,
    det_t: FloatArray,
    det_sigma: FloatArray,
    params: AssocParams | None = None,
    step_s: float = np.inf,
    progress: Callable[[float], None] | None = None,
) -> list[AssocEvent]:
    """Batch association; members index the given detection arrays.

    With a finite ``step_s`` the decisions are made that many seconds of data at a time, as a stream
    would (same events), and ``progress`` gets the share done after each step.
    """
    order = np.argsort(det_t, kind="stable")
    a = Associator(sensors, weather, params or AssocParams())
    a.push(det_sensor[order], det_t[order], det_sigma[order])
    if det_t.size and np.isfinite(step_s):
        start, end = float(det_t.min()), float(det_t.max())
        for now in np.arange(start + step_s, end + step_s, step_s):
            a.advance(float(now))
            if progress:
                progress(min(1.0, (now - start) / max(end - start, 1.0)))
    a.finish()
    events = a.events()
    for e in events:
        e.members = order[e.members]
    return events


def associate_quiet(
    sensors: SensorTable,
    weather: WeatherTable,
    det_sensor: IntArray,
    det_t: FloatArray,
    det_sigma: FloatArray,
    events: list[AssocEvent],
    params: AssocParams | None = None,
    step_s: float = np.inf,
    runner: Callable[..., list[AssocEvent]] | None = None,
) -> list[AssocEvent]:
    """Quiet sources: a second association over the arrivals no event of ``events`` holds (and that
    are not in a ripple's train, :func:`_in_trains`), with the floor lowered to
    ``evidence_min_sensors`` (:meth:`AssocParams.quiet`). The first pass is left as it was (its
    events keep every arrival they took); what this pass finds is weighed against noise by
    :mod:`truceline.fusion.evidence` before it is reported. Members index the given arrays.
    ``runner`` associates (default :func:`associate`; :func:`truceline.fusion.parts.associate_parts`
    for a long run)."""
    params = params or AssocParams()
    taken = np.zeros(det_t.size, bool)
    for e in events:
        taken[e.members] = True
    left = np.flatnonzero(~taken & ~_in_trains(det_sensor, det_t, params.train_gap_s))
    if left.size == 0:
        return []
    run = runner or associate
    found = run(sensors, weather, det_sensor[left], det_t[left], det_sigma[left], params.quiet(), step_s)
    for e in found:
        e.members = left[e.members]
        e.quiet = True
    return [e for e, dup in zip(found, _duplicates(found, events, params), strict=True) if not dup]


def _in_trains(det_sensor: IntArray, det_t: FloatArray, gap_s: float) -> NDArray[np.bool_]:
    """Detections with another of the same sensor within ``gap_s`` (a ripple's train). The quiet pass
    leaves them out: quiet sources are heard once, and events picked from trains are coincidences
    the source test would not trust (fusion/evidence.py); under ripple fire they are most of what
    the first pass leaves, and most of the quiet pass's time."""
    order = np.lexsort((det_t, det_sensor))
    s, t = det_sensor[order], det_t[order]
    close = (np.diff(t) <= gap_s) & (np.diff(s) == 0)
    near = np.zeros(t.size, bool)
    near[:-1] |= close
    near[1:] |= close
    out = np.zeros(t.size, bool)
    out[order] = near
    return out


def _duplicates(found: list[AssocEvent], events: list[AssocEvent], params: AssocParams) -> list[bool]:
    """Whether each quiet event is a known event again (arrivals the known event rejected, solved
    apart: under a wrong weather report one source splits into two solutions seconds apart): within
    ``quiet_duplicate_s`` and ``duplicate_m`` of a known event."""
    if not events:
        return [False] * len(found)
    t = np.array([o.t0 for o in events])
    order = np.argsort(t)
    t, x, y = t[order], np.array([o.x for o in events])[order], np.array([o.y for o in events])[order]
    out = []
    for e in found:
        lo, hi = np.searchsorted(t, [e.t0 - params.quiet_duplicate_s, e.t0 + params.quiet_duplicate_s])
        out.append(bool(np.any(np.hypot(x[lo:hi] - e.x, y[lo:hi] - e.y) <= params.duplicate_m)))
    return out
