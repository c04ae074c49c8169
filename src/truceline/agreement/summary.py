"""Summary figures of an agreement (``truceline agreement show``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely

from truceline.agreement.model import Agreement, LineVersion
from truceline.geo.measure import area_km2, length_km
from truceline.geo.projection import LocalProjection


def _band_km2(version: LineVersion, proj: LocalProjection, km: float, party: str) -> float:
    """Area (km²) of the party's controlled area within ``km`` of the line."""
    line_xy = proj.project_geometry(version.line, max_edge_deg=None)
    band_xy = shapely.buffer(line_xy, km * 1000.0, quad_segs=8)
    band = proj.unproject_geometry(band_xy)
    return area_km2(shapely.intersection(band, version.areas[party]))


def summarize(agreement: Agreement, at: dt.datetime | None = None) -> dict[str, Any]:
    """Figures of the agreement for the line in force at ``at`` (default: the newest version)."""
    version = agreement.line_at(at) if at is not None else agreement.versions[-1]
    proj = agreement.zones(version).geometry.projection
    zones: dict[str, Any] = {}
    bands = {"buffer_zone": agreement.buffer_zone_km} | {
        f"withdrawal_{c}": km for c, km in agreement.withdrawal_km.items()
    }
    for name, km in bands.items():
        per_party = {p: round(_band_km2(version, proj, km, p), 1) for p in agreement.parties}
        zones[name] = {"km_each_side": km, "area_km2": per_party, "total_km2": round(sum(per_party.values()), 1)}
    return {
        "id": agreement.id,
        "title": agreement.title,
        "version": agreement.version,
        "effective_from": agreement.effective_from.isoformat(),
        "parties": [{"id": p, "name": n} for p, n in agreement.parties.items()],
        "line_in_force": version.id,
        "line_length_km": round(length_km(version.line), 1),
        "line_pieces": len(shapely.get_parts(version.line)),
        "controlled_area_km2": {p: round(area_km2(g), 1) for p, g in version.areas.items()},
        "zones": zones,
        "versions": [
            {
                "id": v.id,
                "valid_from": v.valid_from.isoformat(),
                "valid_to": v.valid_to.isoformat() if v.valid_to else None,
                "line_length_km": round(length_km(v.line), 1),
            }
            for v in agreement.versions
        ],
        "protected_sites": [
            {"id": s.id, "name": s.name, "category": s.category, "lon": s.lon, "lat": s.lat, "radius_km": s.radius_km}
            for s in agreement.protected_sites
        ],
        "sectors": [
            {"id": s.id, "name": s.name, "contingent": s.contingent, "area_km2": round(area_km2(s.geometry), 1)}
            for s in agreement.sectors
        ],
        "disengagement_areas": [
            {"id": a.id, "name": a.name, "area_km2": round(area_km2(a.geometry), 1)}
            for a in agreement.disengagement_areas
        ],
        "ceasefire_windows": [
            {
                "id": w.id,
                "name": w.name,
                "start": w.start.isoformat(),
                "end": w.end.isoformat(),
                "sites": list(w.sites),
                "sectors": list(w.sectors),
                "whole_line": w.whole_line,
            }
            for w in agreement.ceasefire_windows
        ],
        "attribution": list(agreement.attribution),
    }
