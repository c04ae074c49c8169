"""Aggregates of findings: reporting-day cut-off, oblast and sector lookup, grouping, outputs."""

from __future__ import annotations

import datetime as dt
import io
import json
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely

from truceline.adjudicate.aggregates import (
    DEFAULT_KEYS,
    KEYS,
    AggregateTable,
    CutOff,
    aggregate,
    oblast_names,
    oblast_of,
)
from truceline.agreement import Agreement, load_agreement
from truceline.agreement import example_path as agreement_example_path
from truceline.core import (
    Attribution,
    AttributionLevel,
    Party,
    Position,
    Provenance,
    VerificationStatus,
    Violation,
    ViolationKind,
    WeaponClass,
)
from truceline.geo.errors import InvalidCoordinateError

UTC = dt.UTC

#: Places (lon, lat).
DONETSK_CITY = (37.80, 48.00)  # Donetsk Oblast, in no sector of the default agreement
SIMFEROPOL = (34.10, 44.95)  # Autonomous Republic of Crimea
SEVASTOPOL = (33.52, 44.60)  # Sevastopol City
ROSTOV = (39.72, 47.23)  # Russia
BELGOROD = (36.59, 50.60)  # Russia
KYIV = (30.52, 50.45)  # Kyiv City
#: Points inside the default agreement's sectors (their representative points, rounded).
IN_SECTOR = {
    "S1-KHE": (32.605, 46.678),
    "S2-ZAP": (34.570, 47.309),
    "S3-DON-S": (36.382, 47.703),
    "S4-DON-N": (37.312, 48.309),
    "S5-KHA": (37.824, 49.082),
    "S6-NORTH": (35.126, 50.916),
}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def make_violation(
    n: int,
    time: dt.datetime,
    where: tuple[float, float] = DONETSK_CITY,
    rule_id: str = "fire.impact_across_line",
    kind: ViolationKind | None = ViolationKind.EXPLOSION_IMPACT,
    weapon: WeaponClass | None = None,
    level: AttributionLevel = AttributionLevel.UNATTRIBUTED,
    party: Party | None = None,
    status: VerificationStatus = VerificationStatus.UNVERIFIED,
) -> Violation:
    """A valid finding with the fields aggregates read; everything else fixed."""
    evidence = ("evt-0000: origin ellipse inside one side",) if level is not AttributionLevel.UNATTRIBUTED else ()
    return Violation(
        id=f"vio-{n:04d}",
        rule_id=rule_id,
        rule_version="1",
        time=time,
        position=Position(lon_deg=where[0], lat_deg=where[1]),
        violation_kind=kind,
        weapon_class=weapon,
        event_ids=(f"evt-{n:04d}",),
        attribution=Attribution(level=level, party=party, evidence=evidence),
        confidence=0.9,
        status=status,
        provenance=Provenance(
            algorithm=f"adjudicate.{rule_id.split('.')[0]}",
            algorithm_version="0.1.0",
            inputs=(f"evt-{n:04d}",),
            created_at=time + dt.timedelta(minutes=5),
        ),
    )


@pytest.fixture(scope="module")
def default_agreement() -> Agreement:
    return load_agreement(agreement_example_path("default"))


# ------------------------------------------------------------------------------------ cut-off
def days(cut: CutOff, *times: dt.datetime) -> list[str]:
    return [str(d) for d in cut.report_day(list(times)).astype(str)]


def test_cutoff_defaults_are_the_osce_ones() -> None:
    cut = CutOff()
    assert (cut.hour, cut.minute, cut.tz) == (19, 30, "Europe/Kyiv")
    assert cut.zone == ZoneInfo("Europe/Kyiv")


def test_issue_example_evening_counts_on_the_next_day() -> None:
    # 17:00Z on 2 September 2026 is 20:00 EEST: after the 19:30 cut-off.
    assert days(CutOff(), utc(2026, 9, 2, 17, 0)) == ["2026-09-03"]


def test_summer_edge_eest_utc_plus_3() -> None:
    # 19:29:59 EEST = 16:29:59Z stays on the day; 19:30:00 EEST = 16:30:00Z opens the next.
    cut = CutOff()
    assert days(cut, utc(2026, 7, 15, 16, 29, 59), utc(2026, 7, 15, 16, 30, 0)) == ["2026-07-15", "2026-07-16"]
    # the last microsecond before the cut-off is still on the day
    assert days(cut, utc(2026, 7, 15, 16, 29, 59) + dt.timedelta(microseconds=999_999)) == ["2026-07-15"]


def test_winter_edge_eet_utc_plus_2() -> None:
    cut = CutOff()
    assert days(cut, utc(2026, 1, 15, 17, 29, 59), utc(2026, 1, 15, 17, 30, 0)) == ["2026-01-15", "2026-01-16"]
    # 16:30Z is 18:30 EET in winter: before the cut-off, unlike in summer
    assert days(cut, utc(2026, 1, 15, 16, 30)) == ["2026-01-15"]


def test_aware_times_in_other_offsets_are_the_same_instants() -> None:
    kyiv_summer = dt.timezone(dt.timedelta(hours=3))
    cut = CutOff()
    t = dt.datetime(2026, 9, 2, 19, 30, tzinfo=kyiv_summer)
    assert days(cut, t, t - dt.timedelta(seconds=1)) == ["2026-09-03", "2026-09-02"]
    assert days(cut, t.astimezone(ZoneInfo("America/New_York"))) == ["2026-09-03"]


def test_spring_dst_night_day_is_23_hours() -> None:
    # Summer time starts 2026-03-29 at 01:00Z (03:00 EET -> 04:00 EEST).
    cut = CutOff()
    start, end = cut.period("2026-03-29")
    assert start == utc(2026, 3, 28, 17, 30)  # 19:30 EET
    assert end == utc(2026, 3, 29, 16, 30)  # 19:30 EEST
    assert end - start == dt.timedelta(hours=23)
    got = days(
        cut,
        utc(2026, 3, 28, 17, 29, 59),
        utc(2026, 3, 28, 17, 30, 0),
        utc(2026, 3, 29, 0, 59, 59),  # 02:59:59 EET, just before the change
        utc(2026, 3, 29, 1, 0, 0),  # 04:00 EEST, just after
        utc(2026, 3, 29, 16, 29, 59),
        utc(2026, 3, 29, 16, 30, 0),
    )
    assert got == ["2026-03-28", "2026-03-29", "2026-03-29", "2026-03-29", "2026-03-29", "2026-03-30"]


def test_autumn_dst_night_day_is_25_hours() -> None:
    # Summer time ends 2026-10-25 at 01:00Z (04:00 EEST -> 03:00 EET); 03:30 local happens twice.
    cut = CutOff()
    start, end = cut.period(dt.date(2026, 10, 25))
    assert start == utc(2026, 10, 24, 16, 30)  # 19:30 EEST
    assert end == utc(2026, 10, 25, 17, 30)  # 19:30 EET
    assert end - start == dt.timedelta(hours=25)
    got = days(
        cut,
        utc(2026, 10, 24, 16, 29, 59),
        utc(2026, 10, 24, 16, 30, 0),
        utc(2026, 10, 25, 0, 30),  # 03:30 EEST
        utc(2026, 10, 25, 1, 30),  # 03:30 EET, the repeated hour
        utc(2026, 10, 25, 16, 30),  # 18:30 EET: before the cut-off now (it would be 19:30 EEST)
        utc(2026, 10, 25, 17, 29, 59),
        utc(2026, 10, 25, 17, 30, 0),
    )
    assert got == [
        "2026-10-24",
        "2026-10-25",
        "2026-10-25",
        "2026-10-25",
        "2026-10-25",
        "2026-10-25",
        "2026-10-26",
    ]


def test_custom_cutoff_midnight_utc_is_the_calendar_date() -> None:
    cut = CutOff(hour=0, minute=0, tz="UTC")
    got = days(cut, utc(2026, 9, 2, 0, 0), utc(2026, 9, 2, 23, 59, 59), utc(2026, 9, 3, 0, 0))
    assert got == ["2026-09-02", "2026-09-02", "2026-09-03"]
    assert cut.period("2026-09-02") == (utc(2026, 9, 2), utc(2026, 9, 3))


def test_custom_cutoff_morning_is_named_after_its_end() -> None:
    cut = CutOff(hour=6, minute=0, tz="UTC")
    assert days(cut, utc(2026, 9, 2, 5, 59, 59), utc(2026, 9, 2, 6, 0)) == ["2026-09-02", "2026-09-03"]
    assert cut.period("2026-09-03") == (utc(2026, 9, 2, 6), utc(2026, 9, 3, 6))


def test_report_day_matches_zoneinfo_over_three_years() -> None:
    # Every 17 minutes from 2025 to 2027 (crosses six DST changes), against per-element zoneinfo.
    times: np.ndarray[Any, np.dtype[np.datetime64]] = np.arange(
        np.datetime64("2025-01-01T00:00", "s"), np.datetime64("2028-01-01T00:00", "s"), np.timedelta64(17 * 60, "s")
    )
    cut = CutOff()
    got = cut.report_day(times)
    zone = ZoneInfo("Europe/Kyiv")
    want = [
        (t.replace(tzinfo=UTC).astimezone(zone) - dt.timedelta(hours=19, minutes=30)).date() + dt.timedelta(days=1)
        for t in times.astype("datetime64[s]").tolist()
    ]
    assert got.dtype == np.dtype("datetime64[D]")
    assert got.tolist() == want


def test_every_time_lies_in_the_period_of_its_day() -> None:
    cut = CutOff()
    times: list[dt.datetime] = [utc(2026, 3, 29, 0) + dt.timedelta(minutes=37 * k) for k in range(0, 24 * 60 * 3 // 37)]
    times += [utc(2026, 10, 24, 12) + dt.timedelta(minutes=29 * k) for k in range(0, 24 * 60 * 3 // 29)]
    for t, d in zip(times, cut.report_day(times).tolist(), strict=True):
        start, end = cut.period(d)
        assert start <= t < end


def test_report_day_inputs() -> None:
    cut = CutOff()
    assert cut.report_day(utc(2026, 9, 2, 17)).tolist() == [dt.date(2026, 9, 3)]
    arr = np.array(["2026-09-02T16:29:59", "2026-09-02T16:30:00"], dtype="datetime64[s]")
    assert cut.report_day(arr).astype(str).tolist() == ["2026-09-02", "2026-09-03"]
    assert cut.report_day([]).size == 0
    with pytest.raises(ValueError, match=r"times\[1\]"):
        cut.report_day([utc(2026, 9, 2), dt.datetime(2026, 9, 2)])
    with pytest.raises(ValueError, match=r"times\[0\]"):
        cut.report_day(["2026-09-02"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hour": 24}, "hour"),
        ({"hour": -1}, "hour"),
        ({"hour": 19.5}, "hour"),
        ({"hour": True}, "hour"),
        ({"minute": 60}, "minute"),
        ({"minute": "30"}, "minute"),
        ({"tz": "Europe/Kiyv"}, "tz"),
        ({"tz": ""}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
    ],
)
def test_cutoff_validation_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=rf"cutoff\.{field}"):
        CutOff(**kwargs)


# ------------------------------------------------------------------------------------ oblasts
def test_oblast_of_known_places() -> None:
    places = [DONETSK_CITY, SIMFEROPOL, SEVASTOPOL, ROSTOV, BELGOROD, KYIV]
    lon, lat = zip(*places, strict=True)
    got = oblast_of(lon, lat).tolist()
    assert got == [
        "Donetsk Oblast",
        "Autonomous Republic of Crimea",
        "Sevastopol City",
        "outside",
        "outside",
        "Kyiv City",
    ]
    assert oblast_of(*SIMFEROPOL, name="name_uk").tolist() == ["Автономна Республіка Крим"]
    assert oblast_of(*DONETSK_CITY, name="iso_3166_2").tolist() == ["UA-14"]
    assert oblast_of(*ROSTOV, name="iso_3166_2").tolist() == ["outside"]


def test_oblast_of_point_on_a_shared_border_gets_one_of_the_two() -> None:
    layer = json.loads(files("truceline").joinpath("data", "ua_oblasts.geojson").read_text(encoding="utf-8"))
    geoms = {f["properties"]["name"]: shapely.geometry.shape(f["geometry"]) for f in layer["features"]}
    border = shapely.intersection(geoms["Donetsk Oblast"].boundary, geoms["Luhansk Oblast"].boundary)
    x, y = shapely.get_coordinates(border)[3]
    assert oblast_of(x, y).tolist() == ["Luhansk Oblast"]  # the lower ISO code (UA-09 < UA-14) wins


def test_oblast_of_rejects_bad_coordinates() -> None:
    with pytest.raises(InvalidCoordinateError):
        oblast_of([37.8, float("nan")], [48.0, 48.0])
    with pytest.raises(ValueError, match="name"):
        oblast_of(37.8, 48.0, name="name_fr")


def test_packaged_layer() -> None:
    res = files("truceline").joinpath("data", "ua_oblasts.geojson")
    text = res.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 400_000
    doc = json.loads(text)
    assert "Мінрегіон" in doc["attribution"] and "CC BY-SA" in doc["license"]
    names = oblast_names()
    assert len(names) == len(set(names)) == 27
    assert sum(n.endswith(" Oblast") for n in names) == 24
    assert {"Autonomous Republic of Crimea", "Sevastopol City", "Kyiv City"} <= set(names)
    assert len(set(oblast_names("iso_3166_2"))) == 27
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in doc["features"]])
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    assert Path(str(files("truceline").joinpath("data", "README.md"))).is_file()


# -------------------------------------------------------------------------------- aggregation
T0 = utc(2026, 9, 2, 12, 0)  # 15:00 EEST: reporting day 2026-09-02
T1 = utc(2026, 9, 2, 17, 0)  # 20:00 EEST: reporting day 2026-09-03


@pytest.fixture()
def findings() -> list[Violation]:
    """Eight hand-made findings with known counts per key."""
    rf = (AttributionLevel.PARTY, Party.RUSSIA)
    uo = (AttributionLevel.ORIGIN_AREA, Party.UKRAINE)
    un = (AttributionLevel.UNATTRIBUTED, None)
    spec: list[tuple[dt.datetime, tuple[float, float], str, ViolationKind | None, tuple[Any, Any], str]] = [
        (T0, DONETSK_CITY, "fire.impact_across_line", ViolationKind.EXPLOSION_IMPACT, un, "unverified"),
        (T0, DONETSK_CITY, "fire.impact_across_line", ViolationKind.EXPLOSION_IMPACT, rf, "verified"),
        (T0, SIMFEROPOL, "fire.impact_across_line", ViolationKind.BURST, rf, "verified"),
        (T0, ROSTOV, "withdrawal.heavy_weapon_in_zone", None, un, "corroborated"),
        (T1, DONETSK_CITY, "fire.impact_across_line", ViolationKind.EXPLOSION_IMPACT, uo, "corroborated"),
        (T1, DONETSK_CITY, "fire.outgoing_from_buffer", ViolationKind.EXPLOSION_OUTGOING, uo, "unverified"),
        (T1, SEVASTOPOL, "withdrawal.heavy_weapon_in_zone", None, un, "unverified"),
        (T1, ROSTOV, "fire.impact_across_line", ViolationKind.EXPLOSION_IMPACT, rf, "unverified"),
    ]
    return [
        make_violation(
            i,
            t,
            where,
            rule,
            kind,
            WeaponClass.MLRS if rule.startswith("withdrawal") else None,
            level,
            party,
            VerificationStatus(status),
        )
        for i, (t, where, rule, kind, (level, party), status) in enumerate(spec)
    ]


def counts(table: AggregateTable) -> dict[tuple[str, ...], int]:
    return {tuple(str(r[k]) for k in table.keys): int(r["count"]) for r in table.rows}


@pytest.mark.parametrize(
    ("key", "want"),
    [
        ("day", {("2026-09-02",): 4, ("2026-09-03",): 4}),
        (
            "oblast",
            {
                ("Autonomous Republic of Crimea",): 1,
                ("Donetsk Oblast",): 4,
                ("Sevastopol City",): 1,
                ("outside",): 2,
            },
        ),
        ("family", {("fire",): 6, ("withdrawal",): 2}),
        (
            "rule",
            {
                ("fire.impact_across_line",): 5,
                ("fire.outgoing_from_buffer",): 1,
                ("withdrawal.heavy_weapon_in_zone",): 2,
            },
        ),
        (
            "kind",
            {("burst",): 1, ("explosion_impact",): 4, ("explosion_outgoing",): 1, ("unspecified",): 2},
        ),
        ("weapon", {("mlrs",): 2, ("unspecified",): 6}),
        ("party", {("RU",): 3, ("UA",): 2, ("unattributed",): 3}),
        ("level", {("origin_area",): 2, ("party",): 3, ("unattributed",): 3}),
        ("status", {("corroborated",): 2, ("unverified",): 4, ("verified",): 2}),
    ],
)
def test_group_by_each_key(findings: list[Violation], key: str, want: dict[tuple[str, ...], int]) -> None:
    table = aggregate(findings, by=(key,))
    assert table.keys == (key,)
    assert counts(table) == want
    assert table.total == 8
    assert [r[key] for r in table.rows] == sorted(r[key] for r in table.rows)  # rows sorted
    assert aggregate(findings, by=key).rows == table.rows  # a single key may be a plain str


def test_group_by_combinations(findings: list[Violation]) -> None:
    table = aggregate(findings, by=("day", "party"))
    assert table.rows == [
        {"day": "2026-09-02", "party": "RU", "count": 2},
        {"day": "2026-09-02", "party": "unattributed", "count": 2},
        {"day": "2026-09-03", "party": "RU", "count": 1},
        {"day": "2026-09-03", "party": "UA", "count": 2},
        {"day": "2026-09-03", "party": "unattributed", "count": 1},
    ]
    table = aggregate(findings, by=("oblast", "family", "status"))
    assert counts(table) == {
        ("Autonomous Republic of Crimea", "fire", "verified"): 1,
        ("Donetsk Oblast", "fire", "corroborated"): 1,
        ("Donetsk Oblast", "fire", "unverified"): 2,
        ("Donetsk Oblast", "fire", "verified"): 1,
        ("Sevastopol City", "withdrawal", "unverified"): 1,
        ("outside", "fire", "unverified"): 1,
        ("outside", "withdrawal", "corroborated"): 1,
    }
    # key order is column order
    assert aggregate(findings, by=("party", "day")).rows[0] == {"party": "RU", "day": "2026-09-02", "count": 2}


def test_default_keys_without_agreement_drop_sector(findings: list[Violation]) -> None:
    table = aggregate(findings)
    assert table.keys == tuple(k for k in DEFAULT_KEYS if k != "sector")
    assert table.total == 8
    assert counts(table)[("2026-09-03", "Donetsk Oblast", "fire", "explosion_impact", "UA")] == 1


def test_no_keys_gives_the_total_and_no_findings_no_rows(findings: list[Violation]) -> None:
    assert aggregate(findings, by=()).rows == [{"count": 8}]
    empty = aggregate([], by=("day", "party"))
    assert empty.rows == [] and empty.total == 0
    assert empty.to_csv_text() == "day,party,count\n"


def test_party_counts_only_attributed_levels() -> None:
    t = T0
    vs = [
        make_violation(0, t),  # unattributed
        make_violation(1, t, level=AttributionLevel.DIRECTION_OF_FIRE),  # a level but no party
        make_violation(2, t, level=AttributionLevel.DIRECTION_OF_FIRE, party=Party.UKRAINE),
        make_violation(3, t, level=AttributionLevel.ORIGIN_AREA, party=Party.RUSSIA),
        make_violation(4, t, level=AttributionLevel.PARTY, party=Party.RUSSIA),
    ]
    assert counts(aggregate(vs, by="party")) == {("RU",): 2, ("UA",): 1, ("unattributed",): 2}
    strict = aggregate(vs, by="party", party_min_level="party")
    assert counts(strict) == {("RU",): 1, ("unattributed",): 4}
    origin = aggregate(vs, by="party", party_min_level=AttributionLevel.ORIGIN_AREA)
    assert counts(origin) == {("RU",): 2, ("unattributed",): 3}


def test_day_key_uses_the_cutoff(findings: list[Violation]) -> None:
    utc_days = aggregate(findings, by="day", cutoff=CutOff(hour=0, minute=0, tz="UTC"))
    assert counts(utc_days) == {("2026-09-02",): 8}
    assert json.loads(utc_days.to_json())["cutoff"] == {"hour": 0, "minute": 0, "tz": "UTC"}


def test_sector_with_the_default_agreement(default_agreement: Agreement) -> None:
    assert [s.id for s in default_agreement.sectors] == list(IN_SECTOR)
    vs = [make_violation(i, T0, where) for i, where in enumerate(IN_SECTOR.values())]
    vs += [
        make_violation(10, T0, DONETSK_CITY),
        make_violation(11, T0, ROSTOV),
        make_violation(12, T1, IN_SECTOR["S4-DON-N"]),
    ]
    table = aggregate(vs, default_agreement, by=("sector",))
    assert counts(table) == {**{(sid,): 1 for sid in IN_SECTOR}, ("S4-DON-N",): 2, ("none",): 2}
    both = aggregate(vs, default_agreement, by=("sector", "oblast"))
    assert counts(both)[("S4-DON-N", "Donetsk Oblast")] == 2
    assert counts(both)[("S1-KHE", "Kherson Oblast")] == 1
    assert counts(both)[("none", "outside")] == 1
    full = aggregate(vs, default_agreement)
    assert full.keys == DEFAULT_KEYS
    assert full.total == len(vs)


def test_sector_without_agreement_is_refused(findings: list[Violation]) -> None:
    with pytest.raises(ValueError, match=r"sector.*agreement"):
        aggregate(findings, by=("day", "sector"))


# -------------------------------------------------------------------------------------- output
def test_csv_header_and_rows(findings: list[Violation], tmp_path: Path) -> None:
    table = aggregate(findings, by=("day", "family"))
    want = "day,family,count\n2026-09-02,fire,3\n2026-09-02,withdrawal,1\n2026-09-03,fire,3\n2026-09-03,withdrawal,1\n"
    buf = io.StringIO()
    table.to_csv(buf)
    assert buf.getvalue() == want
    assert table.to_csv_text() == want
    path = tmp_path / "agg.csv"
    table.to_csv(path)
    assert path.read_text(encoding="utf-8") == want
    table.to_csv(str(path))
    assert path.read_bytes() == want.encode()


def test_csv_and_json_of_one_row(findings: list[Violation]) -> None:
    table = aggregate(findings[2:3], by=("oblast",))
    assert table.to_csv_text() == "oblast,count\nAutonomous Republic of Crimea,1\n"
    doc = json.loads(table.to_json())
    assert doc == {
        "keys": ["oblast"],
        "cutoff": {"hour": 19, "minute": 30, "tz": "Europe/Kyiv"},
        "total": 1,
        "rows": [{"oblast": "Autonomous Republic of Crimea", "count": 1}],
    }


def test_json_round_trip(findings: list[Violation]) -> None:
    table = aggregate(findings, by=("day", "oblast", "party"))
    doc = json.loads(table.to_json(indent=2))
    assert doc["keys"] == ["day", "oblast", "party"]
    assert doc["total"] == 8
    assert doc["rows"] == table.rows
    assert table.columns == ("day", "oblast", "party", "count")


# ----------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("by", "match"),
    [
        (("day", 3), r"by\[1\]: 3 is not a key name"),
        ((None,), r"by\[0\]: None"),
        (("day", "nope"), r"by\[1\]: unknown key 'nope'"),
        (("Day",), r"unknown key 'Day'"),
        (("day", "day"), r"by\[1\]: key 'day' given twice"),
        (42, r"by: 42"),
    ],
)
def test_bad_keys_are_named(findings: list[Violation], by: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        aggregate(findings, by=by)


def test_bad_inputs(findings: list[Violation]) -> None:
    with pytest.raises(TypeError, match=r"violations\[1\]: expected a Violation, got dict"):
        aggregate([findings[0], {"rule_id": "fire.x"}], by="day")  # type: ignore[list-item]
    with pytest.raises(ValueError, match="cutoff"):
        aggregate(findings, cutoff="19:30", by="day")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="party_min_level"):
        aggregate(findings, by="party", party_min_level="blame")


def test_keys_constant_is_complete(findings: list[Violation], default_agreement: Agreement) -> None:
    table = aggregate(findings, default_agreement, by=KEYS)
    assert table.keys == KEYS
    assert table.total == 8
    assert len(table.rows) == 8  # every finding differs in some key
