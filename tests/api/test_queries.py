"""Unit tests of the framework-free queries: role redaction, filters, paging, parsing (no server)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import shapely

from tests.api.data import (
    CLAIM_MEDIA,
    EVENTS,
    INC_RU,
    INC_UA,
    SENSORS,
    T0,
    VIO_FOM,
    VIO_RU,
    VIO_UA,
    VIO_UN,
    VIOLATIONS,
    Built,
)
from truceline.agreement import Agreement
from truceline.core import Violation
from truceline.core.enums import Party
from truceline.geo.places import describe
from truceline.service import queries
from truceline.service.queries import Filters, QueryError, View, parse_datetime_interval, parse_filters, parse_time
from truceline.store import SQLiteStore
from truceline.store.base import Derived

FULL, PUBLIC = View.for_role("analyst"), View.for_role("public")
UA, RU = View.for_role("liaison", "UA"), View.for_role("liaison", "RU")


@pytest.fixture(scope="module")
def store(built: Built) -> Iterator[SQLiteStore]:
    s = SQLiteStore(built.data)
    yield s
    s.close()


def ids(page: queries.Page) -> list[str]:
    return [f["id"] for f in page.items]


# -- views -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["admin", "analyst", "observer"])
def test_mission_roles_see_everything(role: str) -> None:
    assert View.for_role(role).full


def test_view_refuses_unknown_roles_and_partyless_liaison() -> None:
    with pytest.raises(ValueError, match="role"):
        View.for_role("root")
    with pytest.raises(ValueError, match="party"):
        View.for_role("liaison")


def test_public_violations_are_a_rounded_whitelist_with_opaque_ids(store: SQLiteStore) -> None:
    page = queries.violations(store, Filters(), PUBLIC)
    assert page.number_matched == len(VIOLATIONS)
    by_id = {queries.public_ids(store)(v.id): v for v in VIOLATIONS}
    for f in page.items:
        v = by_id[f["id"]]
        lon, lat = f["geometry"]["coordinates"]
        assert (lon, lat) == (round(v.position.lon_deg, 2), round(v.position.lat_deg, 2))
        assert f["properties"]["position"] == {"lon_deg": lon, "lat_deg": lat}
        assert abs(lon - v.position.lon_deg) <= 0.005 and abs(lat - v.position.lat_deg) <= 0.005
        assert set(f["properties"]) == {"id", "rule_id", "rule_version", "time", "position", "place", "place_detail",
                                        "violation_kind", "weapon_class", "rounds", "attribution", "confidence",
                                        "status"}  # fmt: skip
        assert set(f["properties"]["rounds"]) == {"low", "best", "high"}
        assert f["properties"]["place"] == describe(lon, lat).text  # of the rounded point
        assert set(f["properties"]["attribution"]) == {"level", "party", "probability"}
        text = json.dumps(f)
        for evidence in (v.id, v.incident_id, *v.event_ids, *v.observation_ids, *v.attribution.evidence):
            if evidence:
                assert evidence not in text, evidence
    fom = next(f for f in page.items if f["id"] == queries.public_ids(store)(VIO_FOM.id))
    assert fom["geometry"]["coordinates"] == [35.61, 47.42]


def test_public_sees_no_incidents_events_claims_or_sensors(store: SQLiteStore) -> None:
    for fn in (queries.incidents, queries.events, queries.claims, queries.sensors):
        with pytest.raises(PermissionError):
            fn(store, Filters(), PUBLIC)  # type: ignore[operator]
    assert queries.incident_detail(store, INC_RU.id, PUBLIC, with_audit=False) is None


@pytest.mark.parametrize(("view", "party"), [(UA, "UA"), (RU, "RU")])
def test_liaison_sees_only_findings_attributed_to_its_party(store: SQLiteStore, view: View, party: str) -> None:
    vios = queries.violations(store, Filters(), view)
    assert ids(vios) == [v.id for v in VIOLATIONS if v.attribution.party and v.attribution.party.value == party]
    assert all(f["properties"]["attribution"]["party"] == party for f in vios.items)
    incs = queries.incidents(store, Filters(), view)
    assert ids(incs) == [(INC_UA if party == "UA" else INC_RU).id]
    other = INC_RU if party == "UA" else INC_UA
    assert queries.incident_detail(store, other.id, view, with_audit=False) is None
    assert queries.find_feature(store, "incidents", other.id, view) is None
    assert queries.find_feature(store, "violations", (VIO_RU if party == "UA" else VIO_UA).id, view) is None


@pytest.mark.parametrize("view", [UA, RU])
def test_liaison_sees_claims_by_or_against_its_party_never_the_others(store: SQLiteStore, view: View) -> None:
    page = queries.claims(store, Filters(), view)
    got = {item["claim"]["id"] for item in page.items}
    assert got == {"clm-ua-1", "clm-ru-1"} and CLAIM_MEDIA.id not in got


def test_liaison_events_carry_no_sensor_or_detection_ids(store: SQLiteStore) -> None:
    detail = queries.incident_detail(store, INC_RU.id, RU, with_audit=False)
    assert detail is not None and len(detail["events"]) == 2
    for e in detail["events"]:
        assert "sensor_ids" not in e["properties"] and "detection_ids" not in e["properties"]
        assert "inputs" not in e["properties"]["provenance"]
        text = json.dumps(e)
        assert all(s.id not in text for s in SENSORS) and "det-" not in text
    full = queries.incident_detail(store, INC_RU.id, FULL, with_audit=True)
    assert full is not None and full["events"][0]["properties"]["sensor_ids"]


@pytest.mark.parametrize("view", [UA, RU, PUBLIC])
def test_sensor_positions_are_for_the_mission_only(store: SQLiteStore, view: View) -> None:
    with pytest.raises(PermissionError):
        queries.sensors(store, Filters(), view)
    assert queries.find_feature(store, "sensors", SENSORS[0].id, view) is None
    assert queries.find_feature(store, "events", EVENTS[0].id, view) is None


# -- filters ---------------------------------------------------------------------------------------
def test_time_filter_is_half_open(store: SQLiteStore) -> None:
    page = queries.violations(store, Filters(start=VIO_UA.time, end=VIO_FOM.time), FULL)
    assert ids(page) == [VIO_UA.id, VIO_UN.id]


def test_bbox_status_party_kind_filters(store: SQLiteStore) -> None:
    assert ids(queries.violations(store, Filters(bbox=(35.0, 47.0, 36.0, 48.0)), FULL)) == [VIO_UA.id, VIO_FOM.id]
    assert ids(queries.violations(store, Filters(status=("corroborated",)), FULL)) == [VIO_RU.id]
    assert ids(queries.violations(store, Filters(party=("unattributed",)), FULL)) == [VIO_UN.id]
    assert ids(queries.violations(store, Filters(party=("UA", "RU")), FULL)) == [VIO_RU.id, VIO_UA.id, VIO_FOM.id]
    assert ids(queries.violations(store, Filters(kind=("buffer_zone",)), FULL)) == [VIO_UA.id]
    assert ids(queries.violations(store, Filters(kind=("protected_site.strike",)), FULL)) == [VIO_UN.id]
    assert ids(queries.incidents(store, Filters(kind=("mlrs",)), FULL)) == [INC_UA.id]
    assert ids(queries.events(store, Filters(kind=("launch",)), FULL)) == ["evt-ru-l", "evt-ua-l"]


def test_bbox_across_the_antimeridian_and_points_on_its_edge(store: SQLiteStore) -> None:
    across = queries.violations(store, Filters(bbox=(170.0, -90.0, 37.0, 90.0)), FULL)
    assert ids(across) == [VIO_UA.id, VIO_UN.id, VIO_FOM.id]
    edge = (VIO_UA.position.lon_deg, VIO_UA.position.lat_deg) * 2
    assert ids(queries.violations(store, Filters(bbox=edge), FULL)) == [VIO_UA.id]  # type: ignore[arg-type]


def test_sector_filter_matches_the_agreements_polygons(store: SQLiteStore, agreement: Agreement) -> None:
    for sector in agreement.sectors:
        page = queries.violations(store, Filters(sector=(sector.id,)), FULL, agreement)
        first = [next((s.id for s in agreement.sectors if s.geometry.contains(shapely.Point(v.position.as_tuple()))),
                      None) for v in VIOLATIONS]  # fmt: skip
        assert ids(page) == [v.id for v, s in zip(VIOLATIONS, first, strict=True) if s == sector.id]
    with pytest.raises(QueryError, match="sector"):
        queries.violations(store, Filters(sector=("S9-NOWHERE",)), FULL, agreement)


@pytest.mark.parametrize(
    ("fn", "f", "param"),
    [
        (queries.violations, Filters(status=("maybe",)), "status"),
        (queries.incidents, Filters(kind=("catapult",)), "kind"),
        (queries.events, Filters(status=("verified",)), "status"),
        (queries.claims, Filters(status=("true",)), "status"),
        (queries.sensors, Filters(status=("sleepy",)), "status"),
    ],
)
def test_unknown_filter_values_are_named(store: SQLiteStore, fn: object, f: Filters, param: str) -> None:
    with pytest.raises(QueryError) as exc:
        fn(store, f, FULL)  # type: ignore[operator]
    assert exc.value.param == param


def test_paging(store: SQLiteStore) -> None:
    first = queries.violations(store, Filters(limit=3), FULL)
    second = queries.violations(store, Filters(limit=3, offset=3), FULL)
    assert (first.number_matched, first.number_returned, first.has_next, first.has_prev) == (4, 3, True, False)
    assert (second.number_returned, second.has_next, second.has_prev) == (1, False, True)
    assert ids(first) + ids(second) == [v.id for v in VIOLATIONS]
    assert queries.violations(store, Filters(offset=99), FULL).items == []


def test_incident_features_place_the_impact_and_its_ellipse(store: SQLiteStore) -> None:
    f = queries.find_feature(store, "incidents", INC_RU.id, FULL)
    assert f is not None
    impact = next(e for e in EVENTS if e.id == INC_RU.impact_event_id)
    launch = next(e for e in EVENTS if e.id == INC_RU.launch_event_id)
    assert f["geometry"]["coordinates"] == list(impact.position.as_tuple())
    assert f["properties"]["impact"] == list(impact.position.as_tuple())
    assert f["properties"]["launch"] == list(launch.position.as_tuple())
    a, b, az = impact.location_uncertainty.ellipse(0.95)
    assert f["properties"]["ellipse"] == {"semi_major_m": round(a, 1), "semi_minor_m": round(b, 1),
                                          "angle_deg": round(az, 1)}  # fmt: skip
    assert f["properties"]["status"] == "corroborated"


def test_sensor_health_at_a_time(store: SQLiteStore) -> None:
    def health(at: dt.datetime) -> dict[str, str]:
        return {f["id"]: f["properties"]["health"] for f in queries.sensors(store, Filters(), FULL, at).items}

    assert health(T0) == {"UK-AC-001": "ok", "FR-AC-002": "jammed", "UK-AA-003": "ok"}
    assert health(T0 - dt.timedelta(hours=2))["FR-AC-002"] == "ok"
    assert set(health(T0 - dt.timedelta(days=30)).values()) == {"not_installed"}
    jammed = queries.sensors(store, Filters(status=("jammed",)), FULL, T0)
    assert ids(jammed) == ["FR-AC-002"] and jammed.items[0]["properties"]["last_report"]["reason"] == "GNSS jamming"


# -- parsing ---------------------------------------------------------------------------------------
def test_parse_time() -> None:
    assert parse_time("2026-09-02T12:00:00Z", "start") == dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC)
    assert parse_time("2026-09-02T15:00:00 03:00", "start") == dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC)  # '+' as ' '
    assert parse_time("2026-09-02", "start") == dt.datetime(2026, 9, 2, tzinfo=dt.UTC)
    assert parse_time(None, "start") is None
    for bad in ("2026-09-02T12:00:00", "yesterday", "2026-13-01"):
        with pytest.raises(QueryError, match="start"):
            parse_time(bad, "start")


def test_parse_datetime_interval() -> None:
    t = dt.datetime(2026, 9, 2, 12, tzinfo=dt.UTC)
    us = dt.timedelta(microseconds=1)
    assert parse_datetime_interval("2026-09-02T12:00:00Z") == (t, t + us)
    assert parse_datetime_interval("2026-09-02T12:00:00Z/..") == (t, None)
    assert parse_datetime_interval("../2026-09-02T12:00:00Z") == (None, t + us)
    assert parse_datetime_interval("/2026-09-02T12:00:00Z") == (None, t + us)
    assert parse_datetime_interval("2026-09-02") == (t - dt.timedelta(hours=12), t + dt.timedelta(hours=12))
    for bad in ("../..", "2026-09-03T00:00:00Z/2026-09-02T00:00:00Z", "soon/later"):
        with pytest.raises(QueryError, match="datetime"):
            parse_datetime_interval(bad)


def test_parse_filters() -> None:
    f = parse_filters(bbox="35,47,36,48", status="verified,unverified", party=["UA", "RU"], limit="50000", offset="3")
    assert f.bbox == (35, 47, 36, 48) and f.status == ("verified", "unverified") and f.party == ("UA", "RU")
    assert (f.limit, f.offset) == (queries.MAX_LIMIT, 3)
    assert parse_filters(bbox="35,47,0,36,48,100").bbox == (35, 47, 36, 48)
    assert parse_filters().limit == queries.DEFAULT_LIMIT
    for kwargs, param in [
        ({"bbox": "35,47,36"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "35,48,36,47"}, "bbox"),
        ({"bbox": "35,47,36,nan"}, "bbox"),
        ({"party": "FR"}, "party"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"start": "2026-09-03T00:00:00Z", "end": "2026-09-02T00:00:00Z"}, "end"),
    ]:
        with pytest.raises(QueryError) as exc:
            parse_filters(**kwargs)  # type: ignore[arg-type]
        assert exc.value.param == param, kwargs


def test_change_seq_grows_with_observations_runs_and_audit(tmp_path: object, built: Built) -> None:
    from tests.api.data import build
    from truceline.service import review

    b = build(tmp_path / "d")  # type: ignore[operator]
    s = SQLiteStore(b.data)
    try:
        seq0 = queries.change_seq(s)
        review.annotate(s, "violation", VIO_UA.id, "a", "note")
        seq1 = queries.change_seq(s)
        s.add_records("sensor", [SENSORS[0].model_copy(update={"id": "UK-AC-099"})])
        seq2 = queries.change_seq(s)
        assert seq0 < seq1 < seq2
    finally:
        s.close()



def _derived(v: Violation) -> Derived:
    return Derived("violation", v, "window:x", 1, v.status.value, None)


def _row(d: Derived, view: View) -> Any:
    from truceline.service.queries.findings import _violation_rows

    return _violation_rows([d], view)[0]


def test_public_bbox_filters_on_the_rounded_position_only() -> None:
    """Halving a bbox around a public violation must not recover its exact position (found in review)."""
    from tests.api.data import VIO_FOM

    d = _derived(VIO_FOM)  # at 35.61123, 47.41877
    public = _row(d, View.for_role("public"))
    assert (public.lon, public.lat) == (35.61, 47.42)
    full = _row(d, View.for_role("analyst"))
    assert (full.lon, full.lat) == (35.61123, 47.41877)


def test_interference_findings_never_place_a_sensor_outside_the_mission() -> None:
    from tests.api.data import SENSORS, violation
    from truceline.service.queries.features import _violation_feature, violation_precisions
    from truceline.service.redaction import PublicIds

    ids = PublicIds(b"k" * 32)
    s = SENSORS[0]
    v = violation("vio-monitoring_interference.jammed-sst-9", "monitoring_interference.jammed", None, None,
                  Party.RUSSIA, "unverified", position=s.position, observation_ids=("sst-9", s.id),
                  rule_parameters={"sensor_id": s.id, "health": "jammed", "line_version": "v1"})  # fmt: skip
    d = _derived(v)
    analyst = View.for_role("analyst")
    full = _violation_feature(d, analyst, violation_precisions([d], analyst, None)[0], ids)
    assert full["geometry"]["coordinates"] == [s.position.lon_deg, s.position.lat_deg]
    for view in (View.for_role("liaison", "RU"), View.for_role("public")):
        f = _violation_feature(d, view, violation_precisions([d], view, None)[0], ids)
        text = json.dumps(f)
        assert f["geometry"] is None and s.id not in text and '"health"' not in text
        assert _row(d, view).lon is None  # no bbox can find it either
