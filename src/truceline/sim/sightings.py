"""UAV sightings of heavy weapons, inside and outside their class's withdrawal zone.

Sightings are a Poisson process (``sightings_per_day``). Each is of a class that the agreement
gives a withdrawal distance ``W`` (weighted towards artillery, MLRS and tanks); with probability
``in_zone_share`` the weapon stands inside its zone on its own side (``0.2-0.9 W`` from the line),
otherwise outside it (``1.1-2 W``). The labels stay unambiguous: a true position is kept only when
its distance to the line in force is at least :func:`margin_km` away from ``W``. The weapon
belongs to the party controlling its place; the observed position is the true one plus
``N(0, position_sigma_m)`` per axis. Each in-zone sighting is a true ``withdrawal_zone`` violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from truceline.core.enums import Party, SightingPlatform, WeaponClass
from truceline.core.observations import Sighting
from truceline.core.uncertainty import CountRange, GeoUncertainty
from truceline.sim.context import World
from truceline.sim.observers import DAY_S, position, sample_front
from truceline.sim.scenario import Uav
from truceline.sim.truth import TruthViolation
from truceline.sim.zones import zones_at

#: Relative frequency of each class among sightings (classes the agreement lists but this table
#: does not get :data:`OTHER_WEIGHT`).
CLASS_WEIGHTS: dict[str, float] = {
    WeaponClass.ARTILLERY_GE_100MM: 0.35,
    WeaponClass.MLRS: 0.15,
    WeaponClass.TANK: 0.2,
    WeaponClass.MORTAR_LE_120MM: 0.1,
    WeaponClass.ARTILLERY_LT_100MM: 0.08,
    WeaponClass.HEAVY_MLRS: 0.05,
    WeaponClass.TACTICAL_MISSILE: 0.02,
}
OTHER_WEIGHT = 0.05
#: Distance from the line as a fraction of the withdrawal distance, inside and outside the zone.
IN_ZONE = (0.2, 0.9)
OUT_OF_ZONE = (1.1, 2.0)
#: Rounds of candidate positions tried before a sighting is given up.
TRIES = 8


def margin_km(withdrawal_km: float, sigma_m: float) -> float:
    """Least distance (km) between a true position and its withdrawal line: 5 % or 5 sigma."""
    return max(0.05 * withdrawal_km, 5.0 * sigma_m / 1000.0)


@dataclass
class SightingTruth:
    """Where a sighted weapon really was, and whether that breaks the agreement."""

    sighting_id: str
    t_s: float
    x: float
    y: float
    lon: float
    lat: float
    weapon_class: str
    party: str
    in_zone: bool
    distance_km: float


@dataclass
class SightingOutput:
    """UAV sightings and the true withdrawal-zone violations among them."""

    sightings: list[Sighting]
    violations: list[TruthViolation]
    truth: list[SightingTruth] = field(default_factory=list)

    @property
    def true_positions(self) -> list[tuple[float, float]]:
        """True (lon, lat) of each sighting, in the order of ``sightings``."""
        return [(t.lon, t.lat) for t in self.truth]


def _classes(world: World) -> tuple[list[str], np.ndarray]:
    classes = [c for c, km in world.agreement.withdrawal_km.items() if km > 0]
    w = np.array([CLASS_WEIGHTS.get(c, OTHER_WEIGHT) for c in classes])
    return classes, w / w.sum() if classes else w


def _place(
    world: World,
    cfg: Uav,
    km: np.ndarray,
    inside: np.ndarray,
    t: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True positions (x, y), party and distance for each wanted sighting; NaN where none was found."""
    n = km.size
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    party = np.full(n, None, dtype=object)
    dist = np.full(n, np.nan)
    todo = np.arange(n)
    for _ in range(TRIES):
        if not todo.size:
            break
        k = 4
        idx = np.repeat(todo, k)
        p, nrm = sample_front(world, idx.size, rng)
        if not len(p):
            break
        lo = np.where(inside[idx], IN_ZONE[0], OUT_OF_ZONE[0])
        hi = np.where(inside[idx], IN_ZONE[1], OUT_OF_ZONE[1])
        off = rng.uniform(lo, hi) * km[idx] * 1000.0 * rng.choice([-1.0, 1.0], idx.size)
        cx, cy = p[:, 0] + nrm[:, 0] * off, p[:, 1] + nrm[:, 1] * off
        z = zones_at(world, cx, cy, t[idx])
        cp = z.party_of()
        d = z.distance_km
        m = np.array([margin_km(w, cfg.position_sigma_m) for w in km[idx]])
        ok = (cp != None) & np.where(inside[idx], d <= km[idx] - m, d >= km[idx] + m)  # noqa: E711
        for j in np.flatnonzero(ok):
            i = idx[j]
            if np.isnan(x[i]):
                x[i], y[i], party[i], dist[i] = cx[j], cy[j], cp[j], d[j]
        todo = todo[np.isnan(x[todo])]
    return x, y, party, dist


def simulate_sightings(world: World, cfg: Uav, rng: np.random.Generator) -> SightingOutput:
    """UAV sightings of heavy weapons and the withdrawal-zone violations among them.

    Parameters
    ----------
    world : World
    cfg : Uav
        The scenario's ``uav`` section.
    rng : numpy Generator
        The only source of randomness.

    Returns
    -------
    SightingOutput
        Sightings sorted by time; one ``withdrawal_zone`` truth violation per in-zone sighting;
        ``truth`` (also ``true_positions``) holds each sighting's true place and label. A wanted
        sighting for which no place with a clear label is found near the front is left out.
    """
    classes, weights = _classes(world)
    n = int(rng.poisson(cfg.sightings_per_day * world.duration_s / DAY_S))
    if n == 0 or not classes:
        return SightingOutput([], [], [])
    cls = rng.choice(len(classes), size=n, p=weights)
    km = np.array([world.agreement.withdrawal_km[classes[c]] for c in cls])
    inside = rng.uniform(0.0, 1.0, n) < cfg.in_zone_share
    t = np.sort(rng.uniform(0.0, world.duration_s, n))
    count = 1 + rng.poisson(0.8, n)
    x, y, party, dist = _place(world, cfg, km, inside, t, rng)
    err = rng.normal(0.0, cfg.position_sigma_m, (n, 2))
    lon, lat = world.to_lonlat(x, y)
    olon, olat = world.to_lonlat(x + err[:, 0], y + err[:, 1])
    out = SightingOutput([], [], [])
    for i in np.flatnonzero(~np.isnan(x)):
        k = len(out.sightings) + 1
        sid = f"sgt-{k:05d}"
        wclass = WeaponClass(classes[cls[i]])
        out.sightings.append(
            Sighting(
                id=sid,
                platform=SightingPlatform.UAV,
                position=position(olon[i], olat[i]),
                geo_uncertainty=GeoUncertainty.isotropic(float(cfg.position_sigma_m)),
                time=world.time(float(t[i])),
                weapon_class=wclass,
                count=CountRange.exact(int(count[i])),
                party_assessed=Party(party[i]),
                imagery_ref=f"UAV-IMG-{k:05d}",
                notes=f"{int(count[i])} x {wclass.value.replace('_', ' ')}",
            )
        )
        out.truth.append(
            SightingTruth(
                sighting_id=sid,
                t_s=float(t[i]),
                x=float(x[i]),
                y=float(y[i]),
                lon=float(lon[i]),
                lat=float(lat[i]),
                weapon_class=wclass.value,
                party=str(party[i]),
                in_zone=bool(inside[i]),
                distance_km=float(dist[i]),
            )
        )
        if inside[i]:
            out.violations.append(
                TruthViolation(
                    id=f"T-V-withdrawal_zone-uav-{k:05d}",
                    family="withdrawal_zone",
                    party=str(party[i]),
                    t_s=float(t[i]),
                    lon=float(lon[i]),
                    lat=float(lat[i]),
                    source_ids=[sid],
                )
            )
    return out
