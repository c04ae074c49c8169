"""The leak scan: every public and liaison output of a processed simulated day, read as those audiences
read it, holds no sensor position, sensor id or health state, and no position finer than the redaction
policy allows (docs/api.md). The scanner is first shown to find the leaks of the internal edition and of
the mission's view, so a clean scan means something.

Outputs scanned: the API's collections and single features (violations, incidents and their detail,
claims, aggregates, changes), OGC API Features items, the public bulletin's exports (CSV, GeoJSON, KML,
GeoParquet, read through the API as a liaison reads them), its HTML tables, and the maps' own lists of
the layers and points they drew.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import shapely
from fastapi.testclient import TestClient

from tests.report.conftest import DAY, report_world  # noqa: F401  (the processed day, a session fixture)
from truceline.agreement import Agreement, load_agreement
from truceline.api import create_app
from truceline.core import Sensor
from truceline.geo.places import describe
from truceline.io.kmz import read_kmz
from truceline.io.nvg import read_nvg
from truceline.report import BulletinOptions, BulletinResult, build_bulletin
from truceline.service.redaction import KEY_FILE, RULES, PublicIds, key_for, public_ids
from truceline.service.tokens import create_token
from truceline.store import SQLiteStore

pytestmark = pytest.mark.slow

#: JSON keys that carry sensor identity or health (never in a public or liaison output).
SENSOR_KEYS = {"sensor_id", "sensor_ids", "detection_ids", "health", "health_at", "last_report"}
#: A point this close to a sensor, in an interference finding, places the sensor, m.
NEAR_SENSOR_M = 500.0
#: The bulletin's overlays and research tables (issue 16 item 6), scanned like its other exports.
OVERLAYS = ("findings.kmz", "findings.nvg", "findings-ucdp-ged.csv", "findings-acled.csv")
_PLACE = re.compile(r"(\d+\.\d+)\u00a0[NS], (\d+\.\d+)\u00a0[EW]")


@dataclass
class World:
    data: Path
    agreement: Agreement
    sensors: list[Sensor]
    internal: BulletinResult
    public: BulletinResult
    tokens: dict[str, str]


@dataclass
class Point:
    """A position found in an output: where, and whether it belongs to an interference finding."""

    lon: float
    lat: float
    where: str
    interference: bool = False


@dataclass
class Scan:
    """What the scanner found in one audience's outputs."""

    points: list[Point] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)
    layers: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(report_world: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> World:  # noqa: F811
    data = tmp_path_factory.mktemp("redaction") / "data"
    shutil.copytree(report_world[0], data)
    agreement = load_agreement(report_world[1])
    store = SQLiteStore(data)
    try:
        sensors = [s for s in store.records("sensor") if isinstance(s, Sensor)]
        built = {}
        for public in (False, True):
            out = data / "bulletins" / (DAY + ("-public" if public else ""))
            built[public] = build_bulletin(store, agreement, DAY, out, BulletinOptions(public=public, pdf=False))
        tokens = {f"liaison-{p}": create_token(store, "liaison", f"liaison.{p}", p)[0] for p in ("UA", "RU")}
        tokens["analyst"] = create_token(store, "analyst", "analyst.1")[0]
    finally:
        store.close()
    return World(data, agreement, sensors, built[False], built[True], tokens)


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.data, world.agreement)) as c:
        yield c


# ----------------------------------------------------------------------------------- collecting
def _walk(doc: Any, where: str, scan: Scan, interference: bool = False) -> None:
    """Every position and key of a JSON document."""
    if isinstance(doc, dict):
        rule = doc.get("rule_id") or (doc.get("properties") or {}).get("rule_id")
        here = interference or (isinstance(rule, str) and rule.startswith("monitoring_interference"))
        for k, v in doc.items():
            if k in SENSOR_KEYS:
                scan.keys.append((where, k))
            if k == "coordinates" and doc.get("type") == "Point" and v:
                scan.points.append(Point(float(v[0]), float(v[1]), where, here))
            elif k in ("launch", "impact") and isinstance(v, list) and len(v) == 2:
                scan.points.append(Point(float(v[0]), float(v[1]), f"{where}.{k}", here))
            elif isinstance(v, dict) and "lon_deg" in v and "lat_deg" in v:
                scan.points.append(Point(float(v["lon_deg"]), float(v["lat_deg"]), f"{where}.{k}", here))
            else:
                _walk(v, where, scan, here)
    elif isinstance(doc, list):
        for x in doc:
            _walk(x, where, scan, interference)


def _rows(rows: list[dict[str, Any]], where: str, scan: Scan) -> None:
    for r in rows:
        if r.get("lon") not in (None, ""):
            scan.points.append(Point(float(r["lon"]), float(r["lat"]), where,
                                     str(r.get("family")) == "monitoring_interference"))  # fmt: skip
        for k in r:
            if k in SENSOR_KEYS:
                scan.keys.append((where, k))


def _bulletin_files(files: dict[str, bytes], scan: Scan) -> None:
    """A bulletin's exports and HTML, as the files' bytes (name -> content)."""
    _rows(list(csv.DictReader(io.StringIO(files["findings.csv"].decode()))), "findings.csv", scan)
    _walk(json.loads(files["findings.geojson"]), "findings.geojson", scan)
    for pm in ET.fromstring(files["findings.kml"]).iter("{http://www.opengis.net/kml/2.2}Placemark"):
        data = {str(d.get("name")): d.findtext("{http://www.opengis.net/kml/2.2}value")
                for d in pm.iter("{http://www.opengis.net/kml/2.2}Data")}  # fmt: skip
        lon, lat = pm.findtext(".//{http://www.opengis.net/kml/2.2}coordinates", "").split(",")[:2]
        _rows([{**data, "lon": lon, "lat": lat}], "findings.kml", scan)
    t = pq.read_table(io.BytesIO(files["findings.parquet"])).to_pylist()
    geoms = shapely.from_wkb([r.pop("geometry") for r in t])
    _rows([{**r, "lon": g.x, "lat": g.y} for r, g in zip(t, geoms, strict=True)], "findings.parquet", scan)
    _overlays_and_research(files, scan)
    html = files["bulletin.html"].decode()
    scan.texts.append(("bulletin.html", html))
    for m in _PLACE.finditer(html):
        scan.points.append(Point(float(m.group(2)), float(m.group(1)), "bulletin.html place"))


def _shape_points(rows: list[dict[str, Any]], where: str, scan: Scan) -> None:
    """Every vertex of the findings' shapes (points and ellipses) of overlay rows, and their data's keys."""
    for r in rows:
        here = str(r.get("family")) == "monitoring_interference"
        geom = r["geometry"]
        for x, y in shapely.get_coordinates(geom):
            scan.points.append(Point(float(x), float(y), where, here))
        for k in r:
            if k in SENSOR_KEYS:
                scan.keys.append((where, k))


def _overlays_and_research(files: dict[str, bytes], scan: Scan) -> None:
    """The KMZ and NVG overlays' findings (the agreement's layers are public data) and the UCDP / ACLED tables."""
    if "findings.kmz" in files:
        marks = [p for p in read_kmz(io.BytesIO(files["findings.kmz"]), "findings.kmz")
                 if str(p["folder"]).startswith("Findings")]  # fmt: skip
        assert marks, "the KMZ holds no finding to scan"
        _shape_points(marks, "findings.kmz", scan)
    if "findings.nvg" in files:
        items = [i for i in read_nvg(io.BytesIO(files["findings.nvg"]), "findings.nvg")
                 if str(i["group"]).startswith("Findings")]  # fmt: skip
        assert items, "the NVG holds no finding to scan"
        _shape_points(items, "findings.nvg", scan)
    for name in ("findings-ucdp-ged.csv", "findings-acled.csv"):
        if name in files:
            rows = list(csv.DictReader(io.StringIO(files[name].decode())))
            _rows([{**r, "lon": r["longitude"], "lat": r["latitude"]} for r in rows if r["longitude"]], name, scan)
            scan.texts.append((name, files[name].decode()))


def _maps(result: BulletinResult, scan: Scan) -> None:
    for m in result.maps:
        for layer in m.layers:
            scan.layers.append((m.path.name, layer.name))
            for x, y in zip(layer.lon, layer.lat, strict=True):
                if layer.name != "sites":  # the agreement's protected sites: public data
                    scan.points.append(Point(x, y, f"{m.path.name}:{layer.name}"))


def _api(client: TestClient, headers: dict[str, str], scan: Scan, liaison: bool) -> None:
    get = lambda url: client.get(url, headers=headers)  # noqa: E731
    docs = {url: get(url) for url in ("/api/v1/violations?limit=10000", "/ogc/collections/violations/items?limit=10000",
                                      "/api/v1/changes")}  # fmt: skip
    if liaison:
        for url in (
            "/api/v1/incidents?limit=10000",
            "/ogc/collections/incidents/items?limit=10000",
            "/api/v1/claims?limit=10000",
            "/api/v1/aggregates?by=day,sector,family,party,rule",
        ):
            docs[url] = get(url)
        for f in docs["/api/v1/incidents?limit=10000"].json()["features"][:40]:
            docs[f"/api/v1/incidents/{f['id']}"] = get(f"/api/v1/incidents/{f['id']}")
    for f in docs["/api/v1/violations?limit=10000"].json()["features"][:40]:
        docs[f"ogc item {f['id']}"] = get(f"/ogc/collections/violations/items/{f['id']}")
    for where, r in docs.items():
        assert r.status_code == 200, (where, r.text)
        _walk(r.json(), where, scan)
        scan.texts.append((where, r.text))
    names = ("findings.csv", "findings.geojson", "findings.kml", "findings.parquet", "bulletin.html", *OVERLAYS)
    got = {n: get(f"/api/v1/bulletins/{DAY}/{n}") for n in names}  # the public edition, as a liaison reads it
    assert all(r.status_code == 200 for r in got.values()), {n: r.status_code for n, r in got.items()}
    files = {n: r.content for n, r in got.items()}
    _bulletin_files(files, scan)


# ----------------------------------------------------------------------------------- judging
def _metres(lon0: float, lat0: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    dx = (lon - lon0) * 111_320.0 * np.cos(np.radians(lat0))
    out: np.ndarray = np.hypot(dx, (lat - lat0) * 110_574.0)
    return out


def _rounded(x: float) -> bool:
    return abs(round(x, 2) - x) < 1e-9


def leaks(world: World, scan: Scan, party: str | None) -> list[str]:
    """Every leak in an audience's outputs (``party``: a liaison's, None: the public)."""
    slon = np.array([s.position.lon_deg for s in world.sensors])
    slat = np.array([s.position.lat_deg for s in world.sensors])
    ids = re.compile(r"\b(?:" + "|".join(re.escape(s.id) for s in world.sensors) + r")\b")
    found = [f"{where}: sensor key {k!r}" for where, k in scan.keys]
    found += [f"{where}: sensor id {m.group(0)}" for where, text in scan.texts if (m := ids.search(text))]
    found += [f"{name}: layer {layer}" for name, layer in scan.layers if layer.startswith("sensors")]
    own = None
    if party is not None:
        exact = [p for p in scan.points if not (_rounded(p.lon) and _rounded(p.lat))]
        side = world.agreement.query([p.lon for p in exact] or [0.0], [p.lat for p in exact] or [0.0],
                                     world.public.data.end).sides.party_ids()  # fmt: skip
        own = {id(p) for p, s in zip(exact, side, strict=False) if s == party}
    for p in scan.points:
        d = float(_metres(p.lon, p.lat, slon, slat).min()) if slon.size else np.inf
        if p.interference and d <= NEAR_SENSOR_M:
            found.append(f"{p.where}: interference finding {d:.0f} m from a sensor")
        elif d < 1.0:
            found.append(f"{p.where}: a sensor's position ({p.lon}, {p.lat})")
        elif not (_rounded(p.lon) and _rounded(p.lat)) and (own is None or id(p) not in own):
            found.append(f"{p.where}: exact position ({p.lon}, {p.lat}) where the policy rounds")
    return found


# ----------------------------------------------------------------------------------- tests
def test_the_scan_finds_the_leaks_of_the_internal_edition_and_the_full_view(world: World, client: TestClient) -> None:
    """The scanner can fail: the mission's own outputs hold what the others may not see."""
    internal = Scan()
    _maps(world.internal, internal)
    _bulletin_files({n: (world.internal.out / n).read_bytes() for n in ("findings.csv", "findings.geojson",
                     "findings.kml", "findings.parquet", "bulletin.html", *OVERLAYS)}, internal)  # fmt: skip
    found = leaks(world, internal, None)
    assert any("layer sensors" in f for f in found)
    assert any("interference finding" in f and "findings.csv" in f for f in found)
    assert any("exact position" in f for f in found)
    for name in OVERLAYS:  # each new format is scanned, and its internal edition is caught
        assert any(f.startswith(f"{name}: exact position") for f in found), name
    full = Scan()
    _walk(client.get("/api/v1/violations?limit=10000", headers={"Authorization": f"Bearer {world.tokens['analyst']}"}
                     ).json(), "analyst violations", full)  # fmt: skip
    assert any("sensor key" in f for f in leaks(world, full, "UA"))


def test_public_outputs_leak_nothing(world: World, client: TestClient) -> None:
    scan = Scan()
    _maps(world.public, scan)
    _api(client, {}, scan, liaison=False)
    assert len(scan.points) > 100 and scan.layers
    assert leaks(world, scan, None) == []
    manifest = json.loads((world.public.out / "manifest.json").read_text(encoding="utf-8"))
    names = {n for m in manifest["maps"] for n in m["layers"]}
    assert "line" in names and not any(n.startswith("sensors") for n in names)
    internal = json.loads((world.internal.out / "manifest.json").read_text(encoding="utf-8"))
    assert "sensors" in {n for m in internal["maps"] for n in m["layers"]}


@pytest.mark.parametrize("party", ["UA", "RU"])
def test_liaison_outputs_leak_nothing(world: World, client: TestClient, party: str) -> None:
    scan = Scan()
    _api(client, {"Authorization": f"Bearer {world.tokens[f'liaison-{party}']}"}, scan, liaison=True)
    assert leaks(world, scan, party) == []


def test_own_fire_into_the_other_area_is_rounded_for_the_liaison(world: World, client: TestClient) -> None:
    """The issue's case: a liaison gets its own side's impact points in the other party's area at 1 km only,
    its launch points in its own area exactly."""
    analyst = {"Authorization": f"Bearer {world.tokens['analyst']}"}
    full = {f["id"]: f for f in client.get("/api/v1/incidents?limit=10000", headers=analyst).json()["features"]}
    checked = {"impact": 0, "launch": 0}
    for party in ("UA", "RU"):
        who = {"Authorization": f"Bearer {world.tokens[f'liaison-{party}']}"}
        for f in client.get("/api/v1/incidents?limit=10000", headers=who).json()["features"]:
            for key in ("impact", "launch"):
                exact = full[f["id"]]["properties"][key]
                if exact is None:
                    continue
                ctrl = world.agreement.query([exact[0]], [exact[1]], world.public.data.end).sides.party_ids()[0]
                if ctrl == party:
                    assert f["properties"][key] == exact
                else:
                    assert f["properties"][key] == [round(exact[0], 2), round(exact[1], 2)]
                    assert f["properties"]["ellipse"] is None or f["properties"]["ellipse"]["semi_minor_m"] >= 1000
                checked[key] += ctrl != party if key == "impact" else ctrl == party
    assert checked["impact"] > 0 and checked["launch"] > 0, checked


def _place_of(point: Any) -> str | None:
    got = None if point is None else describe(float(point[0]), float(point[1]))
    return None if got is None else got.text


def test_every_place_is_that_of_the_position_as_given(world: World, client: TestClient) -> None:
    """A place is never finer than the position next to it: each audience's ``place`` is the description of
    the point it receives (rounded: the rounded point's; withheld: none), in the API and the public CSV."""
    checked = {"rounded": 0, "withheld": 0, "exact": 0}
    for who in ("analyst", "liaison-UA", "liaison-RU", None):
        headers = {} if who is None else {"Authorization": f"Bearer {world.tokens[who]}"}
        for coll in ("violations", "incidents", "events") if who else ("violations",):
            got = client.get(f"/api/v1/{coll}?limit=10000", headers=headers)
            if got.status_code == 403 and who != "analyst":  # events are the mission's
                continue
            for f in got.json()["features"]:
                geom, props = f["geometry"], f["properties"]
                assert props["place"] == _place_of(None if geom is None else geom["coordinates"]), (who, coll)
                assert (props["place_detail"] is None) == (props["place"] is None)
                if coll == "incidents":
                    assert props["launch_place"] == _place_of(props["launch"])
                if geom is None:
                    checked["withheld"] += 1
                elif who in (None, "liaison-UA", "liaison-RU") and all(_rounded(c) for c in geom["coordinates"]):
                    checked["rounded"] += 1
                else:
                    checked["exact"] += 1
    assert all(checked.values()), checked
    rows = list(csv.DictReader(io.StringIO((world.public.out / "findings.csv").read_text(encoding="utf-8"))))
    assert rows and any(not r["lon"] for r in rows)  # the day has a finding at a sensor
    for r in rows:
        assert r["place"] == ("" if not r["lon"] else _place_of((r["lon"], r["lat"])))


def test_public_ids_are_keyed_stable_and_the_bulletins_references(world: World, client: TestClient) -> None:
    key_file = world.data / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    store = SQLiteStore(world.data)
    try:
        ids = public_ids(store)
        vios = [d.record.id for d in store.derived("violation")]
    finally:
        store.close()
    api = [f["id"] for f in client.get("/api/v1/violations?limit=10000").json()["features"]]
    assert api == [f["id"] for f in client.get("/api/v1/violations?limit=10000").json()["features"]]
    with (world.public.out / "findings.csv").open(encoding="utf-8") as fh:
        refs = {r["ref"] for r in csv.DictReader(fh)}
    assert refs and refs <= set(api) and set(api) <= {ids(v) for v in vios}
    import hashlib

    bare = {"pub-" + hashlib.sha256(v.encode()).hexdigest()[:16] for v in vios}
    assert not bare & set(api)  # not a bare hash: guessing ids does not reverse them
    assert PublicIds(key_for(world.data)) == ids and ids(vios[0]) != PublicIds(b"x" * 32)(vios[0])
    assert key_file.read_bytes().hex() not in repr(ids) and "secret" in repr(ids)


@pytest.mark.parametrize("field", list(RULES))
def test_docs_state_every_rule_of_the_policy(field: str) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert f"\n| {field} |" in docs, f"docs/api.md's redaction table has no row {field!r}"


def test_a_fire_mission_s_areas_are_shown_at_the_precision_of_their_centres(world: World, client: TestClient) -> None:
    """A liaison gets a fire mission's launch and impact areas exactly only inside its own party's area;
    elsewhere their centres are rounded to 0.01° and their ellipses coarsened (no covariance)."""
    analyst = {"Authorization": f"Bearer {world.tokens['analyst']}"}
    full = {f["id"]: f for f in client.get("/api/v1/incidents?limit=10000", headers=analyst).json()["features"]}
    areas = [(i, k) for i, f in full.items() for k in ("launch_area", "impact_area") if f["properties"].get(k)]
    assert areas, "the day holds no fire mission"
    rounded = 0
    for party in ("UA", "RU"):
        who = {"Authorization": f"Bearer {world.tokens[f'liaison-{party}']}"}
        got = {f["id"]: f for f in client.get("/api/v1/incidents?limit=10000", headers=who).json()["features"]}
        for inc_id, key in areas:
            if inc_id not in got:
                continue
            exact, shown_area = full[inc_id]["properties"][key], got[inc_id]["properties"][key]
            lon, lat = exact["position"]["lon_deg"], exact["position"]["lat_deg"]
            ctrl = world.agreement.query([lon], [lat], world.public.data.end).sides.party_ids()[0]
            if ctrl == party:
                assert shown_area == exact
            else:
                rounded += 1
                assert shown_area is None or (
                    shown_area["position"] == {"lon_deg": round(lon, 2), "lat_deg": round(lat, 2)}
                    and shown_area["uncertainty"]["cov_en_m2"] is None
                )
    assert rounded > 0
