"""The day as overlays for map viewers: ``findings.kmz`` (Google Earth, QGIS) and ``findings.nvg`` (NVG 2.0).

Both carry the same three layers: the line of contact in force (a line), the agreement's zones
(areas each party controls as the agreement defines them, the buffer zone, disengagement areas,
sectors of responsibility, protected sites with their radius) and the findings, one folder or
group per rule family in the family colours: a point per finding with its time, every column of
its findings row as data, and its 95 % location ellipse.

The redaction is the findings table's (:func:`truceline.report.exports.findings_table`): an
overlay draws only what its row holds. Internal: the position at full precision and the ellipse of
the finding's covariance (or the circle of its isotropic sigma). Public: the rounded position and,
for the ellipse, only a circle of the coarse sigma the public row gives (never finer than 1 km)
around it, its vertices rounded to 0.01 degree as well; a finding whose position is withheld (at a
sensor) is drawn not at all, nor its ellipse. The agreement's layers are the agreement's own
(public) data, written to 5 decimals (~1 m).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely

from truceline.agreement.families import FAMILIES
from truceline.core import Violation
from truceline.core.uncertainty import chi2_2dof_scale
from truceline.io import kml, kmz, nvg
from truceline.report.data import DayData
from truceline.report.maps import AREA_TINTS, buffer_zone
from truceline.report.text import DISCLAIMER, FAMILY_COLOURS, utc_iso
from truceline.service.redaction import POSITION_DECIMALS

__all__ = ["CONFIDENCE", "Layer", "agreement_layers", "finding_ellipses", "write_kmz", "write_nvg"]

#: Probability mass inside a drawn ellipse.
CONFIDENCE = 0.95
#: Decimals of the agreement's layers (~1 m).
LAYER_DECIMALS = 5
#: Colours of the agreement's layers.
LINE_COLOUR, BUFFER_COLOUR, SECTOR_COLOUR, SITE_COLOUR, DISENGAGEMENT_COLOUR = (
    "#222222",
    "#f5c542",
    "#2c5f8a",
    "#6a3d9a",
    "#e377c2",
)
_FAMILY_LABELS = {f.id: f.label for f in FAMILIES}

#: One feature of an agreement layer: (name, style id, colour, geometry, data).
Layer = tuple[str, str, str, shapely.Geometry, dict[str, Any]]


def finding_ellipses(
    violations: Sequence[Violation], rows: Sequence[dict[str, Any]], public: bool
) -> list[nvg.Ellipse | None]:
    """The 95 % ellipse of each finding as its row allows: None where the row has no position or no sigma.

    Parameters
    ----------
    violations : sequence of Violation
        The findings, in the order of ``rows``.
    rows : sequence of dict
        Their findings rows (:func:`truceline.report.exports.findings_table`, same edition).
    public : bool
        Public: a circle of the row's (coarse) ``sigma_m`` around the row's (rounded) position,
        nothing of the covariance. Internal: the covariance's ellipse.
    """
    if len(violations) != len(rows):
        raise ValueError(f"{len(violations)} findings but {len(rows)} rows")
    k = chi2_2dof_scale(CONFIDENCE)
    out: list[nvg.Ellipse | None] = []
    for v, r in zip(violations, rows, strict=True):
        if r["lon"] is None or r["lat"] is None:
            out.append(None)
        elif public:
            s = r["sigma_m"]
            out.append(None if s is None else nvg.Ellipse(r["lon"], r["lat"], k * s, k * s, 0.0))
        else:
            u = v.geo_uncertainty
            if u.cov_en_m2 is None and u.sigma_m is None:
                out.append(None)
            else:
                a, b, az = u.ellipse(CONFIDENCE)
                out.append(nvg.Ellipse(r["lon"], r["lat"], a, b, az))
    return out


def _site_disc(lon: float, lat: float, radius_km: float) -> shapely.Polygon:
    return nvg.ellipse_polygon(nvg.Ellipse(lon, lat, radius_km * 1000.0, radius_km * 1000.0), 48)


def agreement_layers(d: DayData) -> tuple[list[Layer], list[Layer]]:
    """The line of contact in force and the agreement's zones, as ``(line, zones)`` features."""
    a, line = d.agreement, d.line
    lines: list[Layer] = []
    zones: list[Layer] = []
    if line is not None:
        info = {"line_version": line.id, "valid_from": utc_iso(line.valid_from), "source": line.source}
        lines.append((f"Line of contact ({line.id})", "line", LINE_COLOUR, line.line, info))
        for k, party in enumerate(a.parties):
            geom = line.areas.get(party)
            if geom is not None and not shapely.is_empty(geom):
                name = f"Area controlled by {party} as the agreement defines it"
                zones.append(
                    (
                        name,
                        f"area-{party}",
                        AREA_TINTS[k % len(AREA_TINTS)],
                        geom,
                        {"kind": "area", "party": party, "line_version": line.id},
                    )
                )
        zones.append(
            (
                f"Buffer zone ({a.buffer_zone_km:g} km)",
                "buffer",
                BUFFER_COLOUR,
                buffer_zone(a, line),
                {"kind": "buffer_zone", "half_width_km": a.buffer_zone_km, "line_version": line.id},
            )
        )
    for z in a.disengagement_areas:
        info = {"kind": "disengagement_area", "id": z.id}
        zones.append((z.name, "disengagement", DISENGAGEMENT_COLOUR, z.geometry, info))
    for s in a.sectors:
        zones.append(
            (
                f"{s.name} ({s.id})",
                "sector",
                SECTOR_COLOUR,
                s.geometry.boundary,
                {"kind": "sector", "id": s.id, "contingent": s.contingent or ""},
            )
        )
    for p in a.protected_sites:
        zones.append(
            (
                p.name,
                "site",
                SITE_COLOUR,
                _site_disc(p.lon, p.lat, p.radius_km),
                {"kind": "protected_site", "id": p.id, "category": p.category, "radius_km": p.radius_km},
            )
        )
    return lines, zones


def _families(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The families of the findings with a position, in the registry's order (others after, by name)."""
    present = {r["family"] for r in rows if r["lon"] is not None and r["lat"] is not None}
    return [f.id for f in FAMILIES if f.id in present] + sorted(present - {f.id for f in FAMILIES})


def _uri(r: dict[str, Any], i: int) -> str:
    return f"urn:truceline:finding:{r.get('ref') or r.get('id') or i}"


def _ellipse_data(r: dict[str, Any], e: nvg.Ellipse) -> dict[str, Any]:
    ref: dict[str, Any] = {k: r[k] for k in ("id", "ref") if k in r}
    return {
        **ref,
        "confidence_level": CONFIDENCE,
        "semi_major_m": round(e.semi_major_m, 1),
        "semi_minor_m": round(e.semi_minor_m, 1),
        "azimuth_deg": round(e.azimuth_deg, 2),
    }


def _round_polygon(poly: shapely.Polygon, decimals: int) -> shapely.Polygon:
    return shapely.set_precision(poly, 10.0**-decimals) if decimals <= POSITION_DECIMALS else poly


def _styles(families: Sequence[str]) -> tuple[list[kml.Style], dict[str, bytes]]:
    styles = [kml.Style(f, FAMILY_COLOURS.get(f, "#888888"), f"icons/{f}.png", 1.5, 0.15) for f in families]
    files = {f"icons/{f}.png": kmz.dot_icon(FAMILY_COLOURS.get(f, "#888888")) for f in families}
    styles += [
        kml.Style("line", LINE_COLOUR, None, 3.0, 0.0),
        kml.Style("buffer", BUFFER_COLOUR, None, 1.0, 0.3),
        kml.Style("disengagement", DISENGAGEMENT_COLOUR, None, 1.0, 0.3),
        kml.Style("sector", SECTOR_COLOUR, None, 1.5, 0.0),
        kml.Style("site", SITE_COLOUR, None, 1.0, 0.3),
    ]
    return styles, files


def write_kmz(path: Path, d: DayData, rows: Sequence[dict[str, Any]], title: str, public: bool = False) -> Path:
    """Write ``findings.kmz``: folders ``Line of contact``, ``Zones`` and one per rule family (a point
    per finding with a ``TimeStamp`` and its row as ``ExtendedData``, and its 95 % ellipse), icons inside.

    Parameters
    ----------
    path : Path
    d : DayData
        The day (its agreement, line and findings, in the order of ``rows``).
    rows : sequence of dict
        The findings rows of the edition (:func:`truceline.report.exports.findings_table`).
    title : str
    public : bool
        The public edition (see the module's redaction).
    """
    decimals = POSITION_DECIMALS if public else 7
    lines, zones = agreement_layers(d)
    party_styles = [kml.Style(s, colour, None, 1.0, 0.35) for _, s, colour, _, _ in zones if s.startswith("area-")]
    folders = [
        kml.Folder("Line of contact", [kml.Placemark(n, g, s, None, i) for n, s, _, g, i in lines], LAYER_DECIMALS),
        kml.Folder("Zones", [kml.Placemark(n, g, s, None, i) for n, s, _, g, i in zones], LAYER_DECIMALS),
    ]
    ellipses = finding_ellipses(d.violations, rows, public)
    families = _families(rows)
    for fam in families:
        marks: list[kml.Placemark] = []
        for r, e in zip(rows, ellipses, strict=True):
            if r["family"] != fam or r["lon"] is None or r["lat"] is None:
                continue
            data = {k: v for k, v in r.items() if k not in ("lon", "lat")}
            marks.append(
                kml.Placemark(
                    f"{r['rule_id']} {r['time_utc']}", shapely.Point(r["lon"], r["lat"]), fam, r["time_utc"], data
                )
            )
            if e is not None:
                poly = _round_polygon(nvg.ellipse_polygon(e), decimals)
                marks.append(
                    kml.Placemark(
                        f"{r['rule_id']} {r['time_utc']} (95 % ellipse)", poly, fam, r["time_utc"], _ellipse_data(r, e)
                    )
                )
        folders.append(kml.Folder(f"Findings: {_FAMILY_LABELS.get(fam, fam)}", marks, decimals))
    styles, files = _styles(families)
    kmz.write_kmz(path, title, folders, [*styles, *party_styles], files, description=DISCLAIMER)
    return path


def _layer_items(features: Sequence[Layer], fill: bool) -> list[nvg.Item]:
    return [
        nvg.Item(
            f"urn:truceline:layer:{sid}:{i}",
            name,
            geom,
            colour,
            fill and geom.geom_type.endswith("Polygon"),
            0.3,
            None,
            info,
        )
        for i, (name, sid, colour, geom, info) in enumerate(features)
    ]


def write_nvg(path: Path, d: DayData, rows: Sequence[dict[str, Any]], title: str, public: bool = False) -> Path:
    """Write ``findings.nvg`` (NVG 2.0): groups ``Line of contact``, ``Zones`` and one per rule family
    (a point per finding with its time and row as ``extendedData``, and an ``ellipse`` of its 95 %
    ellipse as the row allows); same redaction as :func:`write_kmz`."""
    decimals = POSITION_DECIMALS if public else 7
    lines, zones = agreement_layers(d)
    groups = [
        nvg.Group("Line of contact", "urn:truceline:group:line", _layer_items(lines, False), LAYER_DECIMALS),
        nvg.Group("Zones", "urn:truceline:group:zones", _layer_items(zones, True), LAYER_DECIMALS),
    ]
    ellipses = finding_ellipses(d.violations, rows, public)
    for fam in _families(rows):
        colour = FAMILY_COLOURS.get(fam, "#888888")
        items: list[nvg.Item] = []
        for i, (r, e) in enumerate(zip(rows, ellipses, strict=True)):
            if r["family"] != fam or r["lon"] is None or r["lat"] is None:
                continue
            label = f"{r['rule_id']} {r['time_utc']}"
            data = {k: v for k, v in r.items() if k not in ("lon", "lat")}
            items.append(
                nvg.Item(_uri(r, i), label, shapely.Point(r["lon"], r["lat"]), colour, True, 1.0, r["time_utc"], data)
            )
            if e is not None:
                items.append(
                    nvg.Item(
                        _uri(r, i) + ":ellipse95",
                        f"{label} (95 % ellipse)",
                        e,
                        colour,
                        True,
                        0.15,
                        r["time_utc"],
                        _ellipse_data(r, e),
                    )
                )
        groups.append(
            nvg.Group(f"Findings: {_FAMILY_LABELS.get(fam, fam)}", f"urn:truceline:group:{fam}", items, decimals)
        )
    nvg.write_nvg(path, groups, f"{title}. {DISCLAIMER}")
    return path
