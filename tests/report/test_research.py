"""The findings as UCDP GED and ACLED tables: columns, actors only at the grade 'party', no fatalities,
precision codes by edition, redaction, and the CSV round trip."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import shapely

from truceline.adjudicate.cutoff import CutOff
from truceline.agreement import Agreement
from truceline.core.uncertainty import chi2_2dof_scale
from truceline.geo.places import describe
from truceline.report import exports, research
from truceline.report.data import DayData, load_day
from truceline.report.text import region_name
from truceline.service.redaction import public_ids
from truceline.store import SQLiteStore

DAY = dt.date(2026, 9, 2)
UCDP_FILE = Path("/work/shared/data/events/ucdp_ged_ukraine_2014-01-22_2022-02-23.csv")
EVIDENCE_ID = re.compile(r"\b(?:ev|inc|vio|obr|sgt|fom|sst|det)-[0-9A-Za-z]")
#: ACLED's export columns, in order (ACLED codebook).
ACLED_ORDER = [
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
]
K95 = chi2_2dof_scale(0.95)


@pytest.fixture(scope="module")
def day(report_world: tuple[Path, Path], report_agreement: Agreement) -> tuple[DayData, Any]:
    store = SQLiteStore(report_world[0])
    try:
        return load_day(store, report_agreement, DAY, CutOff(), 1), public_ids(store)
    finally:
        store.close()


def _rows(day: tuple[DayData, Any], public: bool) -> list[dict[str, Any]]:
    d, ids = day
    regions = [region_name(str(r)) for r in d.oblast]
    return exports.findings_table(d.violations, regions, d.sector.tolist(), DAY.isoformat(), public, ids)


def _tables(day: tuple[DayData, Any], public: bool) -> tuple[list[dict[str, Any]], ...]:
    rows = _rows(day, public)
    precs = [v.time_uncertainty.precision.value for v in day[0].violations]
    ucdp = research.ucdp_table(rows, public, "bulletin-x", precs, "Europe/Kyiv")
    acled = research.acled_table(rows, public, 1_788_000_000, precs, "Europe/Kyiv")
    return rows, ucdp, acled


def test_columns_are_the_datasets_own_then_ours() -> None:
    if UCDP_FILE.is_file():
        with UCDP_FILE.open(encoding="utf-8-sig") as fh:
            assert list(research.UCDP_COLUMNS) == next(csv.reader(fh))
    assert list(research.ACLED_COLUMNS) == ACLED_ORDER
    assert not set(research.EXTRA_COLUMNS) & (set(research.UCDP_COLUMNS) | set(research.ACLED_COLUMNS))


def test_priogrid_cells_are_ucdps() -> None:
    if not UCDP_FILE.is_file():
        pytest.skip("the real UCDP file is not here")
    with UCDP_FILE.open(encoding="utf-8-sig") as fh:
        real = list(csv.DictReader(fh))
    for r in real:
        lon, lat = float(r["longitude"]), float(r["latitude"])
        assert research._priogrid(lon, lat) == int(r["priogrid_gid"]), r["id"]
        p = shapely.from_wkt(r["geom_wkt"])
        assert (p.x, p.y) == pytest.approx((lon, lat), abs=1e-6)
    assert research._wkt(39.0, 48.97) == "POINT (39 48.97)"  # as UCDP writes it


@pytest.mark.parametrize("public", [False, True])
def test_an_actor_only_for_the_grade_party(day: tuple[DayData, Any], public: bool) -> None:
    rows, ucdp, acled = _tables(day, public)
    levels = {r["attribution_level"] for r in rows}
    assert "party" in levels and levels - {"party"}, levels  # the day has both
    graded_not_party = [r for r in rows if r["attribution_level"] != "party" and r["attributed_party"]]
    assert graded_not_party  # origin-area findings name an area's party: that is not blame
    for r, u, a in zip(rows, ucdp, acled, strict=True):
        if r["attribution_level"] == "party":
            name, gw = research.UCDP_ACTORS[r["attributed_party"]]
            assert (u["side_a"], u["gwnoa"], u["type_of_violence"]) == (name, gw, 1)
            actor, inter = research.ACLED_ACTORS[r["attributed_party"]]
            assert (a["actor1"], a["inter1"], a["inter2"], a["interaction"]) == (actor, inter, 0, inter * 10)
        else:
            assert u["side_a"] == u["gwnoa"] == u["type_of_violence"] == "" == a["actor1"] == a["inter1"]
            assert a["interaction"] == "" and not re.search(r"\b(?:RU|UA)\b", a["notes"])
        assert u["side_b"] == u["dyad_name"] == a["actor2"] == a["assoc_actor_1"] == ""


@pytest.mark.parametrize("public", [False, True])
def test_no_fatalities_and_no_ucdp_ids_are_made_up(day: tuple[DayData, Any], public: bool) -> None:
    _, ucdp, acled = _tables(day, public)
    deaths = ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best", "high", "low")
    ids = (
        "id",
        "relid",
        "conflict_dset_id",
        "conflict_new_id",
        "dyad_dset_id",
        "dyad_new_id",
        "side_a_dset_id",
        "side_a_new_id",
        "side_b_dset_id",
        "side_b_new_id",
    )
    assert all(u[k] == "" for u in ucdp for k in (*deaths, *ids))
    assert all(a["fatalities"] == "" for a in acled)


def test_precision_codes_follow_the_edition(day: tuple[DayData, Any]) -> None:
    internal, ucdp_i, acled_i = _tables(day, False)
    public, ucdp_p, acled_p = _tables(day, True)
    for r, u, a in zip(internal, ucdp_i, acled_i, strict=True):
        r95 = None if r["sigma_m"] is None else K95 * r["sigma_m"]
        want = 1 if r95 is None or r95 <= 1000 else 2 if r95 <= 25_000 else 5
        assert u["where_prec"] == want and a["geo_precision"] == {1: 1, 2: 2}.get(want, 3)
        assert u["date_prec"] == 1 and a["time_precision"] == 1
    assert {u["where_prec"] for u in ucdp_i} & {1, 2}
    withheld = [i for i, r in enumerate(public) if r["lon"] is None]
    assert withheld
    for i, (r, u, a) in enumerate(zip(public, ucdp_p, acled_p, strict=True)):
        assert u["where_prec"] != 1  # rounded to ~1 km, sigma >= 1 km: never exact
        if i in withheld:
            assert u["where_prec"] == 4 and u["adm_1"] and a["geo_precision"] == 3
            assert u["latitude"] == u["longitude"] == u["geom_wkt"] == u["priogrid_gid"] == ""
            assert a["latitude"] == a["longitude"] == ""
        else:
            assert u["where_prec"] in (2, 5) and a["geo_precision"] in (2, 3)
            assert u["latitude"] == r["lat"] and round(u["latitude"], 2) == u["latitude"]


def test_dates_follow_the_time_precision() -> None:
    row = {
        "lon": 37.5,
        "lat": 48.0,
        "sigma_m": 100.0,
        "region": "Donetsk region",
        "sector": "S1",
        "ref": "pub-1",
        "time_utc": "2026-09-01T21:30:00Z",
        "report_day": "2026-09-02",
        "attribution_level": "unattributed",
        "attributed_party": "",
        "rule_id": "buffer_zone.firing",
        "family": "buffer_zone",
        "violation_kind": "",
        "weapon_class": "mortar_le_120mm",
        "status": "unverified",
        "confidence": 0.5,
    }
    (u,) = research.ucdp_table([row], True, "b", ["week"], "Europe/Kyiv")
    assert (u["date_prec"], u["date_start"], u["date_end"]) == (3, "2026-09-02", "2026-09-09")  # 00:30 Kyiv + 7 days
    assert (u["adm_1"], u["country"], u["country_id"], u["priogrid_gid"]) == ("Donetsk oblast", "Ukraine", 369, 199156)
    (a,) = research.acled_table([row], True, 0, ["month"], "UTC")
    assert (a["event_date"], a["time_precision"], a["admin1"], a["iso"]) == ("2026-09-01", 3, "Donetsk", 804)
    assert (a["event_type"], a["sub_event_type"]) == ("Explosions/Remote violence", "Shelling/artillery/missile attack")
    sighting = {**row, "rule_id": "withdrawal_zone.sighting", "family": "withdrawal_zone"}
    (s,) = research.acled_table([sighting], True, 0)
    assert (s["disorder_type"], s["event_type"], s["sub_event_type"]) == ("Strategic developments",) * 2 + ("Other",)


@pytest.mark.parametrize("public", [False, True])
def test_csv_round_trip(day: tuple[DayData, Any], public: bool, tmp_path: Path) -> None:
    rows, ucdp, acled = _tables(day, public)
    research.write_ucdp(tmp_path / "u.csv", ucdp, public)
    research.write_acled(tmp_path / "a.csv", acled, public)
    for table, read in (
        (ucdp, research.read_ucdp(tmp_path / "u.csv")),
        (acled, research.read_acled(tmp_path / "a.csv")),
    ):
        assert len(read) == len(table) == len(rows)
        for want, got in zip(table, read, strict=True):
            assert list(got) == list(want)
            assert got == {k: None if v == "" else v for k, v in want.items()}
    text = (tmp_path / "u.csv").read_text(encoding="utf-8") + (tmp_path / "a.csv").read_text(encoding="utf-8")
    if public:
        assert "truceline_id" not in text and not EVIDENCE_ID.search(text)
    else:
        assert "truceline_id" in text
    (tmp_path / "bad.csv").write_text("id,year\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not the documented ones"):
        research.read_ucdp(tmp_path / "bad.csv")


@pytest.mark.parametrize("public", [False, True])
def test_places_name_the_settlement_near_the_rows_position(day: tuple[DayData, Any], public: bool) -> None:
    rows, ucdp, acled = _tables(day, public)
    named = 0
    for r, u, a in zip(rows, ucdp, acled, strict=True):
        p = None if r["lon"] is None else describe(r["lon"], r["lat"])  # the row's (rounded) position
        assert r["place"] == ("" if p is None else p.text)
        if p is None or p.distance_km > 25.0:
            assert u["where_coordinates"] == "" and a["location"] == ""
            continue
        named += 1
        kind = "town" if p.population >= research.TOWN_POPULATION else "village"
        assert u["where_coordinates"] == f"{p.name} {kind}" and a["location"] == p.name
        assert u["where_description"].startswith(p.text + "; ")
    assert named


def test_ucdp_names_places_as_ucdp_does() -> None:
    p = describe(37.56779, 48.73106)
    assert p is not None and research._ucdp_place(p) == "Kramatorsk town"
    kyiv = describe(30.5238, 50.45466)
    assert kyiv is not None and research._ucdp_place(kyiv) == "Kyiv city" and research._ucdp_place(None) == ""
