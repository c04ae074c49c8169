"""Any fire during a local ceasefire window ("window of silence") into or from its sites or sectors.

A window covers its protected sites, its sectors of responsibility, or the whole line, from its
start (inclusive) to its end (exclusive). A round breaks it when it is fired while the window is
open (judged at the launch time; at the impact time when no launch was located) and its launch or
impact lies in the window's area. The finding sits at the launch when the launch is in the area,
else at the impact; its time is the launch time (the moment the window was broken).
"""

from __future__ import annotations

from truceline.adjudicate.base import Context, Rule, register
from truceline.agreement.points import PointZones
from truceline.core import Violation
from truceline.core.enums import ViolationKind


@register
class CeasefireWindow(Rule):
    id = "ceasefire_window"
    version = "1.0.0"
    title = "Fire during a local ceasefire window"

    def apply(self, ctx: Context) -> list[Violation]:
        a = ctx.agreement
        if not a.ceasefire_windows:
            return []
        r = ctx.rounds
        site_ids = [s.id for s in a.protected_sites]
        sector_ids = [s.id for s in a.sectors]
        lz, iz = r.launch_pts.zones, r.impact_pts.zones
        out = []
        for i, inc in enumerate(r.incidents):
            lo, im = r.launch[i], r.impact[i]
            fired = (lo or im).origin_time if (lo or im) else None  # type: ignore[union-attr]
            if fired is None:
                continue
            for w in a.ceasefire_windows:
                if not w.start <= fired < w.end:
                    continue
                sites = {site_ids.index(s) for s in w.sites}
                sectors = {sector_ids.index(s) for s in w.sectors}
                in_l = lo is not None and _in_area(lz, i, sites, sectors, w.whole_line)
                in_i = im is not None and _in_area(iz, i, sites, sectors, w.whole_line)
                if not (in_l or in_i):
                    continue
                ev = lo if in_l else im
                pts = r.launch_pts if in_l else r.impact_pts
                assert ev is not None
                out.append(
                    self.finding(
                        ctx,
                        "fire",
                        f"{w.id}-{inc.id}",
                        time=fired,
                        lon=ev.position.lon_deg,
                        lat=ev.position.lat_deg,
                        sigma_m=float(pts.sigma_km[i] * 1000),
                        confidence=1.0,
                        line_version=ctx.version_id(int(pts.zones.version[i])),
                        incident=inc,
                        event_ids=[e.id for e in (lo, im) if e is not None],
                        attribution=inc.attribution,
                        kind=ViolationKind.EXPLOSION_OUTGOING if in_l else ViolationKind.EXPLOSION_IMPACT,
                        weapon_class=inc.weapon_class,
                        extra={
                            "window_id": w.id,
                            "window_start": w.start.isoformat(),
                            "window_end": w.end.isoformat(),
                            "judged_at": "launch" if lo is not None else "impact (no launch located)",
                        },
                    )
                )
                break  # one finding per round, as the truth counts it
        return out


def _in_area(z: PointZones, i: int, sites: set[int], sectors: set[int], whole_line: bool) -> bool:
    return whole_line or int(z.site[i]) in sites or int(z.sector[i]) in sectors
