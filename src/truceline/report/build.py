"""Build the daily bulletin of one reporting day: read, draw, write, list.

:func:`build_bulletin` reads the day from the store (:mod:`truceline.report.data`), draws the maps
and the trend plot (:mod:`truceline.report.maps`), assembles the sections
(:mod:`truceline.report.sections`, :mod:`truceline.report.monitoring`), renders the HTML and the
PDF (:mod:`truceline.report.render`), writes the findings in GIS formats (:mod:`truceline.report.exports`),
as overlays (:mod:`truceline.report.overlays`) and in the research conventions
(:mod:`truceline.report.research`), and a ``manifest.json`` listing every file with its SHA-256 (what
a ledger signs).

Output folder::

    bulletin.html       self-contained (CSS inline, images as data URIs)
    bulletin.pdf        WeasyPrint, from the same HTML
    findings.geojson    RFC 7946 points
    findings.csv
    findings.parquet    GeoParquet 1.0 (WKB points, OGC:CRS84)
    findings.kml        KML 2.2, a folder per rule family
    findings.kmz        KMZ: the line, the zones, the findings with their 95 % ellipses, styles and icons
    findings.nvg        NVG 2.0 overlay (NATO Vector Graphics): the same layers
    findings-ucdp-ged.csv  the UCDP GED columns and codes (docs/formats.md)
    findings-acled.csv  the ACLED columns and codes
    maps/*.png          overview and regional maps
    trend.png           daily counts over the trend days
    manifest.json       files, sizes, SHA-256, bulletin id, versions
    ledger-proof.json   when the data directory keeps a ledger: every file's inclusion proof (docs/ledger.md)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from truceline import __version__
from truceline.adjudicate.coverage import HEALTH_CODES, SensorNetwork
from truceline.adjudicate.cutoff import CutOff
from truceline.agreement import Agreement
from truceline.core.enums import SensorHealth
from truceline.ledger.publish import log_bulletin
from truceline.report import exports, maps, overlays, research
from truceline.report.data import DayData, load_day, parse_day
from truceline.report.model import Bulletin, Figure, Section, Table
from truceline.report.monitoring import fom_section, notable_section, sensors_section
from truceline.report.render import data_uri, render_html, write_pdf
from truceline.report.sections import (
    View,
    attribution_section,
    claims_section,
    findings_section,
    regions_section,
    summary_section,
    withdrawal_section,
)
from truceline.report.text import DISCLAIMER, date_long, local_time, region_name, utc_iso
from truceline.service.keys import data_dir_of, server_store_home
from truceline.service.ledger_decisions import log_decisions
from truceline.service.redaction import (
    FULL,
    PUBLIC,
    WITHHELD,
    Audience,
    PublicIds,
    finding_precisions,
    public_ids,
    sees_network,
    shown,
)
from truceline.store.base import Store

__all__ = ["OUTPUT_FILES", "BulletinOptions", "BulletinResult", "build_bulletin", "bulletin_id"]

#: Files every bulletin folder holds (besides ``maps/*.png``).
OUTPUT_FILES = (
    "bulletin.html",
    "bulletin.pdf",
    "findings-acled.csv",
    "findings-ucdp-ged.csv",
    "findings.csv",
    "findings.geojson",
    "findings.kml",
    "findings.kmz",
    "findings.nvg",
    "findings.parquet",
    "manifest.json",
    "trend.png",
)
#: Attribution of the packaged oblast layer (see truceline/data/README.md).
OBLAST_ATTRIBUTION = "Oblast boundaries: © Мінрегіон (Minregion), CC BY-SA, simplified by truceline"


@dataclass(frozen=True)
class BulletinOptions:
    """How to build a bulletin.

    Attributes
    ----------
    public : bool
        A public bulletin: positions rounded to 0.01 degree, evidence ids omitted (default: the
        mission-internal bulletin, full precision).
    pdf : bool
        Write the PDF (WeasyPrint); default True.
    trend_days : int
        Reporting days in the trend plot, the day included; default 7.
    max_rows : int
        Rows of a listing table before it is cut (the exports keep every finding); default 25.
    max_region_maps : int
        Regional maps at most (the busiest regions); default 4.
    cutoff : CutOff
        The daily cut-off; default 19:30 Europe/Kyiv.
    """

    public: bool = False
    pdf: bool = True
    trend_days: int = 7
    max_rows: int = 25
    max_region_maps: int = 4
    cutoff: CutOff = field(default_factory=CutOff)


@dataclass
class BulletinResult:
    """What :func:`build_bulletin` made.

    Attributes
    ----------
    bulletin : Bulletin
        The model the HTML was rendered from.
    out : Path
        The output folder.
    files : list of str
        Paths of the files written, relative to ``out`` (the manifest included), sorted.
    manifest : dict
        The manifest's content.
    timings_s : dict of str to float
        Seconds spent per stage (read, maps, html, pdf, exports).
    data : DayData
        The day's data as read.
    maps : list of DrawnMap
        The maps drawn and the layers each drew (also in the manifest, by name).
    """

    bulletin: Bulletin
    out: Path
    files: list[str]
    manifest: dict[str, Any]
    timings_s: dict[str, float]
    data: DayData
    maps: list[maps.DrawnMap] = field(default_factory=list)


def bulletin_id(day: dt.date, public: bool) -> str:
    """``bulletin-2026-09-02-internal`` or ``bulletin-2026-09-02-public``."""
    return f"bulletin-{day.isoformat()}-{'public' if public else 'internal'}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _day_rule(d: DayData) -> str:
    """How a reporting day is cut, in words."""
    hm = f"{d.cutoff.hour:02d}:{d.cutoff.minute:02d}"
    if d.cutoff.offset_s == 0:
        return f"the calendar day from 00:00 to 24:00, {d.cutoff.tz} time"
    return f"from {hm} the previous day to {hm} on the day it is named after, {d.cutoff.tz} time"


def _metadata(d: DayData, bid: str, public: bool) -> list[tuple[str, str]]:
    tz = d.cutoff.tz
    a = d.agreement
    line = f"{d.line.id} (in force from {utc_iso(d.line.valid_from)})" if d.line else "none in force"
    applied = d.agreements_applied
    judged = ", ".join(f"{i} version {v}" for i, v in applied) if applied else "-"
    if applied and applied != [(a.id, a.version)]:
        judged += f" (differs from the agreement of this bulletin, {a.id} version {a.version})"
    cut = f"{d.cutoff.hour:02d}:{d.cutoff.minute:02d}"
    return [
        ("Bulletin", bid),
        (
            "Reporting period",
            f"{local_time(d.start, tz)} to {local_time(d.end, tz)} ({tz}); {utc_iso(d.start)} to {utc_iso(d.end)}",
        ),
        ("Data cut-off", f"{cut} ({tz}), {date_long(d.end.astimezone(d.cutoff.zone))} ({utc_iso(d.end)})"),
        ("Data processed up to", utc_iso(d.processed_until) if d.processed_until else "nothing processed"),
        ("Store", f"observations up to sequence {d.store_seq:,}"),
        ("Generated", utc_iso(d.generated_at)),
        ("Software", f"truceline {__version__}"),
        ("Agreement in force", f"{a.title} ({a.id}, version {a.version})"),
        ("Line of contact", line),
        ("Findings judged under", judged),
        (
            "Handling",
            "Public: positions rounded to 0.01 degree (~1 km), no sensors or sensor health, evidence ids omitted"
            if public
            else "Mission internal: full-precision positions and evidence ids",
        ),
        *([("Transparency log", d.log_position.describe())] if d.log_position else []),
    ]


def _map_points(d: DayData, audience: Audience) -> maps.MapPoints:
    """The findings as the audience may see them drawn: positions at the policy's precision, none withheld."""
    vs = d.violations
    precs = finding_precisions(audience, None, vs)
    keep = [i for i, p in enumerate(precs) if p != WITHHELD]
    pts = [shown(precs[i], vs[i].position.lon_deg, vs[i].position.lat_deg) for i in keep]
    lon = np.array([p[0] for p in pts if p is not None], dtype=np.float64)
    lat = np.array([p[1] for p in pts if p is not None], dtype=np.float64)
    fam = np.array([vs[i].rule_id.split(".", 1)[0] for i in keep], dtype=str)
    return maps.MapPoints(lon=lon, lat=lat, family=fam, region=d.oblast.astype(str)[keep])


def _sensor_points(d: DayData, audience: Audience) -> maps.SensorPoints | None:
    """The sensors and whether each was unavailable at the end of the day; None when the audience may not see them."""
    if not sees_network(audience):
        return None
    lon = np.array([s.position.lon_deg for s in d.sensors], dtype=np.float64)
    lat = np.array([s.position.lat_deg for s in d.sensors], dtype=np.float64)
    down = np.zeros(len(d.sensors), dtype=bool)
    if d.sensors:
        codes = SensorNetwork.from_records(d.sensors, d.status_reports).health_at(d.end - dt.timedelta(microseconds=1))
        down = np.isin(
            codes, [HEALTH_CODES.index(h) for h in (SensorHealth.OUTAGE, SensorHealth.JAMMED, SensorHealth.DESTROYED)]
        )
    return maps.SensorPoints(lon=lon, lat=lat, down=down)


def _maps_section(d: DayData, out: Path, opts: BulletinOptions) -> tuple[Section, list[maps.DrawnMap]]:
    """The maps (and what each drew), as the edition's audience may see them."""
    audience = PUBLIC if opts.public else FULL
    sec = Section("maps", "Maps")
    pts = _map_points(d, audience)
    sec.paragraphs.append(
        "Findings of the reporting period by rule family, on the line of contact in force, the buffer zone, the "
        "areas each party controls as the agreement defines them, the sectors of responsibility and the protected "
        "sites. "
        + DISCLAIMER
        + (" Positions are rounded to 0.01 degree; findings at the Mission's sensors are not drawn."
           if opts.public else "")
    )
    (out / "maps").mkdir(parents=True, exist_ok=True)
    title = f"Findings, {date_long(d.day)} ({len(d.violations):,})"
    drawn = [maps.overview_map(out / "maps" / "overview.png", d.agreement, d.line, pts, title)]
    sec.figures.append(Figure("maps/overview.png", data_uri(drawn[0].path), f"Overview. {title}."))
    if not d.violations:
        sec.paragraphs.append("No findings to map in the reporting period.")
        return sec, drawn
    sensors = _sensor_points(d, audience)
    for m in maps.region_maps(out / "maps", d.agreement, d.line, pts, sensors, opts.max_region_maps):
        note = "; sensors as crosses." if sensors is not None else "."
        sec.figures.append(Figure(f"maps/{m.path.name}", data_uri(m.path), f"{m.caption}{note}"))
        drawn.append(m)
    return sec, drawn


def _trend_section(d: DayData, out: Path) -> Section:
    sec = Section("trend", "Trend")
    days = d.trend_days
    labels = d.cutoff.report_day([v.time for v in d.trend_findings]) if d.trend_findings else np.empty(0, "M8[D]")
    fams = np.array([v.rule_id.split(".", 1)[0] for v in d.trend_findings], dtype=str)
    per: dict[str, list[int]] = {}
    for f in sorted(set(fams.tolist())):
        per[f] = [int(((labels == np.datetime64(day, "D")) & (fams == f)).sum()) for day in days]
    tallies = [d.trend_tallies[day] for day in days]
    p = maps.trend_plot(out / "trend.png", days, tallies, per, [d.has_data(day) for day in days])
    sec.paragraphs.append(
        f"Daily counts over the last {len(days)} reporting days ({_day_rule(d)}), from the store as it stands now."
    )
    sec.figures.append(Figure("trend.png", data_uri(p), "Ceasefire violations and findings per reporting day."))
    total_f = Counter({day: 0 for day in days})
    for vals in per.values():
        for day, n in zip(days, vals, strict=True):
            total_f[day] += n
    sec.tables.append(
        Table(
            "Counts per reporting day",
            ["Reporting day", "Ceasefire violations", "of which explosions", "Findings"],
            [
                [day.isoformat(), t[0], t[1], total_f[day]]
                if d.has_data(day)
                else [day.isoformat(), "no data", "-", "-"]
                for day, t in zip(days, tallies, strict=True)
            ],
            numeric=[False, True, True, True],
        )
    )
    return sec


def _method_section(d: DayData, opts: BulletinOptions) -> Section:
    a = d.agreement
    sec = Section("method", "Method, definitions and sources")
    parties = "; ".join(f"{k}: {v}" for k, v in a.parties.items())
    sec.paragraphs += [
        f"Reporting day: {_day_rule(d)}; the OSCE Special Monitoring Mission's cut-off was 19:30 Kyiv time. "
        "Times in tables are local to that zone.",
        "Ceasefire violations are counted in rounds: each located explosion or firing (an event of the sensor "
        "network), the rounds of a fire mission heard but not located (a ripple's count less the rounds located), "
        "and each violation a patrol reported that no finding cites. Findings are violations of the "
        "agreement's provisions made by its registered rules; a finding and a ceasefire violation are different "
        "units and are never added together. Claims are counted apart and only receive verdicts.",
        f"Parties, as the agreement names them: {parties}. Party codes in tables name the area a point lies in "
        "or the party an attribution grade names; they state no more than the grade.",
        "Regions are the oblasts of Ukraine's first-level administrative layer; points outside it (e.g. beyond "
        "the outline as drawn) are listed as outside the oblast layer.",
        "Sources: " + "; ".join([*a.attribution, OBLAST_ATTRIBUTION]) + ".",
        DISCLAIMER,
    ]
    if opts.public:
        sec.paragraphs.append(
            "This is the public edition: positions are rounded to 0.01 degree (about 1 km), location sigmas finer "
            "than 1 km are not given, and the ids of the evidence (events, incidents, observations, patrols) are "
            "omitted; findings are referred to by their public ids (pub-..., the ids of the public API); findings "
            "of interference with the Mission's sensors are given without a position, and the network's health is "
            "not reported."
        )
    return sec


def build_bulletin(
    store: Store,
    agreement: Agreement,
    day: dt.date | str,
    out: str | Path,
    options: BulletinOptions | None = None,
) -> BulletinResult:
    """Build the daily bulletin of a reporting day into a folder.

    Parameters
    ----------
    store : Store
        The store to read (nothing is written to it).
    agreement : Agreement
        The agreement in force (layers, sectors, parties, withdrawal distances).
    day : date or str
        The reporting day (ISO date); it ends at the cut-off on that date.
    out : str or Path
        Output folder (created; the bulletin's files in it are overwritten, and ``maps/*.png`` of an
        earlier build removed).
    options : BulletinOptions, optional

    Returns
    -------
    BulletinResult

    Raises
    ------
    ValueError
        On a day that is not an ISO date (the message names it) or bad options.
    """
    opts = options or BulletinOptions()
    the_day = parse_day(day)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in (out / "maps").glob("*.png"):  # maps of an earlier build of this folder
        old.unlink()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    log_decisions(store)  # the analysts' decisions so far are in the log this bulletin extends
    d = load_day(store, agreement, the_day, opts.cutoff, opts.trend_days)
    timings["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ids = public_ids(store)
    view = View(d, public=opts.public, max_rows=opts.max_rows, ids=ids)
    maps_sec, drawn = _maps_section(d, out, opts)
    trend_sec = _trend_section(d, out)
    timings["maps"] = time.perf_counter() - t0

    bid = bulletin_id(the_day, opts.public)
    bulletin = _bulletin(d, bid, view, [maps_sec, trend_sec, _method_section(d, opts)])
    t0 = time.perf_counter()
    html = render_html(bulletin)
    (out / "bulletin.html").write_text(html, encoding="utf-8")
    timings["html"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    exported = _write_exports(out, d, bid, opts.public, ids)
    timings["exports"] = time.perf_counter() - t0

    if opts.pdf:
        t0 = time.perf_counter()
        write_pdf(html, out / "bulletin.pdf", out)
        timings["pdf"] = time.perf_counter() - t0

    files = sorted(
        [
            "bulletin.html",
            *(["bulletin.pdf"] if opts.pdf else []),
            *exported,
            "trend.png",
            *(f.path for f in maps_sec.figures),
        ]
    )
    manifest = _manifest(out, d, bid, opts.public, files, drawn)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return BulletinResult(bulletin, out, _published(store, out, bid, opts.public, files), manifest, timings, d, drawn)


def _published(store: Store, out: Path, bid: str, public: bool, files: list[str]) -> list[str]:
    """The bulletin's files, sorted: logged in the transparency log with a proof bundle beside them when the
    store's data directory keeps a log (:func:`truceline.ledger.publish.log_bulletin`)."""
    written = [*files, "manifest.json"]
    proof = log_bulletin(data_dir_of(store) or server_store_home(store), out, bid, public, written)
    return sorted([*written, *([proof.name] if proof else [])])


def _bulletin(d: DayData, bid: str, view: View, drawn: list[Section]) -> Bulletin:
    """The bulletin's model: title, metadata, the sections in reading order, ``drawn`` (maps, trend, method) last."""
    cut = f"{d.cutoff.hour:02d}:{d.cutoff.minute:02d}"
    return Bulletin(
        id=bid,
        title="Daily Report of the Ceasefire Monitoring Mission",
        subtitle=(
            f"Based on information received as of {cut} ({d.cutoff.tz} time), "
            f"{date_long(d.end.astimezone(d.cutoff.zone))}"
        ),
        marking="PUBLIC" if view.public else "MISSION INTERNAL",
        metadata=_metadata(d, bid, view.public),
        sections=[
            summary_section(view),
            regions_section(view),
            findings_section(view),
            attribution_section(view),
            withdrawal_section(view),
            claims_section(view),
            fom_section(view),
            sensors_section(view),
            notable_section(view),
            *drawn,
        ],
        disclaimer=DISCLAIMER,
    )


def _write_exports(out: Path, d: DayData, bid: str, public: bool, ids: PublicIds) -> list[str]:
    """The day's findings as CSV, GeoJSON, GeoParquet, KML, KMZ and NVG overlays and UCDP GED and ACLED
    tables, all from one findings table with one redaction; the names of the files written."""
    day, tz = d.day.isoformat(), d.cutoff.tz
    regions = [region_name(str(r)) for r in d.oblast]
    rows = exports.findings_table(d.violations, regions, d.sector.tolist(), day, public, ids)
    title, precs = f"Findings, {day} ({bid})", [v.time_uncertainty.precision.value for v in d.violations]
    acled = research.acled_table(rows, public, int(d.end.timestamp()), precs, tz)
    written = [
        exports.write_csv(out / "findings.csv", rows, public),
        exports.write_geojson(out / "findings.geojson", rows, public, name=bid, bulletin_id=bid),
        exports.write_geoparquet(out / "findings.parquet", rows, public),
        exports.write_kml(out / "findings.kml", rows, title, public),
        overlays.write_kmz(out / "findings.kmz", d, rows, title, public),
        overlays.write_nvg(out / "findings.nvg", d, rows, title, public),
        research.write_ucdp(out / "findings-ucdp-ged.csv", research.ucdp_table(rows, public, bid, precs, tz), public),
        research.write_acled(out / "findings-acled.csv", acled, public),
    ]
    return [p.name for p in written]


def _manifest(out: Path, d: DayData, bid: str, public: bool, files: list[str],
              drawn: list[maps.DrawnMap]) -> dict[str, Any]:  # fmt: skip
    """What ``manifest.json`` says: the bulletin, its period, versions, counts, every file with its SHA-256,
    and the layers each map drew."""
    a = d.agreement
    return {
        "bulletin_id": bid,
        "day": d.day.isoformat(),
        "period": {"start": utc_iso(d.start), "end": utc_iso(d.end), "tz": d.cutoff.tz},
        "generated_at": utc_iso(d.generated_at),
        "software": {"name": "truceline", "version": __version__},
        "agreement": {"id": a.id, "version": a.version, "line_version": d.line.id if d.line else None},
        "public": public,
        "store_seq": d.store_seq,
        "counts": {
            "ceasefire_violations": d.tally.total,
            "explosions": d.tally.explosions,
            "findings": len(d.violations),
            "claims": len(d.claims),
            "restrictions": len(d.restrictions),
        },
        "files": [{"path": f, "bytes": (out / f).stat().st_size, "sha256": _sha256(out / f)} for f in files],
        "maps": [{"path": str(m.path.relative_to(out)), "layers": m.layer_names} for m in drawn],
    }
