"""Review actions over HTTP: statuses, audit entries, the errors of the service mapped to their statuses."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import VIO_RU, VIO_UN, Built


def analyst(b: Built) -> dict[str, str]:
    return auth(b.tokens["analyst"])


def status_of(client: TestClient, b: Built, rid: str) -> str:
    feats = client.get("/api/v1/violations", headers=analyst(b)).json()["features"]
    return str(next(f for f in feats if f["id"] == rid)["properties"]["status"])


@pytest.mark.parametrize(("action", "to"), [("confirm", "verified"), ("dismiss", "refuted"),
                                            ("inconclusive", "inconclusive")])  # fmt: skip
def test_status_actions(fresh_client: TestClient, fresh: Built, action: str, to: str) -> None:
    r = fresh_client.post(f"/api/v1/review/violation/{VIO_UN.id}/{action}", json={"reason": "checked"},
                          headers=analyst(fresh))  # fmt: skip
    assert r.status_code == 200, r.text
    entry = r.json()
    assert entry["actor"] == fresh.names["analyst"] and entry["target_id"] == VIO_UN.id and entry["reason"] == "checked"
    assert entry["before"]["status"] == "unverified" and entry["after"]["status"] == to
    assert status_of(fresh_client, fresh, VIO_UN.id) == to
    audit = fresh_client.get(f"/api/v1/audit/{VIO_UN.id}", headers=analyst(fresh)).json()
    assert [a["seq"] for a in audit] == [entry["seq"]]
    again = fresh_client.post(f"/api/v1/review/violation/{VIO_UN.id}/{action}", json={"reason": "again"},
                              headers=analyst(fresh))  # fmt: skip
    assert again.status_code == 409 and VIO_UN.id in again.json()["detail"]


def test_public_sees_the_reviewed_status(fresh_client: TestClient, fresh: Built) -> None:
    fresh_client.post(f"/api/v1/review/violation/{VIO_RU.id}/confirm", json={"reason": "two contingents"},
                      headers=auth(fresh.tokens["admin"]))  # fmt: skip
    public = fresh_client.get("/api/v1/violations?status=verified").json()
    assert public["numberMatched"] == 1 and public["features"][0]["properties"]["status"] == "verified"


def test_request_and_annotate(fresh_client: TestClient, fresh: Built) -> None:
    r = fresh_client.post("/api/v1/review/incident/inc-un/request", json={"reason": "send a patrol"},
                          headers=analyst(fresh))  # fmt: skip
    assert r.status_code == 200 and r.json()["action"] == "request_verification"
    again = fresh_client.post("/api/v1/review/incident/inc-un/request", json={"reason": "again"},
                              headers=analyst(fresh))  # fmt: skip
    assert again.status_code == 409
    note = fresh_client.post("/api/v1/review/event/evt-un-i/annotate", json={"text": "crater 152 mm"},
                             headers=analyst(fresh))  # fmt: skip
    assert note.status_code == 200 and note.json()["reason"] == "crater 152 mm"
    note2 = fresh_client.post("/api/v1/review/event/evt-un-i/annotate", json={"reason": "same"}, headers=analyst(fresh))
    assert note2.status_code == 200
    detail = fresh_client.get("/api/v1/incidents/inc-un", headers=analyst(fresh)).json()
    assert [a["action"] for a in detail["audit"]] == ["request_verification"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (f"/api/v1/review/violation/{VIO_UN.id}/confirm", {}, 422),
        (f"/api/v1/review/violation/{VIO_UN.id}/confirm", {"reason": ""}, 422),
        (f"/api/v1/review/violation/{VIO_UN.id}/confirm", {"reason": "x", "extra": 1}, 422),
        (f"/api/v1/review/violation/{VIO_UN.id}/confirm", None, 422),
        (f"/api/v1/review/violation/{VIO_UN.id}/annotate", {}, 422),
        (f"/api/v1/review/violation/{VIO_UN.id}/approve", {"reason": "x"}, 404),
        ("/api/v1/review/violation/vio-nope/confirm", {"reason": "x"}, 404),
        ("/api/v1/review/claim/clm-ua-1/confirm", {"reason": "x"}, 422),
        ("/api/v1/review/merge", {"ids": ["inc-ru"], "reason": "x"}, 422),
        ("/api/v1/review/merge", {"ids": ["inc-ru", "inc-nope"], "reason": "x"}, 404),
        ("/api/v1/review/split", {"id": "inc-ru", "groups": [["evt-ru-l"], ["evt-x"]], "reason": "x"}, 422),
    ],
)
def test_review_errors(fresh_client: TestClient, fresh: Built, path: str, body: Any, status: int) -> None:
    r = fresh_client.post(path, json=body, headers=analyst(fresh))
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


def test_merge_and_split(fresh_client: TestClient, fresh: Built) -> None:
    r = fresh_client.post("/api/v1/review/merge", json={"ids": ["inc-ru", "inc-un"], "reason": "one salvo"},
                          headers=analyst(fresh))  # fmt: skip
    assert r.status_code == 200, r.text
    merged = r.json()["created"][0]["id"]
    current = [f["id"] for f in fresh_client.get("/api/v1/incidents", headers=analyst(fresh)).json()["features"]]
    assert merged in current and "inc-ru" not in current and "inc-un" not in current
    old = fresh_client.get("/api/v1/incidents/inc-ru", headers=analyst(fresh)).json()
    assert "superseded_by_run" in old["incident"]["properties"] and old["audit"][0]["action"] == "merge"
    assert fresh_client.get("/ogc/collections/incidents/items/inc-ru", headers=analyst(fresh)).status_code == 404
    body = {"id": merged, "groups": [["evt-ru-l", "evt-ru-i"], ["evt-un-i"]], "reason": "two salvos after all"}
    r = fresh_client.post("/api/v1/review/split", headers=analyst(fresh), json=body)
    assert r.status_code == 200, r.text
    assert len(r.json()["created"]) == 2
    again = fresh_client.post("/api/v1/review/violation/x/confirm", json={"reason": "x"}, headers=analyst(fresh))
    assert again.status_code == 404
