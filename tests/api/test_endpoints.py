"""The JSON API's contract (docs/api.md), endpoint by endpoint, over HTTP."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import INC_RU, T0, VIO_FOM, VIO_RU, VIO_UA, VIO_UN, VIOLATIONS, Built
from truceline.service.queries import LAYERS
from truceline.service.redaction import PublicIds, key_for

Role = Callable[[str], dict[str, Any]]


def fids(body: dict[str, Any]) -> list[str]:
    return [f["id"] for f in body["features"]]


# -- collections -----------------------------------------------------------------------------------
def test_violations_as_a_feature_collection(client: TestClient, as_role: Role) -> None:
    r = client.get("/api/v1/violations", headers=as_role("analyst"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and (body["numberMatched"], body["numberReturned"]) == (4, 4)
    assert fids(body) == [v.id for v in VIOLATIONS]
    f = body["features"][0]
    assert f["geometry"] == {"type": "Point", "coordinates": list(VIO_RU.position.as_tuple())}
    assert f["properties"]["id"] == VIO_RU.id and f["properties"]["incident_id"] == INC_RU.id
    assert [lk["rel"] for lk in body["links"]] == ["self"]


def test_public_violations_are_rounded(client: TestClient, built: Built) -> None:
    public_id = PublicIds(key_for(built.data))
    body = client.get("/api/v1/violations").json()
    assert fids(body) == [public_id(v.id) for v in VIOLATIONS]
    for f, v in zip(body["features"], VIOLATIONS, strict=True):
        assert f["geometry"]["coordinates"] == [round(v.position.lon_deg, 2), round(v.position.lat_deg, 2)]
        assert "incident_id" not in f["properties"] and "event_ids" not in f["properties"]


def test_paging_links(client: TestClient, as_role: Role) -> None:
    body = client.get("/api/v1/violations?limit=3&status=corroborated,unverified", headers=as_role("admin")).json()
    links = {lk["rel"]: lk["href"] for lk in body["links"]}
    assert set(links) == {"self", "next"} and "offset=3" in links["next"] and "status=corroborated" in links["next"]
    nxt = client.get(links["next"], headers=as_role("admin")).json()
    assert fids(body) + fids(nxt) == [v.id for v in VIOLATIONS]
    assert {lk["rel"] for lk in nxt["links"]} == {"self", "prev"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("party=UA", [VIO_UA.id, VIO_FOM.id]),
        ("party=unattributed", [VIO_UN.id]),
        ("status=corroborated", [VIO_RU.id]),
        ("kind=buffer_zone,protected_site", [VIO_UA.id, VIO_UN.id]),
        ("bbox=35,47,36,48", [VIO_UA.id, VIO_FOM.id]),
        (f"start={VIO_UA.time.isoformat().replace('+00:00', 'Z')}&end=2026-09-02T06:59:00Z", [VIO_UA.id, VIO_UN.id]),
        ("sector=S2-ZAP", [VIO_UA.id, VIO_FOM.id]),
        ("start=2026-09-03", []),
    ],
)
def test_violation_filters(client: TestClient, as_role: Role, query: str, expected: list[str]) -> None:
    body = client.get(f"/api/v1/violations?{query}", headers=as_role("observer")).json()
    assert fids(body) == expected and body["numberMatched"] == len(expected)


@pytest.mark.parametrize(
    "query",
    ["bbox=1,2,3", "start=2026-09-02T06:00:00", "party=FR", "status=fine", "sector=S0", "limit=0", "offset=-2",
     "limit=x", "end=soon"],
)  # fmt: skip
def test_bad_query_parameters_are_400(client: TestClient, as_role: Role, query: str) -> None:
    r = client.get(f"/api/v1/violations?{query}", headers=as_role("analyst"))
    assert r.status_code == 400, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


def test_incidents(client: TestClient, as_role: Role) -> None:
    body = client.get("/api/v1/incidents", headers=as_role("analyst")).json()
    assert fids(body) == ["inc-ru", "inc-ua", "inc-un"]
    ru = body["features"][0]["properties"]
    assert ru["launch"] == [37.8, 47.95] and ru["impact"] == [37.45, 47.85]
    assert set(ru["ellipse"]) == {"semi_major_m", "semi_minor_m", "angle_deg"}
    un = body["features"][2]
    assert un["properties"]["launch"] is None and un["geometry"]["coordinates"] == [36.6, 47.7]
    assert fids(client.get("/api/v1/incidents?kind=mlrs", headers=as_role("analyst")).json()) == ["inc-ua"]
    assert fids(client.get("/api/v1/incidents?party=RU", headers=as_role("analyst")).json()) == ["inc-ru"]
    assert fids(client.get("/api/v1/incidents", headers=as_role("liaison-UA")).json()) == ["inc-ua"]


def test_incident_detail(client: TestClient, as_role: Role) -> None:
    d = client.get("/api/v1/incidents/inc-ru", headers=as_role("analyst")).json()
    assert set(d) == {"incident", "events", "violations", "audit"}
    assert d["incident"]["id"] == "inc-ru" and [e["id"] for e in d["events"]] == ["evt-ru-l", "evt-ru-i"]
    assert [v["id"] for v in d["violations"]] == [VIO_RU.id] and d["audit"] == []
    assert client.get("/api/v1/incidents/inc-ru", headers=as_role("observer")).json()["audit"] is None
    liaison = client.get("/api/v1/incidents/inc-ru", headers=as_role("liaison-RU")).json()
    assert "sensor_ids" not in liaison["events"][0]["properties"]
    r = client.get("/api/v1/incidents/inc-nope", headers=as_role("analyst"))
    assert r.status_code == 404 and "inc-nope" in r.json()["detail"]


def test_events(client: TestClient, as_role: Role) -> None:
    body = client.get("/api/v1/events?kind=impact&limit=2", headers=as_role("analyst")).json()
    assert fids(body) == ["evt-ru-i", "evt-ua-i"] and body["numberMatched"] == 3
    assert body["features"][0]["properties"]["ellipse"]["semi_major_m"] > 0
    assert client.get("/api/v1/events?status=verified", headers=as_role("analyst")).status_code == 400


def test_claims_with_verdicts(client: TestClient, as_role: Role) -> None:
    r = client.get("/api/v1/claims", headers=as_role("analyst"))
    items = r.json()
    assert isinstance(items, list) and r.headers["x-total-count"] == "3" and "link" not in r.headers
    by_id = {i["claim"]["id"]: i for i in items}
    assert by_id["clm-ua-1"]["verdict"]["verdict"] == "corroborated" and by_id["clm-media-1"]["verdict"] is None
    r = client.get("/api/v1/claims?limit=1", headers=as_role("analyst"))
    assert len(r.json()) == 1 and 'rel="next"' in r.headers["link"] and "offset=1" in r.headers["link"]
    contradicted = client.get("/api/v1/claims?status=contradicted", headers=as_role("analyst")).json()
    assert [i["claim"]["id"] for i in contradicted] == ["clm-ru-1"]
    against_ua = client.get("/api/v1/claims?party=UA", headers=as_role("analyst")).json()
    assert {i["claim"]["id"] for i in against_ua} == {"clm-ua-1", "clm-ru-1"}
    media = client.get("/api/v1/claims?party=unattributed", headers=as_role("analyst")).json()
    assert [i["claim"]["id"] for i in media] == ["clm-media-1"]
    liaison = client.get("/api/v1/claims", headers=as_role("liaison-UA")).json()
    assert {i["claim"]["id"] for i in liaison} == {"clm-ua-1", "clm-ru-1"}


def test_sensors_and_health(client: TestClient, as_role: Role) -> None:
    body = client.get("/api/v1/sensors", headers=as_role("observer")).json()
    # Every sensor, in the store's order: by installation time (the same for the three), then by id.
    assert fids(body) == ["FR-AC-002", "UK-AA-003", "UK-AC-001"]
    health = {f["id"]: f["properties"]["health"] for f in body["features"]}
    assert health["FR-AC-002"] == "jammed"
    early = client.get("/api/v1/sensors?at=2026-09-02T04:00:00Z&status=ok", headers=as_role("observer")).json()
    assert early["numberMatched"] == 3
    assert client.get("/api/v1/sensors?at=later", headers=as_role("observer")).status_code == 400


def test_coverage(client: TestClient, as_role: Role) -> None:
    r = client.get("/api/v1/coverage?cell_km=20&weapon_class=mlrs&at=2026-09-02T06:00:00Z", headers=as_role("analyst"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["properties"]["weapon_class"] == "mlrs"
    assert all(0 <= f["properties"]["p"] <= 1 for f in body["features"])
    assert client.get("/api/v1/coverage?weapon_class=catapult", headers=as_role("analyst")).status_code == 422
    assert client.get("/api/v1/coverage?kind=sideways", headers=as_role("analyst")).status_code == 400
    assert client.get("/api/v1/coverage?cell_km=0.1", headers=as_role("analyst")).status_code == 400


def test_aggregates(client: TestClient, as_role: Role) -> None:
    body = client.get("/api/v1/aggregates?by=party", headers=as_role("analyst")).json()
    assert body["keys"] == ["party"] and body["total"] == 4
    assert {r["party"]: r["count"] for r in body["rows"]} == {"RU": 1, "UA": 2, "unattributed": 1}
    ua = client.get("/api/v1/aggregates?by=day,family", headers=as_role("liaison-UA")).json()
    assert ua["total"] == 2 and {r["family"] for r in ua["rows"]} == {"buffer_zone", "freedom_of_movement"}
    assert ua["rows"][0]["day"] == "2026-09-02"
    assert client.get("/api/v1/aggregates?by=colour", headers=as_role("analyst")).status_code == 400
    assert client.get("/api/v1/aggregates?cutoff=25:00", headers=as_role("analyst")).status_code == 400


# -- agreement -------------------------------------------------------------------------------------
def test_layers(client: TestClient) -> None:
    assert client.get("/api/v1/layers").json() == list(LAYERS)
    for name in LAYERS:
        r = client.get(f"/api/v1/layers/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json", name
        body = r.json()
        assert body["type"] == "FeatureCollection" and body["name"] == name
        if name not in ("disengagement", "band"):  # the example agreement has neither
            assert body["features"], name
    assert client.get("/api/v1/layers/band").json()["features"] == []
    areas = client.get("/api/v1/layers/areas?at=2026-09-02T00:00:00Z").json()
    assert {f["properties"]["party"] for f in areas["features"]} == {"UA", "RU"}
    assert len(client.get("/api/v1/layers/boundaries").json()["features"]) == 27
    assert client.get("/api/v1/layers/line?at=2020-01-01T00:00:00Z").status_code == 404
    assert client.get("/api/v1/layers/roads").status_code == 404
    places = client.get("/api/v1/layers/settlements").json()
    pops = [f["properties"]["population"] for f in places["features"]]
    assert pops == sorted(pops, reverse=True) and min(pops) >= 1000 and "GeoNames" in places["attribution"]
    kyiv = places["features"][0]["properties"]
    assert (kyiv["name"], kyiv["name_uk"]) == ("Kyiv", "Київ")


def test_agreement(client: TestClient) -> None:
    a = client.get("/api/v1/agreement").json()
    assert a["id"] and set(a["parties"]) == {"UA", "RU"} and a["versions"] and len(a["bbox"]) == 4
    assert {s["id"] for s in a["sectors"]} >= {"S2-ZAP", "S3-DON-S"}


# -- changes, bulletins, dashboard, docs -----------------------------------------------------------
def test_changes_follow_writes(fresh_client: TestClient, fresh: Built) -> None:
    first = fresh_client.get("/api/v1/changes", headers=auth(fresh.tokens["analyst"])).json()
    assert first["changed"] and (first["incidents"], first["violations"]) == (3, 4)
    same = fresh_client.get(f"/api/v1/changes?since={first['seq']}", headers=auth(fresh.tokens["analyst"])).json()
    assert not same["changed"] and same["seq"] == first["seq"]
    fresh_client.post(f"/api/v1/review/violation/{VIO_UN.id}/annotate", json={"text": "n"},
                      headers=auth(fresh.tokens["analyst"]))  # fmt: skip
    after = fresh_client.get(f"/api/v1/changes?since={first['seq']}", headers=auth(fresh.tokens["analyst"])).json()
    assert after["changed"] and after["seq"] > first["seq"]
    public = fresh_client.get("/api/v1/changes").json()
    assert public["incidents"] is None and public["violations"] == 4
    liaison = fresh_client.get("/api/v1/changes", headers=auth(fresh.tokens["liaison-RU"])).json()
    assert (liaison["incidents"], liaison["violations"]) == (1, 1)


def _publish(root: Any, folder: str, marking: str) -> None:
    day = root / "bulletins" / folder
    day.mkdir(parents=True)
    (day / "bulletin.html").write_text(f"<html>{marking}</html>", encoding="utf-8")
    (day / "bulletin.pdf").write_bytes(b"%PDF-1.7 " + marking.encode())
    (day / "findings.geojson").write_text('{"type":"FeatureCollection","features":[]}', encoding="utf-8")


def test_bulletins(fresh_client: TestClient, fresh: Built) -> None:
    shutil.rmtree(fresh.data / "bulletins")
    assert fresh_client.get("/api/v1/bulletins").json() == []
    _publish(fresh.data, "2026-09-02", "MISSION INTERNAL")
    _publish(fresh.data, "2026-09-02-public", "PUBLIC")
    _publish(fresh.data, "2026-09-01", "MISSION INTERNAL")
    (fresh.data / "bulletins" / "notes").mkdir()
    analyst = auth(fresh.tokens["analyst"])
    listed = fresh_client.get("/api/v1/bulletins", headers=analyst).json()
    assert [(b["date"], b["edition"]) for b in listed] == [("2026-09-02", "public"), ("2026-09-02", "internal"),
                                                            ("2026-09-01", "internal")]  # fmt: skip
    assert listed[0]["files"] == ["bulletin.html", "bulletin.pdf", "findings.geojson"]
    html = fresh_client.get(listed[0]["href"], headers=analyst)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html") and "PUBLIC" in html.text
    assert "INTERNAL" in fresh_client.get("/api/v1/bulletins/2026-09-02", headers=analyst).text
    pdf = fresh_client.get("/api/v1/bulletins/2026-09-02?format=pdf", headers=analyst)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    gj = fresh_client.get("/api/v1/bulletins/2026-09-02?format=geojson", headers=analyst)
    assert gj.headers["content-type"] == "application/geo+json" and gj.json()["type"] == "FeatureCollection"
    assert fresh_client.get("/api/v1/bulletins/2026-09-02/findings.geojson", headers=analyst).status_code == 200
    assert fresh_client.get("/api/v1/bulletins/2026-09-02?format=csv", headers=analyst).status_code == 404
    assert fresh_client.get("/api/v1/bulletins/2026-09-03", headers=analyst).status_code == 404
    assert fresh_client.get("/api/v1/bulletins/2026-09-01?edition=public", headers=analyst).status_code == 404
    assert fresh_client.get("/api/v1/bulletins/02-09-2026").status_code == 400
    assert fresh_client.get("/api/v1/bulletins/2026-09-02?format=docx").status_code == 400
    assert fresh_client.get("/api/v1/bulletins/2026-09-02?edition=draft").status_code == 400
    assert fresh_client.get("/api/v1/bulletins/2026-09-02/..%2F..%2Ftruceline.sqlite").status_code == 404
    assert fresh_client.get("/api/v1/bulletins/2026-09-02/.hidden").status_code == 404


@pytest.mark.parametrize("role", ["public", "liaison-UA"])
def test_outside_the_mission_only_the_public_edition(fresh_client: TestClient, fresh: Built, role: str) -> None:
    shutil.rmtree(fresh.data / "bulletins")
    _publish(fresh.data, "2026-09-02", "MISSION INTERNAL")
    _publish(fresh.data, "2026-09-02-public", "PUBLIC")
    _publish(fresh.data, "2026-09-01", "MISSION INTERNAL")
    h = auth(None if role == "public" else fresh.tokens[role])
    listed = fresh_client.get("/api/v1/bulletins", headers=h).json()
    assert [(b["date"], b["edition"]) for b in listed] == [("2026-09-02", "public")]
    page = fresh_client.get("/api/v1/bulletins/2026-09-02", headers=h)
    assert "PUBLIC" in page.text and "INTERNAL" not in page.text
    assert "INTERNAL" not in fresh_client.get("/api/v1/bulletins/2026-09-02/bulletin.html", headers=h).text
    refused = 401 if role == "public" else 403
    assert fresh_client.get("/api/v1/bulletins/2026-09-02?edition=internal", headers=h).status_code == refused
    pdf = fresh_client.get("/api/v1/bulletins/2026-09-02/bulletin.pdf?edition=internal", headers=h)
    assert pdf.status_code == refused
    assert fresh_client.get("/api/v1/bulletins/2026-09-01", headers=h).status_code == 404


def test_dashboard_and_leaflet_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    js = client.get("/static/leaflet/leaflet.js")
    assert js.status_code == 200 and "Leaflet" in js.text[:300]
    assert client.get("/static/leaflet/leaflet.css").status_code == 200
    assert client.get("/static/leaflet/images/marker-icon.png").status_code == 200


def test_dashboard_fallback_without_web_files(tmp_path: Any, built: Built, agreement: Any) -> None:
    from truceline.api import create_app

    with TestClient(create_app(built.data, agreement, web_dir=tmp_path / "none")) as c:
        page = c.get("/")
        assert page.status_code == 200 and "/docs" in page.text
        assert c.get("/static/app.js").status_code == 404


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for p in ("/api/v1/violations", "/api/v1/incidents/{incident_id}", "/api/v1/review/{kind}/{record_id}/{action}",
              "/api/v1/ingest/{kind}", "/api/v1/tokens", "/api/v1/bulletins/{date}",
              "/ogc/collections/{collection_id}/items", "/api/v1/rules"):
        assert p in paths, p
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_unknown_paths_are_json_404(client: TestClient) -> None:
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}


def test_time_of_data_is_the_default_present(client: TestClient, as_role: Role) -> None:
    body = client.get("/api/v1/sensors", headers=as_role("analyst")).json()
    at = body["features"][0]["properties"]["health_at"]
    # The newest observation (claims, filed under the period they are about, do not count): the status report.
    assert at == (T0 - dt.timedelta(hours=1)).isoformat()
