"""The day's findings in the column conventions of the research datasets: UCDP GED and ACLED.

``findings-ucdp-ged.csv`` has the columns of the UCDP Georeferenced Event Dataset, in its order
(:data:`UCDP_COLUMNS`, as the GED CSV release names them), and ``findings-acled.csv`` those of
ACLED's export (:data:`ACLED_COLUMNS`), each followed by truceline's own columns
(:data:`EXTRA_COLUMNS`). Both are built from the bulletin's findings rows
(:func:`truceline.report.exports.findings_table`), so they carry its redaction: a public file has
the rounded positions, no evidence ids, and no position for a finding at a sensor.

What a finding cannot know stays empty (docs/formats.md, "Overlays and research formats"):
fatalities (UCDP ``deaths_*``, ``best``/``low``/``high``; ACLED ``fatalities``) are empty, never
0 (a 0 would state that nobody died); UCDP's own ids (``id``, ``relid``, conflict, dyad, side ids)
are empty (these are not UCDP events). An actor is named only for a finding attributed at the grade
``party``: origin area and direction of fire are not attributions to a party, and wrong blame is
the worst error the system can make. Precision codes follow the edition: a public position is
rounded to 0.01 degree and its sigma is at least 1 km, so it is never "exact".

Named places come from the row's own position (so from the rounded one in a public file, none for a
withheld one; :mod:`truceline.geo.places`): UCDP ``where_coordinates`` (``Horlivka town``) and ACLED
``location`` (``Horlivka``) name the reference settlement when it lies within 25 km of the position
(UCDP's ``where_prec`` 2, ACLED's ``geo_precision`` 2: "near" it), else stay empty; UCDP
``where_description`` begins with the row's ``place`` text, which states the distance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from truceline.adjudicate.aggregates import OUTSIDE
from truceline.agreement.families import FAMILIES
from truceline.core.enums import TimePrecision
from truceline.core.uncertainty import chi2_2dof_scale
from truceline.geo.places import Place, describe
from truceline.io import csv as csv_io
from truceline.report.text import region_name

__all__ = [
    "ACLED_ACTORS",
    "ACLED_COLUMNS",
    "EXTRA_COLUMNS",
    "UCDP_ACTORS",
    "UCDP_COLUMNS",
    "acled_table",
    "read_acled",
    "read_ucdp",
    "ucdp_table",
    "where_prec",
    "write_acled",
    "write_ucdp",
]

#: The UCDP GED CSV columns, in the release's order.
UCDP_COLUMNS = (
    "id",
    "relid",
    "year",
    "active_year",
    "code_status",
    "type_of_violence",
    "conflict_dset_id",
    "conflict_new_id",
    "conflict_name",
    "dyad_dset_id",
    "dyad_new_id",
    "dyad_name",
    "side_a_dset_id",
    "side_a_new_id",
    "side_a",
    "side_b_dset_id",
    "side_b_new_id",
    "side_b",
    "number_of_sources",
    "source_article",
    "source_office",
    "source_date",
    "source_headline",
    "source_original",
    "where_prec",
    "where_coordinates",
    "where_description",
    "adm_1",
    "adm_2",
    "latitude",
    "longitude",
    "geom_wkt",
    "priogrid_gid",
    "country",
    "country_id",
    "region",
    "event_clarity",
    "date_prec",
    "date_start",
    "date_end",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "best",
    "high",
    "low",
    "gwnoa",
    "gwnob",
)
#: The ACLED export columns, in ACLED's order.
ACLED_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)
#: truceline's columns after the dataset's (``truceline_id`` in the internal edition only).
EXTRA_COLUMNS = (
    "truceline_ref",
    "truceline_id",
    "rule_id",
    "family",
    "violation_kind",
    "weapon_class",
    "attribution_level",
    "status",
    "confidence",
    "sigma_m",
    "report_day",
)
#: Party code -> (UCDP actor name, Gleditsch-Ward country code) of a party's government.
UCDP_ACTORS = {"RU": ("Government of Russia (Soviet Union)", 365), "UA": ("Government of Ukraine", 369)}
#: Party code -> (ACLED actor name, inter code): Russia's forces in Ukraine are "External/Other forces" (8).
ACLED_ACTORS = {"RU": ("Military Forces of Russia (2000-)", 8), "UA": ("Military Forces of Ukraine (2019-)", 1)}
#: UCDP ``date_prec`` and ACLED ``time_precision`` of each time precision.
_DATE_PREC = {"exact": 1, "minute": 1, "hour": 1, "day": 1, "week": 3, "month": 4}
_TIME_PRECISION = {"exact": 1, "minute": 1, "hour": 1, "day": 1, "week": 2, "month": 3}
#: 95 % radius (m) up to which a position is "exact" (UCDP 1) and "within ~25 km" (UCDP 2).
EXACT_M, NEAR_M = 1_000.0, 25_000.0
_SOURCE = "Ceasefire Monitoring Mission"
_FIRE = {f.id for f in FAMILIES if f.fire}
_INT_UCDP = {
    "year",
    "type_of_violence",
    "number_of_sources",
    "where_prec",
    "priogrid_gid",
    "country_id",
    "event_clarity",
    "date_prec",
    "gwnoa",
}
_INT_ACLED = {"year", "time_precision", "inter1", "inter2", "interaction", "iso", "geo_precision", "timestamp"}


def _party(row: dict[str, Any]) -> str | None:
    """The party a finding names: only at the grade ``party``."""
    return row["attributed_party"] or None if row["attribution_level"] == "party" else None


def _adm1(row: dict[str, Any]) -> str:
    """The oblast as UCDP names it (``Donetsk oblast``); empty outside the oblast layer."""
    reg = str(row["region"])
    if reg == region_name(OUTSIDE):
        return ""
    return reg[: -len(" region")] + " oblast" if reg.endswith(" region") else reg


def where_prec(row: dict[str, Any], public: bool) -> int:
    """UCDP ``where_prec`` of a findings row: 1 exact (internal, 95 % radius <= 1 km, or no stated error),
    2 within ~25 km of the point (every public position: rounded to ~1 km, sigma >= 1 km), 5 a larger area,
    4 only the oblast (position withheld), 6 only the country."""
    if row["lon"] is None or row["lat"] is None:
        return 4 if _adm1(row) else 6
    sigma = row["sigma_m"]
    r95 = None if sigma is None else chi2_2dof_scale(0.95) * float(sigma)
    if not public and (r95 is None or r95 <= EXACT_M):
        return 1
    return 2 if r95 is None or r95 <= NEAR_M else 5


def _dates(time_utc: str, precision: str, tz: str) -> tuple[dt.date, dt.date]:
    t = dt.datetime.fromisoformat(time_utc.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))
    width = TimePrecision(precision).resolution_s
    end = t + dt.timedelta(seconds=width) - dt.timedelta(microseconds=1) if width > 0 else t
    return t.date(), end.date()


def _wkt(lon: float, lat: float) -> str:
    """``POINT (lon lat)`` with UCDP's numbers: no trailing ``.0`` (``POINT (39 48.97)``)."""
    return f"POINT ({lon:.15g} {lat:.15g})"


def _priogrid(lon: float, lat: float) -> int:
    """PRIO-GRID cell (0.5 degree, numbered from (-180, -90) row by row, 720 a row)."""
    return int((lat + 90.0) // 0.5) * 720 + int((lon + 180.0) // 0.5) + 1


#: UCDP calls a place of this many inhabitants or more a town (``Horlivka town``), a smaller one a village.
TOWN_POPULATION = 5_000


def _where(row: dict[str, Any]) -> str:
    return "; ".join(str(x) for x in (row.get("place"), row["region"], row["sector"]) if x)


def _near(rows: Sequence[dict[str, Any]]) -> list[Place | None]:
    """Each row's reference settlement when within 25 km of the row's position (as the row gives it), else None."""
    lon = [float("nan") if r["lon"] is None else float(r["lon"]) for r in rows]
    lat = [float("nan") if r["lat"] is None else float(r["lat"]) for r in rows]
    return [p if p is not None and p.distance_km * 1000.0 <= NEAR_M else None for p in describe(lon, lat)]


def _ucdp_place(p: Place | None) -> str:
    """UCDP's ``where_coordinates``: ``Horlivka town``, ``Pisky village``, ``Kyiv city``; empty for none."""
    if p is None:
        return ""
    kind = "city" if p.oblast == "Kyiv City" else "town" if p.population >= TOWN_POPULATION else "village"
    return f"{p.name} {kind}"


def _extra(row: dict[str, Any], public: bool) -> dict[str, Any]:
    out = {"truceline_ref": row["ref"], **({} if public else {"truceline_id": row["id"]})}
    return out | {k: row[k] for k in EXTRA_COLUMNS[2:]}


def _columns(base: Sequence[str], public: bool) -> list[str]:
    return [*base, *(c for c in EXTRA_COLUMNS if not (public and c == "truceline_id"))]


def ucdp_table(
    rows: Sequence[dict[str, Any]], public: bool, source: str, precisions: Sequence[str] | None = None, tz: str = "UTC"
) -> list[dict[str, Any]]:
    """The findings rows as UCDP GED rows (:data:`UCDP_COLUMNS`, then :data:`EXTRA_COLUMNS`).

    Parameters
    ----------
    rows : sequence of dict
        The findings rows of the edition.
    public : bool
        The edition (precision codes, ``truceline_id``).
    source : str
        What ``source_article`` names (the bulletin's id).
    precisions : sequence of str, optional
        Each finding's time precision (:class:`~truceline.core.enums.TimePrecision` values); default exact.
    tz : str
        The zone of the dates (the bulletin's cut-off zone).
    """
    out = []
    near = _near(rows)
    for i, r in enumerate(rows):
        party = _party(r)
        actor, gw = UCDP_ACTORS.get(party or "", ("", None))
        start, end = _dates(r["time_utc"], precisions[i] if precisions else "exact", tz)
        adm1, has_pos = _adm1(r), r["lon"] is not None and r["lat"] is not None
        row = dict.fromkeys(UCDP_COLUMNS, "") | {
            "year": start.year,
            "type_of_violence": 1 if actor else "",
            "side_a": actor,
            "gwnoa": gw or "",
            "number_of_sources": 1,
            "source_article": source,
            "source_office": _SOURCE,
            "source_date": r["report_day"],
            "source_headline": "Daily Report of the Ceasefire Monitoring Mission",
            "source_original": _SOURCE,
            "where_prec": where_prec(r, public),
            "where_coordinates": _ucdp_place(near[i]),
            "where_description": _where(r),
            "adm_1": adm1,
            "country": "Ukraine" if adm1 else "",
            "country_id": 369 if adm1 else "",
            "region": "Europe",
            "event_clarity": 1,
            "date_prec": _DATE_PREC[precisions[i] if precisions else "exact"],
            "date_start": start.isoformat(),
            "date_end": end.isoformat(),
        }
        if has_pos:
            row |= {
                "latitude": r["lat"],
                "longitude": r["lon"],
                "geom_wkt": _wkt(r["lon"], r["lat"]),
                "priogrid_gid": _priogrid(r["lon"], r["lat"]),
            }
        out.append(row | _extra(r, public))
    return out


def _event_type(row: dict[str, Any]) -> tuple[str, str, str]:
    """(disorder_type, event_type, sub_event_type): fire by small arms is an armed clash, other fire
    shelling or a drone strike; a weapon seen in a zone, a restriction or interference a strategic development."""
    if row["family"] not in _FIRE or str(row["rule_id"]).endswith(".sighting"):
        return "Strategic developments", "Strategic developments", "Other"
    if row["violation_kind"] == "drone_strike":
        return "Political violence", "Explosions/Remote violence", "Air/drone strike"
    if row["weapon_class"] in ("small_arms", "light_weapons") or row["violation_kind"] in ("shot", "burst"):
        return "Political violence", "Battles", "Armed clash"
    return "Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack"


def _notes(row: dict[str, Any], party: str | None) -> str:
    what = ", ".join(x for x in (row["violation_kind"], row["weapon_class"]) if x)
    who = f"party {party}" if party else f"{row['attribution_level'].replace('_', ' ')} (no party named)"
    return f"Finding {row['rule_id']}{f' ({what})' if what else ''}; status {row['status']}; attribution: {who}."


def acled_table(
    rows: Sequence[dict[str, Any]],
    public: bool,
    timestamp: int,
    precisions: Sequence[str] | None = None,
    tz: str = "UTC",
) -> list[dict[str, Any]]:
    """The findings rows as ACLED rows (:data:`ACLED_COLUMNS`, then :data:`EXTRA_COLUMNS`).

    Parameters
    ----------
    rows : sequence of dict
        The findings rows of the edition.
    public : bool
        The edition (``geo_precision``, ``truceline_id``).
    timestamp : int
        ACLED's ``timestamp`` (Unix seconds): the bulletin's data cut-off.
    precisions : sequence of str, optional
        Each finding's time precision; default exact.
    tz : str
        The zone of ``event_date``.
    """
    out = []
    near = _near(rows)
    for i, r in enumerate(rows):
        party = _party(r)
        actor, inter = ACLED_ACTORS.get(party or "", ("", None))
        start, _ = _dates(r["time_utc"], precisions[i] if precisions else "exact", tz)
        disorder, etype, sub = _event_type(r)
        adm1 = _adm1(r)
        wp = where_prec(r, public)
        row = dict.fromkeys(ACLED_COLUMNS, "") | {
            "event_id_cnty": r["ref"] or r.get("id", ""),
            "event_date": start.isoformat(),
            "year": start.year,
            "time_precision": _TIME_PRECISION[precisions[i] if precisions else "exact"],
            "disorder_type": disorder,
            "event_type": etype,
            "sub_event_type": sub,
            "actor1": actor,
            "inter1": "" if inter is None else inter,
            "inter2": "" if inter is None else 0,
            "interaction": "" if inter is None else inter * 10,
            "iso": 804 if adm1 else "",
            "region": "Europe",
            "country": "Ukraine" if adm1 else "",
            "admin1": adm1.removesuffix(" oblast"),
            "location": "" if (p := near[i]) is None else p.name,
            "geo_precision": {1: 1, 2: 2}.get(wp, 3),
            "source": _SOURCE,
            "source_scale": "Other",
            "notes": _notes(r, party),
            "timestamp": timestamp,
        }
        if r["lon"] is not None and r["lat"] is not None:
            row |= {"latitude": r["lat"], "longitude": r["lon"]}
        out.append(row | _extra(r, public))
    return out


def write_ucdp(path: Path, rows: Sequence[dict[str, Any]], public: bool) -> Path:
    """Write UCDP GED rows (from :func:`ucdp_table`) as CSV."""
    csv_io.write_rows(path, rows, _columns(UCDP_COLUMNS, public))
    return path


def write_acled(path: Path, rows: Sequence[dict[str, Any]], public: bool) -> Path:
    """Write ACLED rows (from :func:`acled_table`) as CSV."""
    csv_io.write_rows(path, rows, _columns(ACLED_COLUMNS, public))
    return path


def _read(path: Path | str, base: Sequence[str], ints: set[str]) -> list[dict[str, Any]]:
    rows = csv_io.read_rows(path)
    with open(path, encoding="utf-8-sig") as fh:
        header = fh.readline().rstrip("\r\n").split(",")
    if header not in (_columns(base, True), _columns(base, False)):
        want = [*base, *EXTRA_COLUMNS]
        raise ValueError(f"{path}: columns {header} are not the documented ones ({want}, truceline_id internal only)")
    floats = {"latitude", "longitude", "confidence", "sigma_m"}
    out = []
    for r in rows:
        out.append(
            {k: (None if v == "" else int(v) if k in ints else float(v) if k in floats else v) for k, v in r.items()}
        )
    return out


def read_ucdp(path: Path | str) -> list[dict[str, Any]]:
    """Rows of a ``findings-ucdp-ged.csv``: integers and coordinates as numbers, empty cells as None.

    Raises
    ------
    ValueError
        When the header is not :data:`UCDP_COLUMNS` followed by :data:`EXTRA_COLUMNS` (either edition).
    """
    return _read(path, UCDP_COLUMNS, _INT_UCDP)


def read_acled(path: Path | str) -> list[dict[str, Any]]:
    """Rows of a ``findings-acled.csv``: integers and coordinates as numbers, empty cells as None.

    Raises
    ------
    ValueError
        When the header is not :data:`ACLED_COLUMNS` followed by :data:`EXTRA_COLUMNS` (either edition).
    """
    return _read(path, ACLED_COLUMNS, _INT_ACLED)
