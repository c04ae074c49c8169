"""The day's findings as files GIS tools read: GeoJSON, CSV, GeoParquet and KML.

One flat table of findings (:func:`findings_table`) feeds every format, so the four files carry
the same columns in the same order. Positions are WGS84 longitude/latitude (OGC:CRS84 axis
order). An internal bulletin keeps full precision and the evidence ids; a public one rounds
positions to 0.01 degree (~1 km), drops the location sigma finer than that, and omits the ids of
the evidence (incident, events, observations), keeping a short public reference of each finding.

GeoParquet is written with pyarrow: the geometry as WKB points (shapely) and the GeoParquet 1.0
``geo`` metadata (encoding, geometry types, CRS as PROJJSON, bbox) written by hand, so no
GeoPandas is needed.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from truceline.core import Violation
from truceline.io.geojson import write_features
from truceline.report.text import FAMILY_COLOURS, redact_ids, utc_iso

__all__ = [
    "COLUMNS",
    "PUBLIC_COLUMNS",
    "findings_table",
    "public_ref",
    "write_csv",
    "write_geojson",
    "write_geoparquet",
    "write_kml",
]

#: Columns of the findings table (internal), in order, with their Arrow types.
COLUMNS: dict[str, pa.DataType] = {
    "id": pa.string(),
    "ref": pa.string(),
    "rule_id": pa.string(),
    "family": pa.string(),
    "rule_version": pa.string(),
    "time_utc": pa.string(),
    "report_day": pa.string(),
    "lon": pa.float64(),
    "lat": pa.float64(),
    "sigma_m": pa.float64(),
    "region": pa.string(),
    "sector": pa.string(),
    "violation_kind": pa.string(),
    "weapon_class": pa.string(),
    "attribution_level": pa.string(),
    "attributed_party": pa.string(),
    "attribution_probability": pa.float64(),
    "attribution_evidence": pa.string(),
    "confidence": pa.float64(),
    "status": pa.string(),
    "agreement_id": pa.string(),
    "agreement_version": pa.string(),
    "line_version": pa.string(),
    "incident_id": pa.string(),
    "event_ids": pa.string(),
    "observation_ids": pa.string(),
}
#: Columns a public bulletin omits.
PRIVATE_COLUMNS = ("id", "incident_id", "event_ids", "observation_ids")
#: Columns of the public findings table.
PUBLIC_COLUMNS = {k: v for k, v in COLUMNS.items() if k not in PRIVATE_COLUMNS}
#: Decimals of a public position (0.01 degree, ~1 km).
PUBLIC_DECIMALS = 2
#: A public bulletin gives no location sigma finer than this, m.
PUBLIC_MIN_SIGMA_M = 1000.0


def public_ref(finding_id: str) -> str:
    """A short reference of a finding that reveals none of its evidence ids (``F-`` + 10 hex digits)."""
    return "F-" + hashlib.sha256(finding_id.encode("utf-8")).hexdigest()[:10]


def _sigma(v: Violation) -> float | None:
    u = v.geo_uncertainty
    if u.cov_en_m2 is not None:
        c = np.asarray(u.cov_en_m2, dtype=float)
        return float(np.sqrt(max(np.linalg.eigvalsh(c)[-1], 0.0)))
    return None if u.sigma_m is None else float(u.sigma_m)


def findings_table(
    violations: Sequence[Violation],
    region: Sequence[str],
    sector: Sequence[str],
    report_day: str,
    public: bool = False,
) -> list[dict[str, Any]]:
    """The findings as flat rows (dicts keyed by :data:`COLUMNS` or :data:`PUBLIC_COLUMNS`).

    Parameters
    ----------
    violations : sequence of Violation
        Findings with their current status.
    region, sector : sequence of str
        Region (oblast) and sector of each finding.
    report_day : str
        ISO date of the reporting day.
    public : bool
        Round positions, coarsen sigma, omit and redact evidence ids.
    """
    rows: list[dict[str, Any]] = []
    for v, reg, sec in zip(violations, region, sector, strict=True):
        a = v.attribution
        ids = [*v.event_ids, *v.observation_ids, *([v.incident_id] if v.incident_id else [])]
        evidence = " | ".join(a.evidence)
        lon, lat, sig = v.position.lon_deg, v.position.lat_deg, _sigma(v)
        if public:
            lon, lat = round(lon, PUBLIC_DECIMALS), round(lat, PUBLIC_DECIMALS)
            sig = None if sig is None else max(sig, PUBLIC_MIN_SIGMA_M)
            evidence = redact_ids(evidence, ids)
        row: dict[str, Any] = {
            "id": v.id,
            "ref": public_ref(v.id),
            "rule_id": v.rule_id,
            "family": v.rule_id.split(".", 1)[0],
            "rule_version": v.rule_version,
            "time_utc": utc_iso(v.time),
            "report_day": report_day,
            "lon": lon,
            "lat": lat,
            "sigma_m": None if sig is None else round(sig, 1),
            "region": str(reg),
            "sector": str(sec),
            "violation_kind": v.violation_kind.value if v.violation_kind else "",
            "weapon_class": v.weapon_class.value if v.weapon_class else "",
            "attribution_level": a.level.value,
            "attributed_party": a.party.value if a.party else "",
            "attribution_probability": a.probability,
            "attribution_evidence": evidence,
            "confidence": round(float(v.confidence), 4),
            "status": v.status.value,
            "agreement_id": str(v.rule_parameters.get("agreement_id", "")),
            "agreement_version": str(v.rule_parameters.get("agreement_version", "")),
            "line_version": str(v.rule_parameters.get("line_version", "")),
            "incident_id": v.incident_id or "",
            "event_ids": " ".join(v.event_ids),
            "observation_ids": " ".join(v.observation_ids),
        }
        if public:
            for k in PRIVATE_COLUMNS:
                del row[k]
        rows.append(row)
    return rows


def _columns(public: bool) -> dict[str, pa.DataType]:
    return PUBLIC_COLUMNS if public else COLUMNS


def write_csv(path: Path, rows: Sequence[dict[str, Any]], public: bool = False) -> Path:
    """Write the findings as CSV (UTF-8, header row, ``\\n`` line ends; empty cell for none)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(_columns(public)), lineterminator="\n")
        w.writeheader()
        w.writerows({k: ("" if val is None else val) for k, val in r.items()} for r in rows)
    return path


def write_geojson(path: Path, rows: Sequence[dict[str, Any]], public: bool = False, **members: Any) -> Path:
    """Write the findings as an RFC 7946 FeatureCollection of points (lon/lat, WGS84)."""
    feats = [(shapely.Point(r["lon"], r["lat"]), {k: v for k, v in r.items() if k not in ("lon", "lat")}) for r in rows]
    return write_features(path, feats, precision=PUBLIC_DECIMALS if public else 7, **members)


def _crs84_projjson() -> dict[str, Any]:
    doc: dict[str, Any] = CRS.from_string("OGC:CRS84").to_json_dict()
    return doc


def write_geoparquet(path: Path, rows: Sequence[dict[str, Any]], public: bool = False) -> Path:
    """Write the findings as GeoParquet 1.0: WKB point geometry column ``geometry`` and ``geo`` metadata."""
    cols = _columns(public)
    lon = np.array([r["lon"] for r in rows], dtype=np.float64)
    lat = np.array([r["lat"] for r in rows], dtype=np.float64)
    wkb = shapely.to_wkb(shapely.points(lon, lat), output_dimension=2) if rows else np.empty(0, dtype=object)
    arrays = [pa.array([r[k] for r in rows], type=t) for k, t in cols.items()]
    table = pa.Table.from_arrays([*arrays, pa.array(list(wkb), type=pa.binary())], names=[*cols, "geometry"])
    bbox = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())] if rows else []
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Point"],
                "crs": _crs84_projjson(),
                "edges": "planar",
                **({"bbox": bbox} if bbox else {}),
            }
        },
    }
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = json.dumps(geo).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
    return path


def _kml_colour(hex_rgb: str) -> str:
    """``#rrggbb`` -> KML ``aabbggrr`` (opaque)."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"ff{b}{g}{r}"


def write_kml(path: Path, rows: Sequence[dict[str, Any]], title: str, public: bool = False) -> Path:
    """Write the findings as KML 2.2: one folder per rule family, a point placemark per finding.

    Every column goes to the placemark's ``ExtendedData``; the name is the rule and the time, the
    ``TimeStamp`` the finding's time.
    """
    cols = [k for k in _columns(public) if k not in ("lon", "lat")]
    nd = PUBLIC_DECIMALS if public else 7
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2">',
        "<Document>",
        f"<name>{escape(title)}</name>",
    ]
    families = sorted({r["family"] for r in rows})
    for fam in families:
        colour = _kml_colour(FAMILY_COLOURS.get(fam, "#888888"))
        out.append(
            f'<Style id="{escape(fam)}"><IconStyle><color>{colour}</color><scale>0.6</scale></IconStyle></Style>'
        )
    for fam in families:
        out.append(f"<Folder><name>{escape(fam)}</name>")
        for r in rows:
            if r["family"] != fam:
                continue
            data = "".join(
                f'<Data name="{k}"><value>{escape("" if r[k] is None else str(r[k]))}</value></Data>' for k in cols
            )
            out.append(
                f"<Placemark><name>{escape(r['rule_id'])} {escape(r['time_utc'])}</name>"
                f"<styleUrl>#{escape(fam)}</styleUrl>"
                f"<TimeStamp><when>{escape(r['time_utc'])}</when></TimeStamp>"
                f"<ExtendedData>{data}</ExtendedData>"
                f"<Point><coordinates>{r['lon']:.{nd}f},{r['lat']:.{nd}f}</coordinates></Point></Placemark>"
            )
        out.append("</Folder>")
    out += ["</Document>", "</kml>", ""]
    path.write_text("\n".join(out), encoding="utf-8")
    return path
