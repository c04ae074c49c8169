"""Firing or impacts inside the buffer zone or a disengagement area.

One finding per round: at the launch (``buffer_zone.firing``) when the launch lies in the buffer
or a disengagement area, else at the impact (``buffer_zone.impact``), as the simulator labels its
truth. A lone launch or impact is judged alone. Confidence: P(the point lies within the buffer's
half-width) from its location error (1 inside a disengagement polygon, judged on the best
estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truceline.adjudicate.base import Context, Points, Rule, register
from truceline.core import Violation
from truceline.core.enums import ViolationKind


@register
class BufferZone(Rule):
    id = "buffer_zone"
    version = "1.0.0"
    title = "Fire in the buffer zone or a disengagement area"

    @dataclass(frozen=True)
    class Params:
        min_confidence: float = 0.5

    def _inside(self, ctx: Context, p: Points, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = p.zones
        buf = ctx.agreement.buffer_zone_km
        p_buf = p.p_within(np.nan_to_num(z.distance_km, nan=np.inf), buf) if buf > 0 else np.zeros(len(z))
        p_buf = np.where(z.in_buffer | (buf > 0) & (p_buf >= 0.5), p_buf, 0.0)
        conf = np.where(z.disengagement >= 0, 1.0, p_buf)
        return has & ((z.in_buffer & (buf > 0)) | (z.disengagement >= 0)), conf

    def apply(self, ctx: Context) -> list[Violation]:
        r = ctx.rounds
        l_in, l_conf = self._inside(ctx, r.launch_pts, r.has_launch)
        i_in, i_conf = self._inside(ctx, r.impact_pts, r.has_impact)
        out = []
        for i in np.flatnonzero(l_in | i_in):
            inc = r.incidents[i]
            at_launch = bool(l_in[i] and l_conf[i] >= self.params.min_confidence)
            if not at_launch and not (i_in[i] and i_conf[i] >= self.params.min_confidence):
                continue
            ev = r.launch[i] if at_launch else r.impact[i]
            pts = r.launch_pts if at_launch else r.impact_pts
            assert ev is not None
            dis = int(pts.zones.disengagement[i])
            out.append(
                self.finding(
                    ctx,
                    "firing" if at_launch else "impact",
                    inc.id,
                    time=ev.origin_time,
                    lon=ev.position.lon_deg,
                    lat=ev.position.lat_deg,
                    sigma_m=float(pts.sigma_km[i] * 1000),
                    confidence=float((l_conf if at_launch else i_conf)[i]),
                    line_version=ctx.version_id(int(pts.zones.version[i])),
                    incident=inc,
                    event_ids=[e.id for e in (r.launch[i], r.impact[i]) if e is not None],
                    # Who fired is known only from a launch's origin area (the incident's attribution).
                    attribution=inc.attribution,
                    kind=ViolationKind.EXPLOSION_OUTGOING if at_launch else ViolationKind.EXPLOSION_IMPACT,
                    weapon_class=inc.weapon_class,
                    extra={
                        "buffer_zone_km": ctx.agreement.buffer_zone_km,
                        "distance_km": round(float(pts.zones.distance_km[i]), 3),
                        "disengagement_area": ctx.agreement.disengagement_areas[dis].id if dis >= 0 else None,
                    },
                )
            )
        return out
