"""OGC API - Features conformance of the responses, and GDAL's OAPIF driver reading the collections.

The JSON checks follow the requirements of OGC 17-069r4 (Part 1: Core, GeoJSON) that a client such
as QGIS or GDAL relies on: the landing page's links, the conformance classes, collection metadata,
items as ``application/geo+json`` with ``numberMatched``/``numberReturned``/``timeStamp`` and
``next`` links, ``bbox``/``datetime``/``limit`` semantics, 400 for a parameter the API does not
define, 404 for an unknown feature. Then GDAL (the OAPIF driver of the GDAL bundled in the
``pyogrio`` wheel) opens the server that ``truceline serve`` runs, with and without a token: it reads
the flat properties (``time`` as a date-time field), a filtered URL and its own ``where`` clause.
Queryables, property filters, ``sortby``, times and extents through HTTP: test_ogc_features.py.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.data import EVENTS, INCIDENTS, SENSORS, VIO_FOM, VIO_RU, VIO_UA, VIO_UN, VIOLATIONS, Built
from truceline.service.redaction import PublicIds, key_for

Role = Callable[[str], dict[str, Any]]
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
QUERYABLES = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables"
QUERYABLE_PARAMS = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters"
PUBLIC_COLLECTIONS = ["violations", "line_of_contact", "sectors", "protected_sites"]
ALL_COLLECTIONS = ["incidents", "violations", "events", "sensors", *PUBLIC_COLLECTIONS[1:]]


def rels(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lk["rel"]: lk for lk in doc["links"]}


def test_landing_page(client: TestClient) -> None:
    r = client.get("/ogc")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    links = rels(doc)
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["conformance"]["href"].endswith("/ogc/conformance")
    assert links["data"]["href"].endswith("/ogc/collections")
    assert all(lk["href"].startswith("http://testserver/") and lk["type"] for lk in doc["links"])
    assert client.get(links["service-desc"]["href"]).json()["openapi"].startswith("3.")
    assert client.get("/ogc?f=json").status_code == 200


def test_conformance(client: TestClient) -> None:
    assert set(client.get("/ogc/conformance").json()["conformsTo"]) == {CORE, GEOJSON, QUERYABLES, QUERYABLE_PARAMS}


@pytest.mark.parametrize(("role", "expected"), [("public", PUBLIC_COLLECTIONS), ("analyst", ALL_COLLECTIONS),
                                                ("liaison-UA", ["incidents", *PUBLIC_COLLECTIONS])])  # fmt: skip
def test_collections_follow_the_roles(client: TestClient, as_role: Role, role: str, expected: list[str]) -> None:
    doc = client.get("/ogc/collections", headers=as_role(role)).json()
    assert [c["id"] for c in doc["collections"]] == expected
    assert rels(doc)["self"]["href"].endswith("/ogc/collections")


def test_collection_metadata(client: TestClient, as_role: Role) -> None:
    for cid in ALL_COLLECTIONS:
        c = client.get(f"/ogc/collections/{cid}", headers=as_role("admin")).json()
        assert c["id"] == cid and c["title"] and c["itemType"] == "feature" and CRS84 in c["crs"]
        links = rels(c)
        assert links["items"]["type"] == "application/geo+json" and links["items"]["href"].endswith(f"/{cid}/items")
        bbox = c["extent"]["spatial"]["bbox"][0]
        assert len(bbox) == 4 and bbox[0] < bbox[2] and bbox[1] < bbox[3] and c["extent"]["spatial"]["crs"] == CRS84
        assert len(c["extent"]["temporal"]["interval"][0]) == 2
    incidents = client.get("/ogc/collections/incidents", headers=as_role("admin")).json()
    assert incidents["extent"]["temporal"]["interval"][0][0].startswith("2026-09-02")
    assert client.get("/ogc/collections/roads").status_code == 404


@pytest.mark.parametrize("cid", ALL_COLLECTIONS)
def test_items_response(client: TestClient, as_role: Role, cid: str) -> None:
    r = client.get(f"/ogc/collections/{cid}/items", headers=as_role("admin"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-crs"] == f"<{CRS84}>"
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["numberReturned"] == len(doc["features"]) <= doc["numberMatched"]
    assert doc["timeStamp"].endswith("Z")
    assert {"self", "collection"} <= set(rels(doc))
    for f in doc["features"]:
        assert f["type"] == "Feature" and isinstance(f["id"], str) and isinstance(f["properties"], dict)
        assert f["geometry"] is None or f["geometry"]["type"] in ("Point", "LineString", "MultiLineString", "Polygon",
                                                                   "MultiPolygon")  # fmt: skip
    expected = {"incidents": len(INCIDENTS), "violations": len(VIOLATIONS), "events": len(EVENTS),
                "sensors": len(SENSORS)}  # fmt: skip
    if cid in expected:
        assert doc["numberMatched"] == expected[cid]


def test_next_links_page_through_everything(client: TestClient, as_role: Role) -> None:
    url: str | None = "/ogc/collections/events/items?limit=2"
    seen: list[str] = []
    pages = 0
    while url:
        doc = client.get(url, headers=as_role("analyst")).json()
        assert doc["numberMatched"] == len(EVENTS) and doc["numberReturned"] <= 2
        seen += [f["id"] for f in doc["features"]]
        url = rels(doc).get("next", {}).get("href")
        pages += 1
    assert seen == [e.id for e in EVENTS] and pages == 3


def test_bbox_and_datetime(client: TestClient, built: Built) -> None:
    public_id = PublicIds(key_for(built.data))
    base = "/ogc/collections/violations/items"
    in_box = client.get(f"{base}?bbox=35,47,36,48").json()
    assert [f["id"] for f in in_box["features"]] == [public_id(VIO_UA.id), public_id(VIO_FOM.id)]
    assert in_box["numberMatched"] == 2
    assert client.get(f"{base}?bbox=35,47,0,36,48,10").json()["numberMatched"] == 2
    instant = client.get(f"{base}?datetime={VIO_UA.time.isoformat().replace('+00:00', 'Z')}").json()
    assert [f["id"] for f in instant["features"]] == [public_id(VIO_UA.id)]
    after = client.get(f"{base}?datetime=2026-09-02T06:30:00.000001Z/..").json()
    assert [f["id"] for f in after["features"]] == [public_id(VIO_FOM.id)]
    before = client.get(f"{base}?datetime=../2026-09-02T06:00:00Z").json()
    assert before["numberMatched"] == 1
    closed = client.get(f"{base}?datetime=2026-09-02T06:00:00Z/2026-09-02T07:00:00Z").json()
    assert closed["numberMatched"] == 4  # both ends included
    assert client.get(f"{base}?datetime=2026-09-02").json()["numberMatched"] == 4


def test_line_versions_by_datetime(client: TestClient) -> None:
    base = "/ogc/collections/line_of_contact/items"
    assert client.get(f"{base}?datetime=2026-09-02T00:00:00Z").json()["numberMatched"] == 1
    assert client.get(f"{base}?datetime=2020-01-01T00:00:00Z").json()["numberMatched"] == 0
    feature = client.get(base).json()["features"][0]
    one = client.get(f"{base}/{feature['id']}")
    assert one.status_code == 200 and one.json()["id"] == feature["id"] and one.json()["properties"]["valid_from"]


def test_limit_is_clamped_not_refused(client: TestClient) -> None:
    doc = client.get("/ogc/collections/violations/items?limit=50000").json()
    assert doc["numberReturned"] == len(VIOLATIONS)


@pytest.mark.parametrize(
    "query",
    ["colour=red", "bbox=1,2,3", "bbox=a,b,c,d", "datetime=yesterday", "datetime=../..", "limit=0", "offset=-1",
     "f=html", "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857", "crs=EPSG:4326"],
)  # fmt: skip
def test_bad_parameters_are_400(client: TestClient, query: str) -> None:
    r = client.get(f"/ogc/collections/violations/items?{query}")
    assert r.status_code == 400, r.text
    assert r.json()["detail"]


def test_single_feature(client: TestClient, as_role: Role, built: Built) -> None:
    public_id = PublicIds(key_for(built.data))
    r = client.get(f"/ogc/collections/violations/items/{VIO_UA.id}", headers=as_role("analyst"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    f = r.json()
    assert f["type"] == "Feature" and f["id"] == VIO_UA.id and {"self", "collection"} <= set(rels(f))
    public = client.get(f"/ogc/collections/violations/items/{public_id(VIO_UA.id)}").json()
    assert public["geometry"]["coordinates"] == [round(VIO_UA.position.lon_deg, 2), round(VIO_UA.position.lat_deg, 2)]
    assert client.get(f"/ogc/collections/violations/items/{VIO_UA.id}").status_code == 404  # real ids are not public
    assert client.get("/ogc/collections/sensors/items/XX-NOPE", headers=as_role("analyst")).status_code == 404
    assert client.get("/ogc/collections/sectors/items/S2-ZAP").json()["properties"]["id"] == "S2-ZAP"
    assert client.get("/ogc/collections/sectors/items/S2-ZAP?limit=3").status_code == 400


# -- GDAL ------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(built: Built) -> Iterator[str]:
    """``truceline serve`` in its own process (GDAL's reads hold the GIL, so not a thread of this one)."""
    port = _free_port()
    log = (built.data.parent / "serve.log").open("wb")  # its access log: what GDAL asked for
    proc = subprocess.Popen(
        [sys.executable, "-m", "truceline", "serve", "--data", str(built.data), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/ogc", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("truceline serve did not start")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture
def gdal() -> Iterator[Any]:
    pyogrio = pytest.importorskip("pyogrio")
    if "OAPIF" not in pyogrio.list_drivers():
        pytest.fail(f"GDAL {pyogrio.__gdal_version_string__} in pyogrio has no OAPIF driver")
    pyogrio.set_gdal_config_options({"GDAL_HTTP_TIMEOUT": "30", "GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    yield pyogrio
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})


def test_gdal_reads_the_public_collections(server: str, built: Built, gdal: Any) -> None:
    public_id = PublicIds(key_for(built.data))
    from pyogrio import raw

    url = f"OAPIF:{server}/ogc"
    layers = gdal.list_layers(url)
    assert [str(n) for n in layers[:, 0]] == PUBLIC_COLLECTIONS
    meta, _, geometry, fields = raw.read(url, layer="violations")
    names = list(meta["fields"])
    assert len(geometry) == len(VIOLATIONS) and "rule_id" in names and "incident_id" not in names
    assert sorted(fields[names.index("id")]) == sorted(public_id(v.id) for v in VIOLATIONS)
    _, _, geometry, _ = raw.read(url, layer="violations", bbox=(35.0, 47.0, 36.0, 48.0))
    assert len(geometry) == 2
    meta, _, geometry, _ = raw.read(url, layer="sectors")
    assert len(geometry) >= 5
    info = gdal.read_info(url, layer="line_of_contact")
    assert info["features"] == 1 and "CRS84" in info["crs"]


def test_gdal_with_a_token_opens_the_mission_collections(server: str, built: Built, gdal: Any) -> None:
    from pyogrio import raw

    gdal.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": built.tokens["analyst"]})
    url = f"OAPIF:{server}/ogc"
    assert [str(n) for n in gdal.list_layers(url)[:, 0]] == ALL_COLLECTIONS
    meta, _, geometry, fields = raw.read(url, layer="incidents")
    names = list(meta["fields"])
    assert len(geometry) == len(INCIDENTS) and "weapon_class" in names
    # GDAL follows the next links: a page size of 2 reads all 5 events in 3 requests.
    meta, _, geometry, fields = raw.read(url, layer="events", PAGE_SIZE=2)
    assert sorted(fields[list(meta["fields"]).index("id")]) == sorted(e.id for e in EVENTS)
    meta, _, geometry, fields = raw.read(url, layer="sensors")
    health = dict(zip(fields[list(meta["fields"]).index("id")], fields[list(meta["fields"]).index("health")],
                      strict=True))  # fmt: skip
    assert health["FR-AC-002"] == "jammed"


def _column(meta: Any, fields: Any, name: str) -> list[Any]:
    return list(fields[list(meta["fields"]).index(name)])


def test_gdal_reads_the_flat_properties(server: str, built: Built, gdal: Any) -> None:
    from pyogrio import raw

    gdal.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": built.tokens["analyst"]})
    meta, _, _, fields = raw.read(f"OAPIF:{server}/ogc", layer="incidents", datetime_as_string=True)
    names = list(meta["fields"])
    assert {"time", "party", "window_start", "attribution_party", "attribution_level"} <= set(names)
    assert "attribution" not in names and "window" not in names  # no nested object left as JSON text
    types = dict(zip(names, meta["ogr_types"], strict=True))
    assert types["time"] == types["window_start"] == "OFTDateTime" and types["attribution_probability"] == "OFTReal"
    got = dict(zip(_column(meta, fields, "id"), _column(meta, fields, "time"), strict=True))
    expected = {i.id: i.window.start for i in INCIDENTS}
    assert {k: dt.datetime.fromisoformat(str(v).replace("Z", "+00:00")) for k, v in got.items()} == expected
    assert dict(zip(_column(meta, fields, "id"), _column(meta, fields, "party"), strict=True)) == {
        "inc-ru": "RU", "inc-ua": "UA", "inc-un": "unattributed"}  # fmt: skip


def test_gdal_reads_a_filtered_url(server: str, built: Built, gdal: Any) -> None:
    from pyogrio import raw

    public_id = PublicIds(key_for(built.data))
    # GDAL repeats the URL's query on every request: the collection's and the items'
    meta, _, geometry, fields = raw.read(f"OAPIF:{server}/ogc/collections/violations?party=UA&sortby=-time")
    assert _column(meta, fields, "id") == [public_id(VIO_FOM.id), public_id(VIO_UA.id)] and len(geometry) == 2
    assert set(_column(meta, fields, "party")) == {"UA"}
    # and its own where clause on a flat property (evaluated by GDAL: the same answer)
    meta, _, _, fields = raw.read(f"OAPIF:{server}/ogc", layer="violations", where="family = 'fire_across_line'")
    assert _column(meta, fields, "id") == [public_id(VIO_RU.id)]
    gdal.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": built.tokens["analyst"]})
    meta, _, _, fields = raw.read(f"OAPIF:{server}/ogc/collections/events?kind=impact&party=unattributed")
    assert _column(meta, fields, "id") == [e.id for e in EVENTS if e.kind.value == "impact"]


def test_gdal_sends_a_where_on_queryables_to_the_server(server: str, built: Built, gdal: Any) -> None:
    from pyogrio import raw

    public_id = PublicIds(key_for(built.data))
    url = f"OAPIF:{server}/ogc"
    meta, _, _, fields = raw.read(url, layer="violations", where="party = 'UA' AND family = 'buffer_zone'")
    assert _column(meta, fields, "id") == [public_id(VIO_UA.id)]
    meta, _, _, fields = raw.read(url, layer="violations", where="time >= '2026-09-02T06:30:00Z'")
    assert _column(meta, fields, "id") == [public_id(VIO_UN.id), public_id(VIO_FOM.id)]
    asked = [line for line in (built.data.parent / "serve.log").read_text().splitlines()
             if "GET /ogc/collections/violations/items?" in line]  # fmt: skip
    assert any("party=UA" in line and "family=buffer_zone" in line for line in asked), asked
    assert any("datetime=2026-09-02T06:30:00Z%2F.." in line for line in asked), asked
