"""OGC API Features for GIS clients, through HTTP: queryables (Part 3), property filters and their errors,
``sortby``, flat properties with a top-level ``time`` at millisecond precision, the extent of what each role
sees, and paging links. GDAL's reading of the same server is in test_ogc.py.

The flat properties are checked against the JSON API's features of the same role, flattened here by an
independent reference: OGC output is the JSON API's redacted output reshaped, nothing more.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import EVENTS, INCIDENTS, SENSORS, VIO_FOM, VIO_RU, VIO_UA, VIO_UN, VIOLATIONS, Built, build, us
from truceline.agreement import Agreement
from truceline.agreement.families import FAMILIES
from truceline.api import create_app
from truceline.core import Position, evolve
from truceline.core.enums import AttributionLevel, VerificationStatus
from truceline.service.queries.ogc import ms_time
from truceline.service.redaction import PublicIds, key_for
from truceline.store import SQLiteStore

Role = Callable[[str], dict[str, Any]]
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ANY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
READ_BY = {"violations": ("admin", "liaison-UA", "liaison-RU", "public"), "incidents": ("admin", "liaison-UA"),
           "events": ("observer",), "sensors": ("analyst",)}  # fmt: skip


def items(client: TestClient, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    r = client.get(url, headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geo+json"
    doc: dict[str, Any] = r.json()
    return doc


def ids(doc: dict[str, Any]) -> list[str]:
    return [f["id"] for f in doc["features"]]


def rel(doc: dict[str, Any], name: str) -> str | None:
    return next((lk["href"] for lk in doc["links"] if lk["rel"] == name), None)


# -- the reference: flat properties as docs/api.md describes them -----------------------------------------
def ref_ms(text: str) -> str:
    """A time to the nearest millisecond in UTC, by integer arithmetic on microseconds since the epoch."""
    t = dt.datetime.fromisoformat(text)
    n = (t - EPOCH) // dt.timedelta(microseconds=1)
    ms = (n + 500) // 1000
    u = EPOCH + dt.timedelta(milliseconds=ms)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class JsonText:
    """Equal to a string holding this value's JSON (a list of lists or objects, given as text)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and json.loads(other) == self.value

    def __repr__(self) -> str:
        return f"JsonText({self.value!r})"


def ref_value(v: Any) -> Any:
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", v):
        return ref_ms(v)
    if isinstance(v, list):
        return JsonText(v) if any(isinstance(x, dict | list) for x in v) else [ref_value(x) for x in v]
    return v


def ref_flat(props: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in props.items():
        if isinstance(v, dict) and v:
            out |= ref_flat(v, f"{prefix}{k}_")
        else:
            out[f"{prefix}{k}"] = None if isinstance(v, dict) else ref_value(v)
    return out


# -- queryables ------------------------------------------------------------------------------------------
def test_queryables_are_a_json_schema_of_the_codebook(client: TestClient, as_role: Role, agreement: Agreement) -> None:
    r = client.get("/ogc/collections/violations/queryables")
    assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    doc = r.json()
    assert doc["$schema"].startswith("https://json-schema.org/") and doc["type"] == "object"
    assert doc["$id"] == "http://testserver/ogc/collections/violations/queryables"
    assert doc["additionalProperties"] is False
    p = doc["properties"]
    assert p["time"] == {"title": p["time"]["title"], "type": "string", "format": "date-time"}
    assert p["party"]["enum"] == ["UA", "RU", "unattributed"]
    assert p["status"]["enum"] == [s.value for s in VerificationStatus]
    assert p["attribution_level"]["enum"] == [a.value for a in AttributionLevel]
    assert p["family"]["enum"] == [f.id for f in FAMILIES]
    assert p["confidence"]["type"] == "number" and p["rule_id"] == {"title": p["rule_id"]["title"], "type": "string"}
    assert p["sector"]["enum"] == [s.id for s in agreement.sectors]
    assert all(q["title"] for q in p.values())
    events = client.get("/ogc/collections/events/queryables", headers=as_role("analyst")).json()["properties"]
    assert events["kind"]["enum"] == ["launch", "impact", "undetermined"] and "status" not in events
    sensors = client.get("/ogc/collections/sensors/queryables", headers=as_role("analyst")).json()["properties"]
    assert "not_installed" in sensors["health"]["enum"] and "jammed" in sensors["health"]["enum"]
    assert client.get("/ogc/collections/sectors/queryables").json()["properties"] == {}


def test_queryables_are_linked_listed_and_guarded(client: TestClient, as_role: Role) -> None:
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters" in conf
    for c in client.get("/ogc/collections", headers=as_role("admin")).json()["collections"]:
        link = next(lk for lk in c["links"] if lk["rel"] == QUERYABLES_REL)
        assert link["type"] == "application/schema+json" and link["href"].endswith(f"/{c['id']}/queryables")
        assert client.get(link["href"], headers=as_role("admin")).status_code == 200
    assert client.get("/ogc/collections/incidents/queryables").status_code == 401
    assert client.get("/ogc/collections/events/queryables", headers=as_role("liaison-UA")).status_code == 403
    assert client.get("/ogc/collections/roads/queryables").status_code == 404
    assert client.get("/ogc/collections/violations/queryables?colour=red").status_code == 400


def test_the_ogc_api_description_lists_each_collections_parameters(client: TestClient) -> None:
    landing = client.get("/ogc").json()["links"]
    desc = next(lk for lk in landing if lk["rel"] == "service-desc" and "version=3.0" in lk["type"])
    r = client.get(desc["href"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = r.json()
    assert doc["openapi"] == "3.0.3" and doc["servers"] == [{"url": "http://testserver/ogc"}]
    assert (
        "/collections/{collectionId}/items" in doc["paths"] and "/collections/{collectionId}/queryables" in doc["paths"]
    )
    for cid in ("violations", "incidents", "events", "sensors", "sectors"):
        params = {p.get("name") for p in doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"]}
        schema = client.get(f"/ogc/collections/{cid}/queryables").json() if cid in ("violations", "sectors") else None
        if schema is not None:
            assert set(schema["properties"]) <= params
        assert {"bbox", "datetime", "offset", "sortby"} <= params
    violations = {
        p["name"]: p for p in doc["paths"]["/collections/violations/items"]["get"]["parameters"] if "name" in p
    }
    assert violations["party"]["schema"]["enum"] == ["UA", "RU", "unattributed"]
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == 10_000


@pytest.mark.parametrize("cid", ["violations", "incidents", "events", "sensors"])
def test_every_queryable_is_a_query_parameter_on_its_property(client: TestClient, as_role: Role, cid: str) -> None:
    h = as_role("admin")
    schema = client.get(f"/ogc/collections/{cid}/queryables", headers=h).json()["properties"]
    feats = items(client, f"/ogc/collections/{cid}/items", h)["features"]
    narrower = 0
    for name in schema:
        if name in ("sector", "time"):
            continue
        assert name in feats[0]["properties"], name  # the queryable names a property GDAL and QGIS read
        value = next((f["properties"][name] for f in reversed(feats) if f["properties"][name] is not None), None)
        if value is None:
            continue
        expected = [f["id"] for f in feats if f["properties"][name] == value]
        got = items(client, f"/ogc/collections/{cid}/items?{name}={value}", h)
        assert ids(got) == expected and got["numberMatched"] == len(expected), name
        narrower += len(expected) < len(feats)
    assert narrower >= 1


# -- filters ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("party=RU", [VIO_RU]),
        ("party=UA,RU", [VIO_RU, VIO_UA, VIO_FOM]),
        ("party=UA&party=unattributed", [VIO_UA, VIO_UN, VIO_FOM]),
        ("status=corroborated", [VIO_RU]),
        ("family=buffer_zone", [VIO_UA]),
        ("family=buffer_zone,protected_site", [VIO_UA, VIO_UN]),
        ("family=buffer_zone&rule_id=buffer_zone.firing", [VIO_UA]),  # both hold
        ("family=buffer_zone&rule_id=fire_across_line.round", []),
        ("attribution_level=unattributed", [VIO_UN]),
        ("party=UA&status=unverified&datetime=2026-09-02T06:30:00Z/..", [VIO_FOM]),
        ("time=../2026-09-02T06:10:00Z", [VIO_RU, VIO_UA]),  # time: datetime under the queryable's name
        (f"confidence={VIO_RU.confidence}", VIOLATIONS),
        ("confidence=0.123", []),
        ("party=RU&bbox=35,47,36,48", []),
    ],
)  # fmt: skip
def test_property_filters(client: TestClient, as_role: Role, query: str, expected: list[Any]) -> None:
    doc = items(client, f"/ogc/collections/violations/items?{query}", as_role("analyst"))
    assert ids(doc) == [v.id for v in expected] and doc["numberMatched"] == len(expected)


def test_property_filters_of_the_other_collections(client: TestClient, as_role: Role) -> None:
    h = as_role("analyst")
    assert ids(items(client, "/ogc/collections/incidents/items?weapon_class=mlrs", h)) == ["inc-ua"]
    assert ids(items(client, "/ogc/collections/incidents/items?party=unattributed&status=unverified", h)) == ["inc-un"]
    impacts = [e.id for e in EVENTS if e.kind.value == "impact"]
    assert ids(items(client, "/ogc/collections/events/items?kind=impact", h)) == impacts
    assert ids(items(client, "/ogc/collections/events/items?kind=launch&party=UA", h)) == ["evt-ua-l"]
    assert ids(items(client, "/ogc/collections/sensors/items?health=jammed", h)) == ["FR-AC-002"]
    listed = ids(items(client, "/ogc/collections/sensors/items", h))
    uk = [i for i in listed if i in {s.id for s in SENSORS if s.contingent == "UK"}]
    assert len(uk) == 2 < len(listed)
    assert ids(items(client, "/ogc/collections/sensors/items?contingent=UK", h)) == uk
    liaison = items(client, "/ogc/collections/violations/items?party=RU", as_role("liaison-UA"))
    assert liaison["numberMatched"] == 0  # a liaison's filters run within what it sees


def test_sector_filters_as_the_json_api_does(client: TestClient, as_role: Role, agreement: Agreement) -> None:
    found = 0
    for role in ("analyst", "public"):
        for s in agreement.sectors:
            api = client.get(f"/api/v1/violations?sector={s.id}", headers=as_role(role)).json()
            ogc = items(client, f"/ogc/collections/violations/items?sector={s.id}", as_role(role))
            assert ids(ogc) == ids(api)
            found += len(ids(ogc))
    assert found > 0


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("party=XX", "party"), ("party=", "party"), ("status=done", "status"), ("family=arson", "family"),
        ("attribution_level=maybe", "attribution_level"), ("confidence=high", "confidence"),
        ("confidence=nan", "confidence"), ("weapon_class=catapult", "weapon_class"), ("kind=impact", "kind"),
        ("colour=red", "colour"), ("sortby=colour", "sortby"), ("sortby=sector", "sortby"),
        ("sortby=time,-party,health", "sortby"), ("time=yesterday", "time"),
        ("time=2026-09-02&datetime=2026-09-02", "time"), ("sector=S99", "sector"), ("datetime=2026-13-01", "datetime"),
    ],
)  # fmt: skip
def test_bad_filters_are_400_naming_the_parameter(client: TestClient, as_role: Role, query: str, param: str) -> None:
    r = client.get(f"/ogc/collections/violations/items?{query}", headers=as_role("analyst"))
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith(f"{param}: "), r.json()


@pytest.mark.parametrize(("cid", "query", "param"), [("incidents", "status=refuted,nope", "status"),
                                                     ("events", "status=verified", "status"),
                                                     ("events", "kind=launch,impact,boom", "kind"),
                                                     ("sensors", "health=tired", "health"),
                                                     ("sectors", "party=UA", "party")])  # fmt: skip
def test_each_collection_takes_its_own_queryables(client: TestClient, as_role: Role, cid: str, query: str,
                                                  param: str) -> None:  # fmt: skip
    r = client.get(f"/ogc/collections/{cid}/items?{query}", headers=as_role("admin"))
    assert r.status_code == 400 and r.json()["detail"].startswith(f"{param}: "), r.text


# -- sortby ----------------------------------------------------------------------------------------------
def test_sortby(client: TestClient, as_role: Role) -> None:
    h = as_role("analyst")
    base = "/ogc/collections/violations/items"
    by_time = sorted(VIOLATIONS, key=lambda v: v.time)
    assert ids(items(client, f"{base}?sortby=-time", h)) == [v.id for v in reversed(by_time)]
    assert ids(items(client, f"{base}?sortby=%2Btime", h)) == [v.id for v in by_time]
    assert ids(items(client, f"{base}?sortby=+time", h)) == [v.id for v in by_time]  # '+' unencoded: a space
    # party ascending (RU < UA < unattributed), then time descending within a party
    assert ids(items(client, f"{base}?sortby=party,-time", h)) == [VIO_RU.id, VIO_FOM.id, VIO_UA.id, VIO_UN.id]
    assert ids(items(client, f"{base}?sortby=-party,time", h)) == [VIO_UN.id, VIO_UA.id, VIO_FOM.id, VIO_RU.id]
    assert ids(items(client, f"{base}?sortby=-time&party=UA", h)) == [VIO_FOM.id, VIO_UA.id]
    incidents = items(client, "/ogc/collections/incidents/items?sortby=-weapon_class", h)
    assert ids(incidents) == [i.id for i in sorted(INCIDENTS, key=lambda i: i.weapon_class.value, reverse=True)]
    public = items(client, f"{base}?sortby=-time")
    times = [f["properties"]["time"] for f in public["features"]]
    assert times == sorted(times, reverse=True) and len(times) == len(VIOLATIONS)


def test_paging_links_keep_the_filters_and_the_order(client: TestClient, as_role: Role) -> None:
    h = as_role("analyst")
    url: str | None = "/ogc/collections/violations/items?sortby=-time&party=UA,unattributed&limit=1"
    seen, prevs = [], []
    while url:
        doc = items(client, url, h)
        assert doc["numberMatched"] == 3 and doc["numberReturned"] == len(doc["features"]) == 1
        seen += ids(doc)
        prevs.append(rel(doc, "prev"))
        url = rel(doc, "next")
    assert seen == [VIO_FOM.id, VIO_UN.id, VIO_UA.id]
    assert prevs[0] is None and all(p is not None and "sortby=-time" in p and "offset=" in p for p in prevs[1:])
    back = items(client, str(prevs[-1]), h)
    assert ids(back) == [VIO_UN.id] and back["numberMatched"] == 3
    last = items(client, "/ogc/collections/violations/items?sortby=time&offset=3&limit=2", h)
    assert ids(last) == [VIO_FOM.id] and rel(last, "next") is None and "offset=1" in str(rel(last, "prev"))
    beyond = items(client, "/ogc/collections/violations/items?party=RU&offset=5", h)
    assert beyond["numberReturned"] == 0 and beyond["numberMatched"] == 1


# -- flat properties, redaction, times -------------------------------------------------------------------
@pytest.mark.parametrize("cid", list(READ_BY))
def test_flat_properties_are_the_json_apis_redacted_record_reshaped(client: TestClient, as_role: Role,
                                                                   cid: str) -> None:  # fmt: skip
    for role in READ_BY[cid]:
        api = client.get(f"/api/v1/{cid}?limit=10000", headers=as_role(role)).json()["features"]
        ogc = items(client, f"/ogc/collections/{cid}/items?limit=10000", as_role(role))["features"]
        assert [f["id"] for f in ogc] == [f["id"] for f in api] and api, (cid, role)
        for a, o in zip(api, ogc, strict=True):
            assert o["geometry"] == a["geometry"], (role, o["id"])
            props = dict(o["properties"])
            assert not any(isinstance(v, dict) for v in props.values())
            added = {k: props.pop(k) for k in ("party", "family") if k in props and k not in a["properties"]}
            added["time"] = props["time"] if "time" in a["properties"] else props.pop("time", None)
            assert props == ref_flat(a["properties"]), (role, o["id"])
            if cid != "sensors":
                source = {"violations": "time", "incidents": "window_start", "events": "origin_time"}[cid]
                assert added["time"] == props[source] and MS.match(added["time"])
                assert added["party"] == (props["attribution_party"] or "unattributed")


def test_the_public_gets_the_whitelist_flat(client: TestClient) -> None:
    allowed = {"id", "rule_id", "rule_version", "time", "position_lon_deg", "position_lat_deg", "violation_kind",
               "weapon_class", "rounds_low", "rounds_best", "rounds_high", "attribution_level", "attribution_party",
               "attribution_probability", "confidence", "status", "party", "family", "place", "place_detail",
               "place_detail_place_id", "place_detail_name", "place_detail_name_uk", "place_detail_oblast",
               "place_detail_distance_km", "place_detail_bearing_deg",
               "place_detail_direction"}  # fmt: skip
    for f in items(client, "/ogc/collections/violations/items")["features"]:
        assert set(f["properties"]) <= allowed and f["properties"]["id"].startswith("pub-")
        lon, lat = f["geometry"]["coordinates"]
        assert (round(lon, 2), round(lat, 2)) == (lon, lat) == (f["properties"]["position_lon_deg"],
                                                                f["properties"]["position_lat_deg"])  # fmt: skip


def _times(doc: Any, where: str, out: list[tuple[str, str]]) -> None:
    if isinstance(doc, dict):
        for k, v in doc.items():
            _times(v, f"{where}.{k}", out)
    elif isinstance(doc, list):
        for x in doc:
            _times(x, where, out)
    elif isinstance(doc, str) and ANY_TIME.match(doc):
        out.append((where, doc))


def test_every_time_of_the_ogc_output_is_to_the_millisecond(client: TestClient, as_role: Role) -> None:
    found: list[tuple[str, str]] = []
    h = as_role("admin")
    _times(client.get("/ogc/collections", headers=h).json(), "collections", found)
    for cid in ("incidents", "violations", "events", "sensors", "line_of_contact", "sectors", "protected_sites"):
        _times(items(client, f"/ogc/collections/{cid}/items", h), cid, found)
    _times(client.get("/ogc/collections/incidents/items/inc-ru", headers=h).json(), "item", found)
    assert len(found) > 50 and {w.split(".")[0] for w, _ in found} >= {"incidents", "events", "sensors", "item"}
    assert [(w, t) for w, t in found if not MS.match(t)] == []


# -- times that carry, and the extent, on a store of their own --------------------------------------------
CARRY = {
    "vio-carry-second": dt.datetime(2026, 9, 2, 6, 59, 59, 999600, tzinfo=dt.UTC),
    "vio-gdal-refused": dt.datetime(2026, 9, 2, 7, 0, 22, 999905, tzinfo=dt.UTC),
    "vio-half-down": dt.datetime(2026, 9, 2, 7, 0, 1, 499, tzinfo=dt.UTC),
    "vio-year-end": dt.datetime(2026, 12, 31, 23, 59, 59, 999500, tzinfo=dt.UTC),
}
CARRIED = {"vio-carry-second": "2026-09-02T07:00:00.000Z", "vio-gdal-refused": "2026-09-02T07:00:23.000Z",
           "vio-half-down": "2026-09-02T07:00:01.000Z", "vio-year-end": "2027-01-01T00:00:00.000Z"}  # fmt: skip


def _add(data: Path, rows: list[tuple[str, Any, int]], scope: str) -> None:
    store = SQLiteStore(data)
    try:
        store.replace_scope(scope, store.new_run("process", {"test": True}), rows, seen_seq=store.last_seq())
    finally:
        store.close()


@pytest.fixture
def odd(tmp_path: Path, agreement: Agreement) -> Iterator[tuple[TestClient, Built]]:
    built = build(tmp_path / "data")
    _add(built.data, [("violation", evolve(VIO_UN, id=rid, time=t), us(t)) for rid, t in CARRY.items()],
         "window:odd-times")  # fmt: skip
    with TestClient(create_app(built.data, agreement)) as c:
        yield c, built


def test_times_round_to_the_millisecond_with_their_carry(odd: tuple[TestClient, Built]) -> None:
    client, built = odd
    h = auth(built.tokens["analyst"])
    got = {f["id"]: f["properties"] for f in items(client, "/ogc/collections/violations/items", h)["features"]}
    assert {k: got[k]["time"] for k in CARRY} == CARRIED
    one = client.get("/ogc/collections/violations/items/vio-year-end", headers=h).json()
    assert one["properties"]["time"] == "2027-01-01T00:00:00.000Z"
    extent = client.get("/ogc/collections/violations", headers=h).json()["extent"]["temporal"]["interval"][0]
    assert extent == ["2026-09-02T06:00:00.000Z", "2027-01-01T00:00:00.000Z"]
    assert ms_time(dt.datetime(2026, 9, 2, 9, 0, 0, 999, tzinfo=dt.timezone(dt.timedelta(hours=3)))) == (
        "2026-09-02T06:00:00.001Z"
    )


def test_the_extent_is_of_what_each_role_sees(client: TestClient, as_role: Role) -> None:
    boxes = {}
    for role, cid in [("admin", "violations"), ("public", "violations"), ("liaison-UA", "incidents"),
                      ("admin", "incidents"), ("analyst", "sensors"), ("liaison-RU", "violations")]:  # fmt: skip
        ext = client.get(f"/ogc/collections/{cid}", headers=as_role(role)).json()["extent"]
        feats = items(client, f"/ogc/collections/{cid}/items", as_role(role))["features"]
        pts = [f["geometry"]["coordinates"] for f in feats if f["geometry"]]
        assert ext["spatial"]["bbox"] == [[min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts),
                                           max(p[1] for p in pts)]], (role, cid)  # fmt: skip
        times = sorted(f["properties"]["time"] for f in feats if "time" in f["properties"])
        assert ext["temporal"]["interval"] == [[times[0], times[-1]] if times else [None, None]], (role, cid)
        boxes[role, cid] = ext["spatial"]["bbox"][0]
    assert boxes["admin", "violations"] != boxes["public", "violations"]  # the public's is of rounded points
    assert boxes["liaison-UA", "incidents"] != boxes["admin", "incidents"]  # a liaison's, of its party's


def test_the_extent_follows_the_data(odd: tuple[TestClient, Built]) -> None:
    client, built = odd
    h = auth(built.tokens["admin"])
    before = client.get("/ogc/collections/violations", headers=h).json()["extent"]
    far = evolve(VIO_UA, id="vio-far", position=Position(lon_deg=39.5, lat_deg=47.45))
    _add(built.data, [("violation", far, us(far.time))], "window:far")
    after = client.get("/ogc/collections/violations", headers=h).json()["extent"]
    assert before["spatial"]["bbox"][0][2] < 39.5 == after["spatial"]["bbox"][0][2]
    public = PublicIds(key_for(built.data))
    assert public("vio-far") in ids(items(client, "/ogc/collections/violations/items"))
