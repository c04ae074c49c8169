"""Heavy weapons inside the withdrawal zone of their class.

Two ways to see one, two sub-rules:

- ``withdrawal_zone.firing``: a located launch on the firing party's own side, within the
  withdrawal distance of the weapon's class (the class from launch-impact pairing; when unknown,
  only within the *smallest* distance of the agreement's classes, where every class is barred);
- ``withdrawal_zone.sighting``: a UAV/imagery/ground sighting of a weapon of a listed class within
  its class's distance of the line in force at the sighting's time.

"Within" means distance <= the class's distance (on the best estimate of the position); the
confidence is P(distance <= limit) from the position's error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truceline.adjudicate.base import DEFAULT_SIGMA_M, Context, Points, Rule, register
from truceline.core import Attribution, Violation
from truceline.core.enums import AttributionLevel, Party, ViolationKind, WeaponClass


@register
class WithdrawalZone(Rule):
    id = "withdrawal_zone"
    version = "1.0.0"
    title = "Heavy weapons inside their withdrawal zone"

    @dataclass(frozen=True)
    class Params:
        min_confidence: float = 0.0

    def apply(self, ctx: Context) -> list[Violation]:
        return self._firings(ctx) + self._sightings(ctx)

    def _firings(self, ctx: Context) -> list[Violation]:
        limits = ctx.agreement.withdrawal_km
        if not limits:
            return []
        r = ctx.rounds
        z = r.launch_pts.zones
        out = []
        for i in np.flatnonzero(r.has_launch & (z.side >= 0)):
            inc, lo = r.incidents[i], r.launch[i]
            assert lo is not None
            cls = inc.weapon_class.value
            limit = limits.get(cls, min(limits.values()) if inc.weapon_class is WeaponClass.UNKNOWN else None)
            if limit is None or not z.distance_km[i] <= limit:
                continue
            conf = float(r.launch_pts.p_within(z.distance_km[i : i + 1], limit)[0])
            if conf < self.params.min_confidence:
                continue
            out.append(
                self.finding(
                    ctx,
                    "firing",
                    inc.id,
                    time=lo.origin_time,
                    lon=lo.position.lon_deg,
                    lat=lo.position.lat_deg,
                    sigma_m=float(r.launch_pts.sigma_km[i] * 1000),
                    confidence=conf,
                    line_version=ctx.version_id(int(z.version[i])),
                    incident=inc,
                    event_ids=[e.id for e in (lo, r.impact[i]) if e is not None],
                    attribution=inc.attribution,
                    kind=ViolationKind.EXPLOSION_OUTGOING,
                    weapon_class=inc.weapon_class,
                    extra={
                        "weapon_class_judged": cls if cls in limits else "any listed class",
                        "withdrawal_km": limit,
                        "distance_km": round(float(z.distance_km[i]), 3),
                    },
                )
            )
        return out

    def _sightings(self, ctx: Context) -> list[Violation]:
        limits = ctx.agreement.withdrawal_km
        ss = [s for s in ctx.sightings if s.weapon_class.value in limits]
        if not ss:
            return []
        sig = [
            s.geo_uncertainty.sigma_m if s.geo_uncertainty.sigma_m is not None else DEFAULT_SIGMA_M / 10 for s in ss
        ]
        p = Points.of(
            ctx.agreement, [s.position.lon_deg for s in ss], [s.position.lat_deg for s in ss], [s.time for s in ss], sig
        )
        z = p.zones
        parties = z.party_of()
        out = []
        for i, s in enumerate(ss):
            limit = limits[s.weapon_class.value]
            if z.side[i] < 0 or not z.distance_km[i] <= limit:
                continue
            owner = s.party_assessed.value if s.party_assessed else parties[i]
            if owner != parties[i]:
                continue  # a weapon in the other party's area is not in its own withdrawal zone
            conf = float(p.p_within(z.distance_km[i : i + 1], limit)[0])
            att = Attribution(
                level=AttributionLevel.ORIGIN_AREA,
                party=Party(owner),
                probability=round(float(p.p_side()[i]), 6),
                evidence=(
                    f"sighting {s.id} ({s.platform.value}{', ' + s.imagery_ref if s.imagery_ref else ''}): "
                    f"{s.weapon_class.value} {z.distance_km[i]:.2f} km inside {owner}'s area",
                ),
            )
            out.append(
                self.finding(
                    ctx,
                    "sighting",
                    s.id,
                    time=s.time,
                    lon=s.position.lon_deg,
                    lat=s.position.lat_deg,
                    sigma_m=float(sig[i]),
                    confidence=conf,
                    line_version=ctx.version_id(int(z.version[i])),
                    observation_ids=(s.id,),
                    attribution=att,
                    weapon_class=s.weapon_class,
                    extra={"withdrawal_km": limit, "distance_km": round(float(z.distance_km[i]), 4)},
                )
            )
        return out
