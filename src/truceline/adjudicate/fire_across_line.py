"""Fire across the line: a round launched in one party's area lands in the other's.

Judged on launch-impact pairs (an impact alone cannot say where it came from). The finding sits at
the launch, at the launch time; its confidence is P(launch side) x P(impact side) from the two
location errors. It takes the incident's graded attribution (the launch's origin area, set by
fusion only when the launch is clearly one and far enough from the line).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truceline.adjudicate.base import Context, Rule, register
from truceline.core import Violation
from truceline.core.enums import ViolationKind


@register
class FireAcrossLine(Rule):
    id = "fire_across_line"
    version = "1.0.0"
    title = "Fire across the line of contact"

    @dataclass(frozen=True)
    class Params:
        """``min_confidence``: report only when P(both sides as located) reaches it."""

        min_confidence: float = 0.5

    def apply(self, ctx: Context) -> list[Violation]:
        r = ctx.rounds
        ls, is_ = r.launch_pts.zones.side, r.impact_pts.zones.side
        across = r.has_launch & r.has_impact & (ls >= 0) & (is_ >= 0) & (ls != is_)
        conf = r.launch_pts.p_side() * r.impact_pts.p_side()
        out = []
        for i in np.flatnonzero(across & (conf >= self.params.min_confidence)):
            inc, lo, im = r.incidents[i], r.launch[i], r.impact[i]
            assert lo is not None and im is not None
            parties = r.launch_pts.zones.parties
            out.append(
                self.finding(
                    ctx,
                    "round",
                    inc.id,
                    time=lo.origin_time,
                    lon=lo.position.lon_deg,
                    lat=lo.position.lat_deg,
                    sigma_m=float(r.launch_pts.sigma_km[i] * 1000),
                    confidence=float(conf[i]),
                    line_version=ctx.version_id(int(r.launch_pts.zones.version[i])),
                    incident=inc,
                    event_ids=(lo.id, im.id),
                    attribution=inc.attribution,
                    kind=ViolationKind.EXPLOSION_IMPACT,
                    weapon_class=inc.weapon_class,
                    extra={
                        "launch_area": parties[int(ls[i])],
                        "impact_area": parties[int(is_[i])],
                        "launch_distance_km": round(float(r.launch_pts.zones.distance_km[i]), 3),
                        "impact_distance_km": round(float(r.impact_pts.zones.distance_km[i]), 3),
                    },
                )
            )
        return out
