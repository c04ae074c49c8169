"""Observer patrols: what monitors hear and see in the SMM taxonomy, and the restrictions they meet.

Each patrol stands at one point a few kilometres behind the line (on either side: monitors patrol
both) for ``patrol_hours`` and reports the true launches and impacts within ``hearing_radius_km``:

- events of one kind, party and weapon class within about a minute and a narrow cone of directions
  are grouped into one report (a salvo is one report with its count);
- ``kind``: ``explosion_outgoing`` for a launch, ``explosion_impact`` for an impact, sometimes
  ``explosion_undetermined`` (more often when only heard);
- ``mode``: ``saw`` for events within :data:`SAW_KM` by day, else ``heard``;
- ``direction_deg``: the geodesic azimuth from the observers to the events plus
  ``N(0, direction_sigma_deg)``;
- ``distance_band``: from the true distance times ``exp(N(0, distance_error))`` (so it can land in
  the wrong band);
- ``count``: the true count times ``exp(N(0, count_error))`` with a low/high range;
- ``assessed_weapon``: the true class, sometimes ``unknown`` or a neighbouring class.

Freedom-of-movement restrictions come as a Poisson process (``fom_restrictions_per_day``) at patrol
positions; the restricting party is the party controlling the place, and every restriction is a
true ``freedom_of_movement`` violation.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from truceline.core.enums import DistanceBand, ObservationMode, Party, ViolationKind, WeaponClass
from truceline.core.observations import FreedomOfMovementRestriction, ObserverReport
from truceline.core.uncertainty import CountRange, Position
from truceline.sim.context import World, sample_front
from truceline.sim.scenario import Observers
from truceline.sim.truth import TruthEvents, TruthViolation
from truceline.sim.zones import zones_at

FloatArray = NDArray[np.float64]
GEOD = Geod(ellps="WGS84")
DAY_S = 86_400.0

#: Events closer than this (km) are seen, not only heard, by day.
SAW_KM = 3.0
#: Local hours of daylight, [start, end).
DAYLIGHT_H = (6.0, 20.0)
#: Patrols stand this far behind the line, km (uniform).
BEHIND_KM = (2.0, 6.0)
#: Events of one group lie within this many seconds of its first event ...
GROUP_S = 60.0
#: ... and within this many degrees of its first event's direction.
GROUP_DEG = 15.0
#: Share of reports whose kind is left undetermined, when seen and when only heard.
UNDETERMINED_SHARE = {ObservationMode.SAW: 0.05, ObservationMode.HEARD: 0.2}
#: Probability of assessing the weapon as its true class, when seen and when only heard; of the
#: rest, half is ``unknown`` and half a neighbouring class.
WEAPON_RIGHT = {ObservationMode.SAW: 0.85, ObservationMode.HEARD: 0.6}
#: Classes an observer may confuse a weapon with.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    WeaponClass.MORTAR_LE_120MM: (WeaponClass.ARTILLERY_LT_100MM, WeaponClass.ARTILLERY_GE_100MM),
    WeaponClass.ARTILLERY_LT_100MM: (WeaponClass.MORTAR_LE_120MM, WeaponClass.TANK),
    WeaponClass.ARTILLERY_GE_100MM: (WeaponClass.MORTAR_LE_120MM, WeaponClass.MLRS, WeaponClass.TANK),
    WeaponClass.MLRS: (WeaponClass.ARTILLERY_GE_100MM, WeaponClass.HEAVY_MLRS),
    WeaponClass.HEAVY_MLRS: (WeaponClass.MLRS, WeaponClass.TACTICAL_MISSILE),
    WeaponClass.TACTICAL_MISSILE: (WeaponClass.HEAVY_MLRS,),
    WeaponClass.TANK: (WeaponClass.ARTILLERY_LT_100MM, WeaponClass.ARTILLERY_GE_100MM),
}
RESTRICTIONS = (
    "Patrol denied passage at a checkpoint by armed personnel.",
    "Patrol stopped and told to turn back, citing security reasons.",
    "Patrol denied access, citing mines on the road ahead.",
    "Patrol's UAV flight prevented; the patrol was told to leave the area.",
)


@dataclass
class Patrol:
    """One patrol (truth and record fields): where it stood, when, and who its observers are."""

    id: str
    nationality: str
    x: float
    y: float
    lon: float
    lat: float
    start_s: float
    end_s: float
    party: str | None  # the party controlling the place


@dataclass
class ReportTruth:
    """What is behind one observer report (for tests and scoring)."""

    report_id: str
    event_ids: list[str]
    bearing_deg: float
    distance_km: float
    count: int


@dataclass
class PatrolOutput:
    """Observer reports, freedom-of-movement restrictions and their true violations."""

    reports: list[ObserverReport]
    restrictions: list[FreedomOfMovementRestriction]
    violations: list[TruthViolation]
    patrols: list[Patrol] = field(default_factory=list)
    report_truth: list[ReportTruth] = field(default_factory=list)


# --------------------------------------------------------------------------- shared helpers


def position(lon: float, lat: float) -> Position:
    """A record position rounded to 1e-6 degrees (about 0.1 m)."""
    return Position(lon_deg=round(float(lon), 6), lat_deg=round(float(lat), 6))


def bearing(value: float) -> float:
    """A bearing rounded to 0.1 degree, in [0, 360)."""
    b = round(float(value) % 360.0, 1)
    return 0.0 if b >= 360.0 else b


def distance_band(km: float) -> DistanceBand:
    """The band a distance (km) falls in."""
    for band in (DistanceBand.LT_1KM, DistanceBand.KM_1_3, DistanceBand.KM_3_5, DistanceBand.KM_5_10):
        if km < band.bounds_km()[1]:
            return band
    return DistanceBand.GT_10KM


def _minute(t: dt.datetime) -> dt.datetime:
    return (t + dt.timedelta(seconds=30)).replace(second=0, microsecond=0)


# --------------------------------------------------------------------------- patrols


def _place_patrols(world: World, cfg: Observers, n: int, rng: np.random.Generator) -> list[Patrol]:
    """``n`` patrols on either side, a few km behind the line, each on a controlled place."""
    span = cfg.patrol_hours * 3600.0
    out: list[Patrol] = []
    need = n
    for _ in range(20):
        if need <= 0:
            break
        k = 2 * need + 4
        p, nrm = sample_front(world, k, rng)
        if not len(p):
            break
        side = rng.choice([-1.0, 1.0], k)
        behind = rng.uniform(*BEHIND_KM, k) * 1000.0
        xy = p + nrm * (side * behind)[:, None]
        start = rng.uniform(0.0, max(world.duration_s - span, 0.0), k)
        end = np.minimum(start + span, world.duration_s)
        nat = rng.choice(len(cfg.nationalities), k) if cfg.nationalities else np.zeros(k, int)
        z = zones_at(world, xy[:, 0], xy[:, 1], start)
        party = z.party_of()
        lon, lat = world.to_lonlat(xy[:, 0], xy[:, 1])
        for i in np.flatnonzero(party != None)[:need]:  # noqa: E711
            out.append(
                Patrol(
                    id=f"PTL-{len(out) + 1:04d}",
                    nationality=cfg.nationalities[int(nat[i])] if cfg.nationalities else "UNK",
                    x=float(xy[i, 0]),
                    y=float(xy[i, 1]),
                    lon=float(lon[i]),
                    lat=float(lat[i]),
                    start_s=float(start[i]),
                    end_s=float(end[i]),
                    party=str(party[i]),
                )
            )
        need = n - len(out)
    return out


def _groups(order: NDArray[np.int64], events: TruthEvents, az: FloatArray) -> list[list[int]]:
    """Greedy groups of heard events (indices into ``events``), in time order."""
    groups: list[list[int]] = []
    for i in order:
        if groups:
            g = groups[-1]
            f = g[0]
            same = (
                events.kind[i] == events.kind[f]
                and events.party[i] == events.party[f]
                and events.weapon_class[i] == events.weapon_class[f]
                and events.t_s[i] - events.t_s[f] <= GROUP_S
                and abs((az[i] - az[f] + 180.0) % 360.0 - 180.0) <= GROUP_DEG
            )
            if same:
                g.append(int(i))
                continue
        groups.append([int(i)])
    return groups


def _count(n: int, err: float, rng: np.random.Generator) -> CountRange:
    if err <= 0:
        return CountRange.exact(n)
    best = max(1, round(n * math.exp(rng.normal(0.0, err))))
    low = max(1, math.floor(best * math.exp(-err)))
    high = max(best, math.ceil(best * math.exp(err)))
    return CountRange(low=min(low, best), best=best, high=high)


def _weapon(true_class: str, mode: ObservationMode, rng: np.random.Generator) -> WeaponClass:
    u = rng.uniform()
    right = WEAPON_RIGHT[mode]
    if u < right:
        return WeaponClass(true_class)
    near = NEIGHBOURS.get(true_class, ())
    if u < right + (1.0 - right) / 2.0 or not near:
        return WeaponClass.UNKNOWN
    return WeaponClass(near[int(rng.integers(len(near)))])


def _patrol_reports(
    world: World, cfg: Observers, patrol: Patrol, events: TruthEvents, rng: np.random.Generator
) -> tuple[list[ObserverReport], list[ReportTruth]]:
    radius_m = cfg.hearing_radius_km * 1000.0
    d_m = np.hypot(events.x - patrol.x, events.y - patrol.y)
    cand = np.flatnonzero((events.t_s >= patrol.start_s) & (events.t_s < patrol.end_s) & (d_m <= radius_m))
    if not cand.size:
        return [], []
    # Hearing fades towards the edge of the radius: 0.95 inside half of it, down to 0.6 at it.
    frac = d_m[cand] / radius_m
    p_hear = 0.95 - 0.35 * np.clip((frac - 0.5) / 0.5, 0.0, 1.0)
    heard = cand[rng.uniform(0.0, 1.0, cand.size) < p_hear]
    if not heard.size:
        return [], []
    az = np.full(len(events), np.nan)
    dist_km = np.full(len(events), np.nan)
    fwd, _, dist = GEOD.inv(
        np.full(heard.size, patrol.lon), np.full(heard.size, patrol.lat), events.lon[heard], events.lat[heard]
    )
    az[heard] = np.mod(fwd, 360.0)
    dist_km[heard] = np.asarray(dist) / 1000.0
    order = heard[np.argsort(events.t_s[heard], kind="stable")]
    reports: list[ObserverReport] = []
    truth: list[ReportTruth] = []
    pos = position(patrol.lon, patrol.lat)
    for g in _groups(order, events, az):
        f = g[0]
        rad = np.radians(az[g])
        true_az = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())) % 360.0)
        true_km = float(np.mean(dist_km[g]))
        t_s = float(events.t_s[f])
        by_day = DAYLIGHT_H[0] <= float(world.local_hour(t_s)) < DAYLIGHT_H[1]
        mode = ObservationMode.SAW if by_day and true_km <= SAW_KM else ObservationMode.HEARD
        if rng.uniform() < UNDETERMINED_SHARE[mode]:
            kind = ViolationKind.EXPLOSION_UNDETERMINED
        elif events.kind[f] == "launch":
            kind = ViolationKind.EXPLOSION_OUTGOING
        else:
            kind = ViolationKind.EXPLOSION_IMPACT
        direction = bearing(true_az + rng.normal(0.0, cfg.direction_sigma_deg))
        judged_km = true_km * math.exp(rng.normal(0.0, cfg.distance_error))
        count = _count(len(g), cfg.count_error, rng)
        weapon = _weapon(str(events.weapon_class[f]), mode, rng)
        rid = f"obr-{patrol.id}-{len(reports) + 1:04d}"
        reports.append(
            ObserverReport(
                id=rid,
                patrol_id=patrol.id,
                observer_nationality=patrol.nationality,
                observer_position=pos,
                time=_minute(world.time(t_s)),
                mode=mode,
                kind=kind,
                direction_deg=direction,
                direction_sigma_deg=max(float(cfg.direction_sigma_deg), 1.0),
                distance_band=distance_band(judged_km),
                count=count,
                assessed_weapon=weapon,
                notes=f"{count.best} {kind.value.replace('_', ' ')} ({mode.value})",
            )
        )
        truth.append(
            ReportTruth(
                report_id=rid,
                event_ids=[str(events.id[i]) for i in g],
                bearing_deg=true_az,
                distance_km=true_km,
                count=len(g),
            )
        )
    return reports, truth


def _restrictions(
    world: World, cfg: Observers, patrols: list[Patrol], rng: np.random.Generator
) -> tuple[list[FreedomOfMovementRestriction], list[TruthViolation]]:
    n = int(rng.poisson(cfg.fom_restrictions_per_day * world.duration_s / DAY_S))
    if n == 0:
        return [], []
    if not patrols:
        patrols.extend(_place_patrols(world, cfg, n, rng))
        if not patrols:
            return [], []
    who = rng.integers(len(patrols), size=n)
    shift = rng.normal(0.0, 300.0, (n, 2))
    x = np.array([patrols[i].x for i in who]) + shift[:, 0]
    y = np.array([patrols[i].y for i in who]) + shift[:, 1]
    t = np.array([rng.uniform(patrols[i].start_s, max(patrols[i].end_s, patrols[i].start_s + 1.0)) for i in who])
    t = np.minimum(t, max(world.duration_s - 1.0, 0.0))
    party = zones_at(world, x, y, t).party_of()
    lon, lat = world.to_lonlat(x, y)
    what = rng.integers(len(RESTRICTIONS), size=n)
    order = np.argsort(t, kind="stable")
    records: list[FreedomOfMovementRestriction] = []
    violations: list[TruthViolation] = []
    for k, i in enumerate(order, start=1):
        p = patrols[int(who[i])]
        plon, plat, pp = lon[i], lat[i], party[i]
        if pp is None:  # the jitter left the controlled area: the patrol's own point
            plon, plat, pp = p.lon, p.lat, p.party
        rid = f"fom-{k:05d}"
        records.append(
            FreedomOfMovementRestriction(
                id=rid,
                patrol_id=p.id,
                time=world.time(float(t[i])),
                position=position(plon, plat),
                restricting_party=Party(pp) if pp is not None else None,
                description=RESTRICTIONS[int(what[i])],
            )
        )
        violations.append(
            TruthViolation(
                id=f"T-V-freedom_of_movement-{k:05d}",
                family="freedom_of_movement",
                party=None if pp is None else str(pp),
                t_s=float(t[i]),
                lon=float(plon),
                lat=float(plat),
                source_ids=[rid],
            )
        )
    return records, violations


def simulate_patrols(world: World, cfg: Observers, events: TruthEvents, rng: np.random.Generator) -> PatrolOutput:
    """Patrols, their observer reports, and the freedom-of-movement restrictions they meet.

    Parameters
    ----------
    world : World
    cfg : Observers
        The scenario's ``observers`` section.
    events : TruthEvents
        Every true launch and impact.
    rng : numpy Generator
        The only source of randomness (the output is deterministic for its seed).

    Returns
    -------
    PatrolOutput
        Reports sorted by time, restrictions, and one ``freedom_of_movement`` truth violation per
        restriction; ``patrols`` and ``report_truth`` keep what is behind them.
    """
    n = int(rng.poisson(cfg.patrols_per_day * world.duration_s / DAY_S))
    patrols = _place_patrols(world, cfg, n, rng)
    reports: list[ObserverReport] = []
    truth: list[ReportTruth] = []
    for p in patrols:
        r, tr = _patrol_reports(world, cfg, p, events, rng)
        reports += r
        truth += tr
    restrictions, violations = _restrictions(world, cfg, patrols, rng)
    order = sorted(range(len(reports)), key=lambda i: (reports[i].time, reports[i].id))
    return PatrolOutput(
        reports=[reports[i] for i in order],
        restrictions=restrictions,
        violations=violations,
        patrols=patrols,
        report_truth=[truth[i] for i in order],
    )
