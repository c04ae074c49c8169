"""The parties' claims, from true to fabricated, each with the verdict a correct system reaches.

Each party publishes Poisson(``per_party_per_day`` scaled by duration) claims that the other party
shelled a place on the claimant's side. Each claim's type is drawn from ``mix``:

``true``
    A real impact on the claimant's side fired by the other party, heard by enough sensors to
    locate it; the place is near the impact (settlement precision), the period about ±30 min
    around it, the count the impacts by that party within :data:`NEARBY_KM` in the period.
    Expected verdict ``corroborated``.
``exaggerated``
    As ``true`` with the count multiplied by 3-10. Expected ``corroborated``.
``fabricated``
    A place on the claimant's side with good coverage (at least :data:`COVER_SENSORS` sensors
    working within :data:`COVER_KM`) and a period without any true launch or impact within
    :data:`QUIET_KM`. Expected ``contradicted``.
``blind_spot``
    A place on the claimant's side with no sensor within :data:`BLIND_KM`. Expected
    ``unverifiable``.
``false_flag``
    The claimant's own fire (an impact of its own on its own side, or else one of its own
    launches) blamed on the other party, with no impact by the accused party anywhere near.
    Expected ``contradicted``.

When no suitable event or place exists for a type the claim falls back to another type (see
:data:`FALLBACK`) and its truth records what it became; if none works the claim is not made.
Geometric checks use margins (a few km) beyond the thresholds above, so labels are unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from truceline.core.claims import Claim
from truceline.core.enums import ClaimantKind, GeoPrecision, Party, ViolationKind, WeaponClass
from truceline.core.uncertainty import CountRange, GeoUncertainty, TimeWindow
from truceline.sim.context import World, sample_front
from truceline.sim.network import SensorNet
from truceline.sim.observers import DAY_S, position
from truceline.sim.scenario import Claims
from truceline.sim.truth import TruthClaim, TruthEvents
from truceline.sim.zones import zones_at

FloatArray = NDArray[np.float64]

TYPES = ("true", "exaggerated", "fabricated", "blind_spot", "false_flag")
EXPECTED = {
    "true": "corroborated",
    "exaggerated": "corroborated",
    "fabricated": "contradicted",
    "blind_spot": "unverifiable",
    "false_flag": "contradicted",
}
#: What a type becomes when it cannot be made (tried in order).
FALLBACK: dict[str, tuple[str, ...]] = {
    "true": ("exaggerated", "fabricated", "blind_spot"),
    "exaggerated": ("true", "fabricated", "blind_spot"),
    "fabricated": ("blind_spot", "true"),
    "blind_spot": ("fabricated", "true"),
    "false_flag": ("fabricated", "blind_spot"),
}
#: Impacts within this distance (km) of a claimed one, in its period, make up its count.
NEARBY_KM = 2.0
#: Good coverage: at least this many working sensors within this distance (km).
COVER_SENSORS = 5
COVER_KM = 15.0
#: A fabricated claim's place has no true launch or impact within this distance (km) in its period.
QUIET_KM = 5.0
#: A blind spot has no sensor within this distance (km).
BLIND_KM = 40.0
#: Margins (km) kept beyond those thresholds.
MARGIN_KM = 2.0
#: Half-width of a claim's period, s (uniform).
HALF_PERIOD_S = (15 * 60.0, 30 * 60.0)
#: Place error of a true claim (the settlement's centre, not the crater), m per axis.
PLACE_SIGMA_M = 1000.0
#: Stated uncertainty of a claimed place, m.
PLACE_UNCERTAINTY_M = 2500.0
#: Sensors a true claim's impact must have been heard by (a located event).
MIN_SENSORS = 3
#: Candidate places tried per fabricated or blind-spot claim.
CANDIDATES = 256

WEAPON_WORDS = {
    WeaponClass.MORTAR_LE_120MM: "mortars",
    WeaponClass.ARTILLERY_GE_100MM: "artillery",
    WeaponClass.ARTILLERY_LT_100MM: "guns",
    WeaponClass.MLRS: "multiple rocket launchers",
    WeaponClass.HEAVY_MLRS: "heavy rocket launchers",
    WeaponClass.TANK: "tanks",
}


@dataclass
class ClaimDetail:
    """What is behind a claim, in simulation terms (for tests and scoring).

    ``x``, ``y`` are the projected metres of the *stated* place; ``event_ids`` the true events the
    claim rests on (none for fabricated and blind-spot claims).
    """

    claim_id: str
    truth: str
    party: str
    t0_s: float
    t1_s: float
    x: float
    y: float
    event_ids: list[str] = field(default_factory=list)


@dataclass
class ClaimOutput:
    """Claims, with what is really behind each (same order)."""

    claims: list[Claim]
    truth: list[TruthClaim]
    details: list[ClaimDetail] = field(default_factory=list)


@dataclass
class _Draft:
    """A claim before it becomes a record."""

    truth: str
    accused: str
    actual: str | None
    t0: float
    t1: float
    x: float
    y: float
    count: int
    weapon_class: str | None
    event_ids: list[str]


class _Maker:
    """Makes claims of each type for one simulation (shared indexes, used events)."""

    def __init__(self, world: World, events: TruthEvents, net: SensorNet, rng: np.random.Generator) -> None:
        self.world = world
        self.ev = events
        self.net = net
        self.rng = rng
        self.used: set[int] = set()
        self._parts: list[shapely.Geometry] | None = None
        self.sensors = cKDTree(np.column_stack([net.x, net.y])) if len(net) else None
        self.impact = events.kind == "impact"
        n = len(events)
        if events.n_sensors.size == n:
            self.heard = events.n_sensors >= MIN_SENSORS
        elif self.sensors is not None:  # no detection counts: take good sensor coverage as being heard
            near = self.sensors.query_ball_point(
                np.column_stack([events.x, events.y]), r=(COVER_KM - MARGIN_KM) * 1000.0, return_length=True
            )
            self.heard = np.asarray(near) >= COVER_SENSORS
        else:
            self.heard = np.zeros(n, dtype=bool)
        self.side = np.array([None if s is None else str(s) for s in events.side], dtype=object)

    # -- geometry helpers ---------------------------------------------------------------------
    def _working(self, idx: list[int], t0: float, t1: float) -> int:
        """Sensors of ``idx`` not silenced at the start, middle or end of ``[t0, t1]``."""
        if not idx:
            return 0
        s = np.asarray(idx, dtype=np.int64)
        down = np.zeros(s.size, dtype=bool)
        for t in (t0, 0.5 * (t0 + t1), t1):
            down |= self.net.down(s, np.full(s.size, t))
        return int((~down).sum())

    def _covered(self, x: FloatArray, y: FloatArray, t0: FloatArray, t1: FloatArray) -> NDArray[np.bool_]:
        """At least :data:`COVER_SENSORS` working sensors within ``COVER_KM - MARGIN_KM``."""
        out = np.zeros(np.asarray(x).size, dtype=bool)
        if self.sensors is None:
            return out
        near = self.sensors.query_ball_point(np.column_stack([x, y]), r=(COVER_KM - MARGIN_KM) * 1000.0)
        for i, idx in enumerate(near):
            out[i] = len(idx) >= COVER_SENSORS and self._working(list(idx), float(t0[i]), float(t1[i])) >= COVER_SENSORS
        return out

    def _blind(self, x: FloatArray, y: FloatArray, t0: FloatArray, t1: FloatArray) -> NDArray[np.bool_]:
        """No sensor working within ``BLIND_KM + MARGIN_KM`` at any time of ``[t0, t1]``.

        A sensor counts as working unless outages (jamming, destruction...) silence it over the
        whole period (:meth:`SensorNet.silenced_over`), so a jammed sector is blind while the
        jamming lasts.
        """
        n = np.asarray(x).size
        if self.sensors is None:
            return np.ones(n, dtype=bool)
        near = self.sensors.query_ball_point(np.column_stack([x, y]), r=(BLIND_KM + MARGIN_KM) * 1000.0)
        out = np.zeros(n, dtype=bool)
        for i, idx in enumerate(near):
            out[i] = all(self.net.silenced_over(int(k), float(t0[i]), float(t1[i])) for k in idx)
        return out

    def _events_near(
        self, mask: NDArray[np.bool_], x: float, y: float, t0: float, t1: float, km: float
    ) -> NDArray[np.int64]:
        ev = self.ev
        sel = mask & (ev.t_s >= t0) & (ev.t_s <= t1)
        sel &= np.hypot(ev.x - x, ev.y - y) <= km * 1000.0
        return np.flatnonzero(sel)

    def _period(self, t: float) -> tuple[float, float]:
        a, b = self.rng.uniform(*HALF_PERIOD_S, 2)
        return max(0.0, t - a), min(self.world.duration_s, t + b)

    def _random_period(self, n: int) -> tuple[FloatArray, FloatArray]:
        half = self.rng.uniform(*HALF_PERIOD_S, n)
        mid = self.rng.uniform(0.0, self.world.duration_s, n)
        return np.maximum(0.0, mid - half), np.minimum(self.world.duration_s, mid + half)

    def _own_side(self, party: str, x: FloatArray, y: FloatArray, t: FloatArray) -> NDArray[np.bool_]:
        if not np.asarray(x).size:
            return np.zeros(0, dtype=bool)
        return np.asarray(zones_at(self.world, x, y, t).party_of() == party)

    # -- types --------------------------------------------------------------------------------
    def real(self, party: str, other: str, factor: float) -> _Draft | None:
        """A real impact on ``party``'s side fired by ``other`` (count times ``factor``)."""
        ev = self.ev
        cand = np.flatnonzero(self.impact & self.heard & (self.side == party) & (ev.party == other))
        cand = np.array([i for i in cand if i not in self.used], dtype=np.int64)
        if not cand.size:
            return None
        i = int(cand[self.rng.integers(cand.size)])
        t0, t1 = self._period(float(ev.t_s[i]))
        mask = self.impact & (ev.party == other) & (self.side == party)
        group = self._events_near(mask, float(ev.x[i]), float(ev.y[i]), t0, t1, NEARBY_KM)
        self.used.update(int(j) for j in group)
        self.used.add(i)
        n = max(1, group.size)
        count = max(n + 1, round(n * factor)) if factor > 1 else n
        dx, dy = self.rng.normal(0.0, PLACE_SIGMA_M, 2)
        return _Draft(
            truth="exaggerated" if factor > 1 else "true",
            accused=other,
            actual=other,
            t0=t0,
            t1=t1,
            x=float(ev.x[i] + dx),
            y=float(ev.y[i] + dy),
            count=count,
            weapon_class=str(ev.weapon_class[i]) if self.rng.uniform() < 0.6 else None,
            event_ids=[str(ev.id[j]) for j in (group if group.size else [i])],
        )

    def false_flag(self, party: str, other: str) -> _Draft | None:
        """``party``'s own fire on its own side (an impact, else a launch) blamed on ``other``."""
        ev = self.ev
        own = self.heard & (ev.party == party) & (self.side == party)
        for mask in (own & self.impact, own & ~self.impact):
            cand = [int(i) for i in np.flatnonzero(mask) if i not in self.used]
            self.rng.shuffle(cand)
            for i in cand[:50]:
                t0, t1 = self._period(float(ev.t_s[i]))
                x, y = float(ev.x[i]), float(ev.y[i])
                # Nothing the accused fired landed anywhere near: the claim cannot be corroborated.
                if self._events_near(self.impact & (ev.party == other), x, y, t0, t1, QUIET_KM + MARGIN_KM).size:
                    continue
                group = self._events_near(mask, x, y, t0, t1, NEARBY_KM)
                self.used.update(int(j) for j in group)
                self.used.add(i)
                n = max(1, group.size)
                return _Draft(
                    truth="false_flag",
                    accused=other,
                    actual=party,
                    t0=t0,
                    t1=t1,
                    x=x + float(self.rng.normal(0.0, 300.0)),
                    y=y + float(self.rng.normal(0.0, 300.0)),
                    count=max(n, round(n * float(self.rng.uniform(1.0, 3.0)))),
                    weapon_class=None,
                    event_ids=[str(ev.id[j]) for j in (group if group.size else [i])],
                )
        return None

    def fabricated(self, party: str, other: str) -> _Draft | None:
        """A covered place on ``party``'s side where nothing fell in the period."""
        n = CANDIDATES
        p, nrm = sample_front(self.world, n, self.rng)
        if not len(p):
            return None
        off = self.rng.uniform(1.0, 10.0, n) * 1000.0 * self.rng.choice([-1.0, 1.0], n)
        x, y = p[:, 0] + nrm[:, 0] * off, p[:, 1] + nrm[:, 1] * off
        t0, t1 = self._random_period(n)
        own = self._own_side(party, x, y, 0.5 * (t0 + t1))
        for i in np.flatnonzero(own):
            if not self._covered(x[i : i + 1], y[i : i + 1], t0[i : i + 1], t1[i : i + 1])[0]:
                continue
            quiet = self._events_near(
                np.ones(len(self.ev), dtype=bool),
                float(x[i]),
                float(y[i]),
                float(t0[i]) - 60.0,
                float(t1[i]) + 60.0,
                QUIET_KM + MARGIN_KM,
            )
            if quiet.size == 0:
                return self._invented("fabricated", other, float(x[i]), float(y[i]), float(t0[i]), float(t1[i]))
        return None

    def blind_spot(self, party: str, other: str) -> _Draft | None:
        """A place on ``party``'s side with no working sensor within :data:`BLIND_KM` during the period."""
        n = CANDIDATES
        half = n // 2
        # Far behind the simulated front ...
        p, nrm = sample_front(self.world, half, self.rng)
        off = self.rng.uniform(BLIND_KM + 10.0, BLIND_KM + 110.0, len(p)) * 1000.0
        off *= self.rng.choice([-1.0, 1.0], len(p))
        xs = [p[:, 0] + nrm[:, 0] * off]
        ys = [p[:, 1] + nrm[:, 1] * off]
        # ... or anywhere along the whole line in force (outside the network's stretch).
        parts = self._line_parts()
        if parts:
            lengths = np.array([g.length for g in parts])
            which = self.rng.choice(len(parts), size=n - half, p=lengths / lengths.sum())
            s = self.rng.uniform(0.0, 1.0, n - half)
            pts = np.array(
                [shapely.get_coordinates(parts[w].interpolate(s[k] * parts[w].length))[0] for k, w in enumerate(which)]
            )
            ang = self.rng.uniform(0.0, 2 * np.pi, n - half)
            r = self.rng.uniform(1.0, 30.0, n - half) * 1000.0
            xs.append(pts[:, 0] + r * np.cos(ang))
            ys.append(pts[:, 1] + r * np.sin(ang))
        # ... or near the line where the sensors may be down (jammed or destroyed sectors).
        if self.net.outages:
            q, nq = sample_front(self.world, half, self.rng)
            near_off = self.rng.uniform(1.0, 10.0, len(q)) * 1000.0 * self.rng.choice([-1.0, 1.0], len(q))
            xs.append(q[:, 0] + nq[:, 0] * near_off)
            ys.append(q[:, 1] + nq[:, 1] * near_off)
        x, y = np.concatenate(xs), np.concatenate(ys)
        t0, t1 = self._random_period(x.size)
        ok = self._blind(x, y, t0, t1)
        ok[ok] = self._own_side(party, x[ok], y[ok], 0.5 * (t0[ok] + t1[ok]))
        good = np.flatnonzero(ok)
        if not good.size:
            return None
        i = int(good[self.rng.integers(good.size)])
        return self._invented("blind_spot", other, float(x[i]), float(y[i]), float(t0[i]), float(t1[i]))

    def _line_parts(self) -> list[shapely.Geometry]:
        """Pieces of the whole line in force at the start, projected (computed once)."""
        if self._parts is None:
            line = self.world.engine_at(0.0).geometry.line
            line_xy = self.world.projection.project_geometry(line, max_edge_deg=None)
            self._parts = [g for g in shapely.get_parts(line_xy) if g.length > 0]
        return self._parts

    def _invented(self, truth: str, other: str, x: float, y: float, t0: float, t1: float) -> _Draft:
        classes = list(WEAPON_WORDS)
        wc = str(classes[int(self.rng.integers(len(classes)))]) if self.rng.uniform() < 0.6 else None
        return _Draft(
            truth=truth,
            accused=other,
            actual=None,
            t0=t0,
            t1=t1,
            x=x,
            y=y,
            count=int(self.rng.integers(1, 25)),
            weapon_class=wc,
            event_ids=[],
        )

    def make(self, kind: str, party: str, other: str) -> _Draft | None:
        for k in (kind, *FALLBACK[kind]):
            if k == "true":
                d = self.real(party, other, 1.0)
            elif k == "exaggerated":
                d = self.real(party, other, float(self.rng.uniform(3.0, 10.0)))
            elif k == "fabricated":
                d = self.fabricated(party, other)
            elif k == "blind_spot":
                d = self.blind_spot(party, other)
            else:
                d = self.false_flag(party, other)
            if d is not None:
                return d
        return None


def _text(d: _Draft, lon: float, lat: float, names: dict[str, str]) -> str:
    weapon = WEAPON_WORDS.get(WeaponClass(d.weapon_class), "heavy weapons") if d.weapon_class else "heavy weapons"
    rounds = "round" if d.count == 1 else "rounds"
    return (
        f"{names.get(d.accused, d.accused)} forces shelled the area of {lat:.3f}N {lon:.3f}E "
        f"with {weapon}, firing {d.count} {rounds}."
    )


def simulate_claims(
    world: World, cfg: Claims, events: TruthEvents, net: SensorNet, rng: np.random.Generator
) -> ClaimOutput:
    """The parties' claims and what is really behind each.

    Parameters
    ----------
    world : World
    cfg : Claims
        The scenario's ``claims`` section.
    events : TruthEvents
        Every true launch and impact (``n_sensors`` filled: true claims rest on located impacts).
    net : SensorNet
        The network (coverage decides fabricated and blind-spot places).
    rng : numpy Generator
        The only source of randomness.

    Returns
    -------
    ClaimOutput
        Claims sorted by publication time, their :class:`TruthClaim` and :class:`ClaimDetail`.
    """
    parties = list(world.agreement.parties)
    mix = {k: float(v) for k, v in cfg.mix.items() if v > 0}
    out = ClaimOutput([], [], [])
    if len(parties) != 2 or not mix:
        return out
    kinds = list(mix)
    w = np.array([mix[k] for k in kinds])
    maker = _Maker(world, events, net, rng)
    drafts: list[tuple[str, _Draft, float]] = []
    for party in parties:
        other = parties[1] if party == parties[0] else parties[0]
        n = int(rng.poisson(cfg.per_party_per_day * world.duration_s / DAY_S))
        for kind in rng.choice(len(kinds), size=n, p=w / w.sum()):
            d = maker.make(kinds[int(kind)], party, other)
            if d is not None:
                drafts.append((party, d, float(rng.uniform(0.5, 6.0)) * 3600.0))
    order = sorted(range(len(drafts)), key=lambda i: drafts[i][1].t1 + drafts[i][2])
    counters = dict.fromkeys(parties, 0)
    for i in order:
        party, d, delay = drafts[i]
        counters[party] += 1
        cid = f"clm-{party}-{counters[party]:04d}"
        lons, lats = world.to_lonlat(np.array([d.x]), np.array([d.y]))
        lon, lat = float(lons[0]), float(lats[0])
        wc = WeaponClass(d.weapon_class) if d.weapon_class else None
        out.claims.append(
            Claim(
                id=cid,
                claimant_kind=ClaimantKind.PARTY,
                claimant=f"{party}-MOD",
                accused_party=Party(d.accused),
                published_at=world.time(d.t1 + delay),
                period=TimeWindow(start=world.time(d.t0), end=world.time(d.t1)),
                place=position(lon, lat),
                place_uncertainty=GeoUncertainty(sigma_m=PLACE_UNCERTAINTY_M, precision=GeoPrecision.SETTLEMENT),
                kind=ViolationKind.EXPLOSION_IMPACT,
                weapon_class=wc,
                count=CountRange.exact(d.count),
                text=_text(d, lon, lat, world.agreement.parties),
            )
        )
        out.truth.append(
            TruthClaim(
                claim_id=cid,
                truth=d.truth,
                expected_verdict=EXPECTED[d.truth],
                accused_party=d.accused,
                actual_party=d.actual,
            )
        )
        out.details.append(ClaimDetail(cid, d.truth, party, d.t0, d.t1, d.x, d.y, list(d.event_ids)))
    return out
