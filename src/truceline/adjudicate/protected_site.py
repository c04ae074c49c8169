"""Strikes within a protected site's radius (``protected_site.strike``), at the impact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from truceline.adjudicate.base import Context, Rule, register
from truceline.core import Violation
from truceline.core.enums import ViolationKind


@register
class ProtectedSite(Rule):
    id = "protected_site"
    version = "1.0.0"
    title = "Strike on a protected site"

    @dataclass(frozen=True)
    class Params:
        min_confidence: float = 0.0

    def apply(self, ctx: Context) -> list[Violation]:
        r = ctx.rounds
        z = r.impact_pts.zones
        sites = ctx.agreement.protected_sites
        out = []
        for i in np.flatnonzero(r.has_impact & (z.site >= 0)):
            inc, im = r.incidents[i], r.impact[i]
            assert im is not None
            site = sites[int(z.site[i])]
            d = float(z.site_distance_km[i])
            conf = float(r.impact_pts.p_within(np.array([d]), site.radius_km)[0]) if np.isfinite(d) else 0.5
            if conf < self.params.min_confidence:
                continue
            out.append(
                self.finding(
                    ctx,
                    "strike",
                    inc.id,
                    time=im.origin_time,
                    lon=im.position.lon_deg,
                    lat=im.position.lat_deg,
                    sigma_m=float(r.impact_pts.sigma_km[i] * 1000),
                    confidence=conf,
                    line_version=ctx.version_id(int(z.version[i])),
                    incident=inc,
                    event_ids=[e.id for e in (r.launch[i], im) if e is not None],
                    attribution=inc.attribution,
                    kind=ViolationKind.EXPLOSION_IMPACT,
                    weapon_class=inc.weapon_class,
                    extra={
                        "site_id": site.id,
                        "site_name": site.name,
                        "site_category": site.category,
                        "site_radius_km": site.radius_km,
                        "distance_to_site_km": round(d, 3) if np.isfinite(d) else None,
                    },
                )
            )
        return out
