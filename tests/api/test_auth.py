"""The roles matrix: every endpoint for every role, and every refusal (401 without a valid token, 403 for a
role that may not). Reads run on the shared store; a write that a role may do runs on a fresh one."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import VIO_UN, Built
from truceline.api.auth import PERMISSIONS
from truceline.service.redaction import PublicIds, key_for
from truceline.service.tokens import authenticate, create_token, hash_token, revoke_token
from truceline.store import SQLiteStore

ALL = ("public", "admin", "analyst", "observer", "liaison-UA", "liaison-RU")
READERS = ("admin", "analyst", "observer")
LIAISONS = ("liaison-UA", "liaison-RU")


@dataclass(frozen=True)
class Ep:
    """An endpoint call, the roles that may make it, and the status each allowed role gets."""

    method: str
    path: str
    roles: tuple[str, ...]
    ok: int = 200
    body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    special: dict[str, int] = field(default_factory=dict)  # role -> status, where it differs from ``ok``
    narrowed: str | None = None  # words of docs/api.md's row that narrow its roles for this call

    @property
    def write(self) -> bool:
        return self.method != "GET"

    def call(self, client: TestClient, headers: dict[str, str], built: Built) -> Any:
        h = headers | self.headers
        path = self.path.replace(PUBLIC_VIO, PublicIds(key_for(built.data))(VIO_UN.id))  # keyed by the store's secret
        if self.content is not None:
            return client.request(self.method, path, content=self.content, headers=h)
        return client.request(self.method, path, json=self.body, headers=h)

    def __str__(self) -> str:
        return f"{self.method} {self.path.split('?')[0]}"


#: In a path: the public id of ``VIO_UN`` (keyed per data directory, known once the store is built).
PUBLIC_VIO = "<public id of VIO_UN>"

SIGHTING = {
    "id": "sgt-api-1",
    "platform": "uav",
    "position": {"lon_deg": 37.7, "lat_deg": 47.75},
    "time": "2026-09-02T07:00:00Z",
    "weapon_class": "mlrs",
}
REASON = {"reason": "two sources checked"}

ENDPOINTS = [
    Ep("GET", "/api/v1/agreement", ALL),
    Ep("GET", "/api/v1/rules", ALL),
    Ep("GET", "/api/v1/layers", ALL),
    Ep("GET", "/api/v1/layers/sectors", ALL),
    Ep("GET", "/api/v1/whoami", ALL),
    Ep("GET", "/api/v1/changes", ALL),
    Ep("GET", "/api/v1/bulletins", ALL),
    Ep("GET", "/api/v1/bulletins/2026-09-03", ALL),
    Ep("GET", "/api/v1/bulletins/2026-09-03?edition=internal", READERS,
       narrowed="the public and liaison officers read only the public edition"),
    Ep("GET", "/api/v1/bulletins/2026-09-03/bulletin.html?edition=public", ALL),
    Ep("GET", "/api/v1/ledger", ALL),
    Ep("GET", "/api/v1/health", ALL),
    Ep("GET", "/api/v1/stream", ALL),
    Ep("GET", "/api/v1/ledger/checkpoint", ALL),
    Ep("GET", "/api/v1/ledger/entries?start=1", ALL),
    Ep("GET", "/api/v1/ledger/keys", ALL),
    Ep("GET", "/api/v1/ledger/proof/inclusion?index=1", ALL),
    Ep("GET", "/api/v1/ledger/proof/consistency?old=1", ALL),
    Ep("GET", "/api/v1/violations", ALL),
    Ep("GET", "/api/v1/incidents", (*READERS, *LIAISONS)),
    Ep("GET", "/api/v1/incidents/inc-ru", (*READERS, *LIAISONS), special={"liaison-UA": 404}),
    Ep("GET", "/api/v1/claims", (*READERS, *LIAISONS)),
    Ep("GET", "/api/v1/aggregates", (*READERS, *LIAISONS)),
    Ep("GET", "/api/v1/events", READERS),
    Ep("GET", "/api/v1/sensors", READERS),
    Ep("GET", "/api/v1/coverage?cell_km=25", READERS),
    Ep("GET", "/api/v1/metrics", READERS),
    Ep("GET", "/api/v1/audit/inc-ru", ("admin", "analyst")),
    Ep("GET", "/api/v1/tokens", ("admin",)),
    Ep("GET", "/ogc", ALL),
    Ep("GET", "/ogc/conformance", ALL),
    Ep("GET", "/ogc/collections", ALL),
    Ep("GET", "/ogc/collections/violations", ALL),
    Ep("GET", "/ogc/collections/violations/items", ALL),
    Ep("GET", f"/ogc/collections/violations/items/{VIO_UN.id}", ALL,
       special={"public": 404, **dict.fromkeys(LIAISONS, 404)}),
    Ep("GET", f"/ogc/collections/violations/items/{PUBLIC_VIO}", ALL, special=dict.fromkeys(
        (*READERS, *LIAISONS), 404)),
    Ep("GET", "/ogc/collections/incidents", (*READERS, *LIAISONS)),
    Ep("GET", "/ogc/collections/incidents/items", (*READERS, *LIAISONS)),
    Ep("GET", "/ogc/collections/incidents/items/inc-ua", (*READERS, *LIAISONS), special={"liaison-RU": 404}),
    Ep("GET", "/ogc/collections/events", READERS),
    Ep("GET", "/ogc/collections/sensors", READERS),
    Ep("GET", "/ogc/collections/line_of_contact", ALL),
    Ep("GET", "/ogc/collections/sectors", ALL),
    Ep("GET", "/ogc/collections/protected_sites", ALL),
    Ep("GET", "/ogc/collections/events/items", READERS),
    Ep("GET", "/ogc/collections/events/items/evt-ru-i", READERS),
    Ep("GET", "/ogc/collections/sensors/items", READERS),
    Ep("GET", "/ogc/collections/sensors/items/UK-AC-001", READERS),
    Ep("GET", "/ogc/collections/line_of_contact/items", ALL),
    Ep("GET", "/ogc/collections/sectors/items", ALL),
    Ep("GET", "/ogc/collections/protected_sites/items", ALL),
    Ep("POST", f"/api/v1/review/violation/{VIO_UN.id}/confirm", ("admin", "analyst"), body=REASON),
    Ep("POST", f"/api/v1/review/violation/{VIO_UN.id}/dismiss", ("admin", "analyst"), body=REASON),
    Ep("POST", f"/api/v1/review/violation/{VIO_UN.id}/inconclusive", ("admin", "analyst"), body=REASON),
    Ep("POST", "/api/v1/review/incident/inc-un/request", ("admin", "analyst"), body=REASON),
    Ep("POST", "/api/v1/review/event/evt-un-i/annotate", ("admin", "analyst"), body={"text": "looks like a 152"}),
    Ep("POST", "/api/v1/review/merge", ("admin", "analyst"), body={"ids": ["inc-ru", "inc-un"], "reason": "one salvo"}),
    Ep("POST", "/api/v1/review/split", ("admin", "analyst"),
       body={"id": "inc-ru", "groups": [["evt-ru-l"], ["evt-ru-i"]], "reason": "two rounds"}),
    Ep("POST", "/api/v1/ingest/sighting", ("admin", "observer"), body=[SIGHTING]),
    Ep("POST", "/api/v1/ingest/sightings", ("admin", "observer"), content=(json.dumps(SIGHTING) + "\n").encode(),
       headers={"Content-Type": "application/x-ndjson"}),
    Ep("POST", "/api/v1/tokens", ("admin",), ok=201, body={"role": "analyst", "name": "new.analyst"}),
    Ep("DELETE", "/api/v1/tokens/tok-000000000000", ("admin",), ok=404),  # allowed, and no such token
]  # fmt: skip


def _status(ep: Ep, role: str) -> int:
    if role in ep.roles:
        return ep.special.get(role, ep.ok)
    return 401 if role == "public" else 403


MATRIX = [(ep, role) for ep in ENDPOINTS for role in ALL]


def _headers(built: Built, role: str) -> dict[str, str]:
    return auth(None if role == "public" else built.tokens[role])


@pytest.mark.parametrize(("ep", "role"), [(e, r) for e, r in MATRIX if not (e.write and r in e.roles)], ids=str)
def test_matrix_reads_and_refusals(client: TestClient, built: Built, ep: Ep, role: str) -> None:
    r = ep.call(client, _headers(built, role), built)
    assert r.status_code == _status(ep, role), r.text
    if r.status_code in (401, 403):
        assert r.headers["content-type"].startswith("application/json")
        assert ep.path.split("?")[0].rsplit("/", 1)[0] and isinstance(r.json()["detail"], str)
    if r.status_code == 401:
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("ep", "role"), [(e, r) for e, r in MATRIX if e.write and r in e.roles], ids=str)
def test_matrix_allowed_writes(fresh_client: TestClient, fresh: Built, ep: Ep, role: str) -> None:
    r = ep.call(fresh_client, _headers(fresh, role), fresh)
    assert r.status_code == _status(ep, role), r.text


def test_revoke_endpoint_is_admin_only(fresh_client: TestClient, fresh: Built) -> None:
    admin = auth(fresh.tokens["admin"])
    made = fresh_client.post("/api/v1/tokens", json={"role": "observer", "name": "obs.2"}, headers=admin)
    tid = made.json()["token_id"]
    for role in ("analyst", "observer", "liaison-UA"):
        assert fresh_client.delete(f"/api/v1/tokens/{tid}", headers=auth(fresh.tokens[role])).status_code == 403
    assert fresh_client.delete(f"/api/v1/tokens/{tid}").status_code == 401
    r = fresh_client.delete(f"/api/v1/tokens/{tid}", headers=auth(fresh.tokens["admin"]))
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert fresh_client.get("/api/v1/whoami", headers=auth(made.json()["token"])).status_code == 401
    assert fresh_client.delete(f"/api/v1/tokens/{tid}", headers=auth(fresh.tokens["admin"])).status_code == 422
    assert fresh_client.delete("/api/v1/tokens/tok-000000000000", headers=admin).status_code == 404


BAD_HEADERS: dict[str, Callable[[Built], dict[str, str]]] = {
    "unknown token": lambda b: auth("not-a-token"),
    "revoked token": lambda b: auth(b.revoked),
    "not bearer": lambda b: {"Authorization": f"Basic {b.tokens['admin']}"},
    "empty bearer": lambda b: {"Authorization": "Bearer "},
}


@pytest.mark.parametrize("ep", ENDPOINTS, ids=str)
@pytest.mark.parametrize("bad", list(BAD_HEADERS))
def test_invalid_credentials_are_refused_everywhere(client: TestClient, built: Built, ep: Ep, bad: str) -> None:
    """A bad token is never quietly read as the public: 401 on reads and writes alike."""
    r = ep.call(client, BAD_HEADERS[bad](built), built)
    assert r.status_code == 401, r.text
    assert r.json()["detail"]


def test_every_action_of_the_permissions_table_is_exercised() -> None:
    actions = {
        "layers", "bulletins", "ledger", "changes", "whoami", "health", "violations", "incidents", "claims",
        "aggregates", "events", "sensors", "coverage", "metrics", "audit", "review", "ingest", "tokens",
    }  # fmt: skip
    assert set(PERMISSIONS) == actions
    assert all(r in ("admin", "analyst", "observer", "liaison", "public") for rs in PERMISSIONS.values() for r in rs)
    assert all("admin" in roles for roles in PERMISSIONS.values())


@pytest.mark.parametrize("role", ALL)
def test_whoami(client: TestClient, built: Built, role: str) -> None:
    got = client.get("/api/v1/whoami", headers=_headers(built, role)).json()
    assert got["role"] == role.split("-")[0]
    assert got["party"] == (role.split("-")[1] if "-" in role else None)
    assert got["name"] == ("anonymous" if role == "public" else built.names[role])


# -- tokens (service) ------------------------------------------------------------------------------
def test_tokens_are_stored_hashed_and_revocable(tmp_path: Any) -> None:
    store = SQLiteStore(tmp_path / "d")
    try:
        token, rec = create_token(store, "liaison", "ua.liaison", "UA")
        assert len(token) >= 40 and rec.token_hash == hash_token(store, token) and rec.party == "UA"
        assert rec.token_hash.startswith("hmac-sha256:") and token not in rec.token_hash
        dump = "\n".join(str(r) for r in store._db.execute("SELECT * FROM api_tokens").fetchall())
        assert token not in dump
        who = authenticate(store, token)
        assert who is not None and (who.role, who.name, who.party) == ("liaison", "ua.liaison", "UA")
        assert authenticate(store, token + "x") is None and authenticate(store, "") is None
        revoke_token(store, rec.token_id)
        assert authenticate(store, token) is None
        with pytest.raises(Exception, match=r"revoked, never deleted"):
            store._db.execute("DELETE FROM api_tokens")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("role", "name", "party", "match"),
    [
        ("root", "x", None, "role"),
        ("analyst", " ", None, "name"),
        ("liaison", "x", None, "party"),
        ("liaison", "x", "FR", "party"),
        ("analyst", "x", "UA", "party"),
    ],
)
def test_create_token_refuses(tmp_path: Any, role: str, name: str, party: str | None, match: str) -> None:
    from truceline.service.tokens import TokenError

    store = SQLiteStore(tmp_path / "d")
    try:
        with pytest.raises(TokenError, match=match):
            create_token(store, role, name, party)
    finally:
        store.close()


@pytest.mark.parametrize(
    "body",
    [{"role": "root", "name": "x"}, {"role": "liaison", "name": "x"}, {"role": "analyst", "name": ""},
     {"role": "analyst", "name": "x", "extra": 1}],
)  # fmt: skip
def test_token_endpoint_validates_its_body(fresh_client: TestClient, fresh: Built, body: dict[str, Any]) -> None:
    r = fresh_client.post("/api/v1/tokens", json=body, headers=auth(fresh.tokens["admin"]))
    assert r.status_code == 422 and r.json()["detail"]


def test_created_token_works_once_shown(fresh_client: TestClient, fresh: Built) -> None:
    r = fresh_client.post("/api/v1/tokens", json={"role": "liaison", "name": "ru.lo", "party": "RU"},
                          headers=auth(fresh.tokens["admin"]))  # fmt: skip
    assert r.status_code == 201
    token = r.json()["token"]
    listed = fresh_client.get("/api/v1/tokens", headers=auth(fresh.tokens["admin"])).json()
    assert any(t["name"] == "ru.lo" for t in listed) and token not in json.dumps(listed)
    assert all("token_hash" not in t and "token" not in t for t in listed)
    assert fresh_client.get("/api/v1/whoami", headers=auth(token)).json()["party"] == "RU"
