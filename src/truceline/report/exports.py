"""The day's findings as files GIS tools read: GeoJSON, CSV, GeoParquet and KML.

One flat table of findings (:func:`findings_table`) feeds every format, so the four files carry
the same columns in the same order. Positions are WGS84 longitude/latitude (OGC:CRS84 axis
order). An internal bulletin keeps full precision and the evidence ids; a public one gives what the
redaction policy (:mod:`truceline.service.redaction`) gives the public: positions rounded to 0.01
degree (~1 km), no location sigma finer than 1 km, no evidence ids (incident, events, observations),
and no position at all for a finding that sits at a sensor (interference with monitoring assets:
empty ``lon``/``lat`` in the CSV, left out of the GeoJSON, GeoParquet and KML, which hold points
only; the GeoJSON says how many in ``position_withheld``). Every row carries its finding's public
id (``ref``), the same id the public API gives it, and its ``place`` (``3 km SW of Horlivka (Donetsk
oblast)``, :mod:`truceline.geo.places`) described from the position the row gives (the rounded one in
a public bulletin; empty when withheld), so a place is never finer than the row's position.

This module holds what is the bulletin's own: which findings, which columns, the KML folders per
rule family in the family colours. The formats are written by :mod:`truceline.io`
(:mod:`~truceline.io.csv`, :mod:`~truceline.io.geojson`, :mod:`~truceline.io.geoparquet`,
:mod:`~truceline.io.kml`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from truceline.core import Violation
from truceline.geo.places import describe
from truceline.io import csv as csv_io
from truceline.io import geojson, geoparquet, kml
from truceline.report.text import FAMILY_COLOURS, redact_ids, utc_iso
from truceline.service.redaction import (
    FULL,
    POSITION_DECIMALS,
    PUBLIC,
    PublicIds,
    coarse_sigma,
    finding_precisions,
    shown,
)

__all__ = [
    "COLUMNS",
    "PUBLIC_COLUMNS",
    "findings_table",
    "positioned",
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
    "place": pa.string(),
    "sigma_m": pa.float64(),
    "region": pa.string(),
    "sector": pa.string(),
    "violation_kind": pa.string(),
    "weapon_class": pa.string(),
    "rounds_low": pa.int64(),
    "rounds_best": pa.int64(),
    "rounds_high": pa.int64(),
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
    ids: PublicIds | None = None,
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
        As the redaction policy gives the public: positions rounded (none for a finding at a sensor),
        sigma coarsened, evidence ids omitted and redacted. ``place`` is described from the position
        the row gives (rounded, or none).
    ids : PublicIds, optional
        The store's public ids (the ``ref`` column); without, ``ref`` is empty.
    """
    precs = finding_precisions(PUBLIC if public else FULL, None, violations)
    points = [shown(prec, v.position.lon_deg, v.position.lat_deg) for v, prec in zip(violations, precs, strict=True)]
    places = describe([np.nan if p is None else p[0] for p in points], [np.nan if p is None else p[1] for p in points])
    rows: list[dict[str, Any]] = []
    for v, reg, sec, prec, p, place in zip(violations, region, sector, precs, points, places, strict=True):
        a = v.attribution
        evidence = " | ".join(a.evidence)
        if public:
            cited = [*v.event_ids, *v.observation_ids, *([v.incident_id] if v.incident_id else [])]
            evidence = redact_ids(evidence, cited)
        lon, lat = (None, None) if p is None else p
        sig = coarse_sigma(_sigma(v), prec)
        row: dict[str, Any] = {
            "id": v.id,
            "ref": "" if ids is None else ids(v.id),
            "rule_id": v.rule_id,
            "family": v.rule_id.split(".", 1)[0],
            "rule_version": v.rule_version,
            "time_utc": utc_iso(v.time),
            "report_day": report_day,
            "lon": lon,
            "lat": lat,
            "place": "" if place is None else place.text,
            "sigma_m": None if sig is None else round(sig, 1),
            "region": str(reg),
            "sector": str(sec),
            "violation_kind": v.violation_kind.value if v.violation_kind else "",
            "weapon_class": v.weapon_class.value if v.weapon_class else "",
            "rounds_low": v.rounds.low,
            "rounds_best": v.rounds.best,
            "rounds_high": v.rounds.high,
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


def positioned(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows that have a position (the point formats hold only those)."""
    return [r for r in rows if r["lon"] is not None and r["lat"] is not None]


def write_csv(path: Path, rows: Sequence[dict[str, Any]], public: bool = False) -> Path:
    """Write the findings as CSV (UTF-8, header row, ``\\n`` line ends; empty cell for none), every row."""
    csv_io.write_rows(path, rows, list(_columns(public)))
    return path


def write_geojson(path: Path, rows: Sequence[dict[str, Any]], public: bool = False, **members: Any) -> Path:
    """Write the findings with a position as an RFC 7946 FeatureCollection of points (lon/lat, WGS84);
    ``position_withheld``: how many findings were left out for having none."""
    points = positioned(rows)
    if len(points) < len(rows):
        members = {**members, "position_withheld": len(rows) - len(points)}
    geojson.write_point_rows(path, points, precision=POSITION_DECIMALS if public else 7, **members)
    return path


def write_geoparquet(path: Path, rows: Sequence[dict[str, Any]], public: bool = False) -> Path:
    """Write the findings with a position as GeoParquet 1.0: WKB points in ``geometry``, ``geo`` metadata."""
    geoparquet.write_geoparquet(path, positioned(rows), _columns(public))
    return path


def write_kml(path: Path, rows: Sequence[dict[str, Any]], title: str, public: bool = False) -> Path:
    """Write the findings with a position as KML 2.2: one folder per rule family, a point placemark per finding.

    Every column goes to the placemark's ``ExtendedData``; the name is the rule and the time, the
    ``TimeStamp`` the finding's time; each family's icon has its colour in the bulletin.
    """
    kml.write_kml(
        path,
        positioned(rows),
        title,
        list(_columns(public)),
        group="family",
        label=("rule_id", "time_utc"),
        time="time_utc",
        colours=FAMILY_COLOURS,
        decimals=POSITION_DECIMALS if public else 7,
    )
    return path
