"""The hardened server: body limits enforced before a body is read (413), absurd times and limits answered
400/422 naming the parameter (never 500), security headers on every response, the dashboard's sign-in by
session cookie (CSRF header on writes, no token in a URL), tokens at rest keyed (old ones still accepted),
the key file private."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth
from tests.api.data import VIO_UN, Built
from truceline.agreement import Agreement
from truceline.api import create_app
from truceline.api.middleware import CSP, CSP_DOCS, CSP_DOCUMENTS, SESSION_COOKIE, ServerSettings
from truceline.service import queries
from truceline.service.tokens import (
    KEY_FILE,
    authenticate,
    create_token,
    legacy_hash,
    open_session,
    revoke_token,
    session_principal,
    token_key,
)
from truceline.store import SQLiteStore
from truceline.store.base import ApiToken

SMALL = ServerSettings(max_ingest_bytes=4096, max_body_bytes=512, session_s=3600)
CSRF = {"X-Requested-With": "truceline"}
SIGHTING = {"id": "sgt-hard-1", "platform": "uav", "position": {"lon_deg": 37.7, "lat_deg": 47.75},
            "time": "2026-09-02T07:00:00Z", "weapon_class": "mlrs"}  # fmt: skip


# -- body limits: refused before the body is read ---------------------------------------------------
class Spy:
    """Counts the calls of the ingest step the route's handler makes once it has the body."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        raise AssertionError("the handler ran")


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    s = Spy()
    monkeypatch.setattr(queries, "ingest_body", s)
    return s


def _call(app: Any, method: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, dict[str, str], bytes, int]:  # noqa: E501
    """Run one request through the ASGI app with a body pulled chunk by chunk; returns (status, headers,
    body, bytes the app pulled)."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, pulled


def _endless(size: int = 1024) -> Iterator[bytes]:
    while True:
        yield b"[" + b" " * (size - 1)


@pytest.fixture
def small_app(fresh: Built, agreement: Agreement) -> Any:
    return create_app(fresh.data, agreement, settings=SMALL)


@pytest.mark.parametrize("who", ["public", "observer"])
def test_content_length_over_the_limit_is_refused_unread(small_app: Any, fresh: Built, spy: Spy, who: str) -> None:
    headers = {"Content-Type": "application/json", "Content-Length": str(200 * 1024 * 1024)}
    headers |= auth(None if who == "public" else fresh.tokens["observer"])
    status, h, body, pulled = _call(small_app, "POST", "/api/v1/ingest/sighting", headers, _endless())
    assert (status, pulled, spy.calls) == (413, 0, 0)
    assert "4,096 bytes" in json.loads(body)["detail"] and h["connection"] == "close"
    assert h["x-content-type-options"] == "nosniff"  # the guards' own answers carry the headers too


def test_a_streamed_body_stops_being_read_past_the_limit(small_app: Any, fresh: Built, spy: Spy) -> None:
    headers = {"Content-Type": "application/json"} | auth(fresh.tokens["observer"])  # chunked: no Content-Length
    status, _, body, pulled = _call(small_app, "POST", "/api/v1/ingest/sighting", headers, _endless())
    assert status == 413 and "limit" in json.loads(body)["detail"]
    assert SMALL.max_ingest_bytes < pulled <= SMALL.max_ingest_bytes + 1024 and spy.calls == 0


def test_a_streamed_json_body_over_the_small_limit_is_413_not_400(small_app: Any, fresh: Built) -> None:
    """FastAPI reads a JSON body itself (and turns what it raises into a 400): the 413 replaces its answer."""
    headers = {"Content-Type": "application/json"} | auth(fresh.tokens["analyst"])
    status, _, _, pulled = _call(small_app, "POST", f"/api/v1/review/violation/{VIO_UN.id}/confirm", headers,
                                 _endless(100))  # fmt: skip
    assert status == 413 and pulled <= SMALL.max_body_bytes + 100


def test_bodies_within_the_limits_go_through(small_app: Any, fresh: Built) -> None:
    with TestClient(small_app) as c:
        r = c.post("/api/v1/ingest/sighting", json=[SIGHTING], headers=auth(fresh.tokens["observer"]))
        assert r.status_code == 200, r.text
        big = [SIGHTING | {"id": f"sgt-hard-{i}"} for i in range(40)]  # ~6 KB: over the 4 KiB ingest limit
        assert c.post("/api/v1/ingest/sighting", json=big, headers=auth(fresh.tokens["observer"])).status_code == 413
        reason = {"reason": "x" * 600}  # over the 512-byte limit of other routes
        r = c.post(f"/api/v1/review/violation/{VIO_UN.id}/confirm", json=reason, headers=auth(fresh.tokens["analyst"]))
        assert r.status_code == 413
        r = c.post("/api/v1/tokens", content=b"{}", headers={"Content-Length": "12abc"} | auth(fresh.tokens["admin"]))
        assert r.status_code == 400 and "Content-Length" in r.json()["detail"]


@pytest.fixture
def served(fresh: Built, agreement: Agreement) -> Iterator[int]:
    """The app under uvicorn on a free port (the 413 as a real client gets it)."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(fresh.data, agreement), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_an_anonymous_200_mb_upload_is_answered_before_it_is_sent(served: int) -> None:
    """The issue's case: 200 MB announced, not one byte of it sent; the 413 comes back at once."""
    with socket.create_connection(("127.0.0.1", served), timeout=10) as s:
        s.sendall(b"POST /api/v1/ingest/detection HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                  b"Content-Length: 209715200\r\n\r\n")  # fmt: skip
        reply = s.recv(65536).decode("latin-1")
    assert reply.startswith("HTTP/1.1 413"), reply[:200]
    assert re.search(r"(?im)^connection: close", reply)


def test_settings_from_the_environment() -> None:
    got = ServerSettings.from_env({"TRUCELINE_MAX_INGEST_BYTES": "1000", "TRUCELINE_MAX_BODY_BYTES": " 10 "})
    assert (got.max_ingest_bytes, got.max_body_bytes, got.session_s) == (1000, 10, ServerSettings.session_s)
    assert ServerSettings.from_env({}) == ServerSettings()
    assert ServerSettings().max_ingest_bytes == 64 * 1024 * 1024
    for bad in ("0", "-5", "64MB", "1e6"):
        with pytest.raises(ValueError, match="TRUCELINE_MAX_BODY_BYTES"):
            ServerSettings.from_env({"TRUCELINE_MAX_BODY_BYTES": bad})
    assert ServerSettings().body_limit("/api/v1/ingest/detection") > ServerSettings().body_limit("/api/v1/tokens")


# -- absurd query values: 400 / 422 naming the parameter, never 500 ----------------------------------
ABSURD_TIMES = ["9999-12-31", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:30:00-01:00",
                "0001-01-01", "1899-12-31T23:59:59Z", "2200-01-01T00:00:00Z"]  # fmt: skip
TIME_PARAMS = [
    ("/api/v1/incidents", "start"), ("/api/v1/incidents", "end"), ("/api/v1/violations", "start"),
    ("/api/v1/events", "end"), ("/api/v1/claims", "start"), ("/api/v1/aggregates", "start"),
    ("/api/v1/sensors", "at"), ("/api/v1/coverage", "at"), ("/api/v1/layers/line", "at"),
    ("/ogc/collections/violations/items", "datetime"), ("/ogc/collections/incidents/items", "datetime"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "param"), TIME_PARAMS)
@pytest.mark.parametrize("value", ABSURD_TIMES)
def test_times_out_of_range_name_the_parameter(client: TestClient, built: Built, path: str, param: str,
                                               value: str) -> None:  # fmt: skip
    r = client.get(path, params={param: value}, headers=auth(built.tokens["admin"]))
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith(f"{param}: ") and "out of range" in r.json()["detail"]


@pytest.mark.parametrize("value", ["9999-12-31/..", "../9999-12-31", "0001-01-01T00:30:00+01:00/2026-09-02"])
def test_an_ogc_interval_out_of_range_is_400(client: TestClient, value: str) -> None:
    r = client.get("/ogc/collections/violations/items", params={"datetime": value})
    assert r.status_code == 400 and r.json()["detail"].startswith("datetime: ")


def test_times_at_the_bounds_are_accepted(client: TestClient, built: Built) -> None:
    h = auth(built.tokens["admin"])
    r = client.get("/api/v1/incidents", params={"start": "1900-01-01T00:00:00Z", "end": "2199-12-31T22:59:59-01:00"},
                   headers=h)  # fmt: skip
    assert r.status_code == 200 and r.json()["numberMatched"] == 3


@pytest.mark.parametrize(
    ("query", "status", "param"),
    [
        ("limit=99999999999999999999999999", 400, "limit"),
        ("offset=99999999999999999999999", 400, "offset"),
        ("limit=0", 400, "limit"),
        ("bbox=1e999,0,0,0", 400, "bbox"),
    ],
)
def test_paging_values_out_of_range_are_refused(client: TestClient, query: str, status: int, param: str) -> None:
    r = client.get(f"/api/v1/violations?{query}")
    assert r.status_code == status and param in r.json()["detail"], r.text


def test_a_page_above_the_largest_is_lowered_to_it(client: TestClient) -> None:
    r = client.get("/ogc/collections/violations/items?limit=50000")
    assert r.status_code == 200
    assert all(f"limit={queries.MAX_LIMIT}" in lk["href"] for lk in r.json()["links"] if lk["rel"] == "next")


def test_a_coverage_grid_of_too_many_cells_is_422(client: TestClient, built: Built) -> None:
    r = client.get("/api/v1/coverage?cell_km=1&bbox=-180,-90,180,90", headers=auth(built.tokens["analyst"]))
    assert r.status_code == 422 and r.json()["detail"].startswith("cell_km: ")
    # 10 x 10 degrees at 1 km (~800,000 cells, 3.4 GB before the server's cap) is refused before any work
    r = client.get("/api/v1/coverage?cell_km=1&bbox=30,40,40,50", headers=auth(built.tokens["analyst"]))
    assert r.status_code == 422 and "at most 100000" in r.json()["detail"]
    r = client.get("/api/v1/coverage?cell_km=20&bbox=30,40,40,50", headers=auth(built.tokens["analyst"]))
    assert r.status_code == 200


# -- security headers ---------------------------------------------------------------------------------
HEADER_CASES: list[tuple[str, str, Callable[[Built], dict[str, str]], int]] = [
    ("GET", "/", lambda b: {}, 200),
    ("GET", "/static/app.js", lambda b: {}, 200),
    ("GET", "/static/leaflet/leaflet.js", lambda b: {}, 200),
    ("GET", "/api/v1/violations", lambda b: {}, 200),
    ("GET", "/api/v1/incidents", lambda b: auth(b.tokens["analyst"]), 200),
    ("GET", "/api/v1/incidents", lambda b: {}, 401),
    ("GET", "/api/v1/incidents", lambda b: auth(b.tokens["liaison-UA"]), 200),
    ("GET", "/api/v1/nothing-here", lambda b: {}, 404),
    ("GET", "/ogc/collections", lambda b: auth(b.tokens["observer"]), 200),
    ("GET", "/openapi.json", lambda b: {}, 200),
]


@pytest.mark.parametrize(("method", "path", "headers", "status"), HEADER_CASES, ids=lambda v: str(v)[:40])
def test_security_headers_on_every_response(
    client: TestClient, built: Built, method: str, path: str, headers: Callable[[Built], dict[str, str]], status: int
) -> None:
    sent = headers(built)
    r = client.request(method, path, headers=sent)
    assert r.status_code == status
    assert r.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self';" in CSP and "unsafe-inline" not in CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert (r.headers.get("cache-control") == "no-store") == bool(sent), r.headers.get("cache-control")
    assert "strict-transport-security" not in r.headers  # plain http


def test_the_docs_page_gets_its_own_csp_and_https_gets_hsts(built: Built, agreement: Agreement) -> None:
    with TestClient(create_app(built.data, agreement), base_url="https://testserver") as c:
        r = c.get("/docs")
        assert r.headers["content-security-policy"] == CSP_DOCS and r.headers["x-frame-options"] == "DENY"
        assert r.headers["strict-transport-security"].startswith("max-age=")


def test_a_bulletin_gets_the_documents_csp(client: TestClient) -> None:
    r = client.get("/api/v1/bulletins/2026-09-03")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP_DOCUMENTS and "script-src" not in CSP_DOCUMENTS
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"


def test_a_500_carries_the_headers(built: Built, agreement: Agreement, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise KeyError("bug")

    monkeypatch.setattr(queries, "violations", boom)
    with TestClient(create_app(built.data, agreement), raise_server_exceptions=False) as c:
        r = c.get("/api/v1/violations")
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"}
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["content-security-policy"] == CSP


WEB = Path(__file__).resolve().parents[2] / "src" / "truceline" / "web"


def test_the_dashboard_fits_its_csp() -> None:
    """No inline script, no inline style, nothing from another origin: what the CSP refuses, the page never asks."""
    html = (WEB / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all(re.search(r'\bsrc="/static/', attrs) and not body.strip() for attrs, body in scripts)
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", html, flags=re.I)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for js in [WEB / "app.js", *sorted((WEB / "js").glob("*.js"))]:
        text = js.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle=|\son[a-z]+=[\"']|\beval\(|new Function\(", text), js.name
        assert "localStorage.setItem" not in text and "Authorization" not in text, js.name


# -- the dashboard's sign-in: session cookie, CSRF header, no token in a URL --------------------------
def test_sign_in_sets_a_private_cookie_that_authenticates(fresh_client: TestClient, fresh: Built) -> None:
    token = fresh.tokens["analyst"]
    assert fresh_client.post("/api/v1/session", json={"token": token}).status_code == 403  # no CSRF header
    assert fresh_client.post("/api/v1/session", json={"token": "nope"}, headers=CSRF).status_code == 401
    r = fresh_client.post("/api/v1/session", json={"token": token}, headers=CSRF)
    assert r.status_code == 200 and r.json()["role"] == "analyst" and r.headers["cache-control"] == "no-store"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and token not in cookie
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attrs and "secure" not in attrs
    assert "samesite=strict" in cookie.lower()
    me = fresh_client.get("/api/v1/whoami")
    assert me.json()["name"] == fresh.names["analyst"] and me.headers["cache-control"] == "no-store"
    assert fresh_client.get("/api/v1/incidents").status_code == 200
    assert fresh_client.get("/api/v1/tokens").status_code == 403  # the analyst's role, not more
    # A write with the cookie alone needs the CSRF header.
    path = f"/api/v1/review/violation/{VIO_UN.id}/confirm"
    r = fresh_client.post(path, json={"reason": "two sources"})
    assert r.status_code == 403 and "X-Requested-With" in r.json()["detail"]
    assert fresh_client.post(path, json={"reason": "two sources"}, headers=CSRF).status_code == 200
    # Signing out clears the cookie: the public again.
    assert fresh_client.delete("/api/v1/session").status_code == 403
    r = fresh_client.delete("/api/v1/session", headers=CSRF)
    assert r.status_code == 200 and "max-age=0" in r.headers["set-cookie"].lower()
    assert fresh_client.get("/api/v1/whoami").json()["role"] == "public"


def test_the_cookie_is_secure_over_https(fresh: Built, agreement: Agreement) -> None:
    with TestClient(create_app(fresh.data, agreement), base_url="https://testserver") as c:
        r = c.post("/api/v1/session", json={"token": fresh.tokens["observer"]}, headers=CSRF)
        assert "secure" in {a.strip().lower() for a in r.headers["set-cookie"].split(";")}


def test_a_dead_session_is_401_and_cleared(fresh_client: TestClient, fresh: Built) -> None:
    admin = auth(fresh.tokens["admin"])
    made = fresh_client.post("/api/v1/tokens", json={"role": "observer", "name": "obs.x"}, headers=admin).json()
    fresh_client.post("/api/v1/session", json={"token": made["token"]}, headers=CSRF)
    assert fresh_client.get("/api/v1/whoami").json()["name"] == "obs.x"
    assert fresh_client.delete(f"/api/v1/tokens/{made['token_id']}", headers=admin).status_code == 200
    r = fresh_client.get("/api/v1/violations")  # the token revoked: its session with it, even on a public read
    assert r.status_code == 401 and "sign in again" in r.json()["detail"]
    assert "max-age=0" in r.headers["set-cookie"].lower()
    fresh_client.cookies.clear()
    for forged in ("x", f"{made['token_id']}.99999999999.{'0' * 64}", "tok-1.1.1.1", "a.b.c"):
        fresh_client.cookies.set(SESSION_COOKIE, forged)
        assert fresh_client.get("/api/v1/whoami").status_code == 401
    fresh_client.cookies.clear()


def test_sessions_expire_and_are_bound_to_their_token(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "d")
    try:
        token, rec = create_token(store, "analyst", "a")
        other, _ = create_token(store, "admin", "b")
        now = dt.datetime(2026, 9, 2, tzinfo=dt.UTC)
        made = open_session(store, token, 60, now)
        assert made is not None and token not in made[0]
        value = made[0]
        assert session_principal(store, value, now) == authenticate(store, token)
        assert session_principal(store, value, now + dt.timedelta(seconds=61)) is None
        tid, exp, mac = value.split(".")
        assert session_principal(store, f"{tid}.{int(exp) + 3600}.{mac}", now) is None  # expiry not extendable
        other_id = next(t.token_id for t in store.tokens() if t.name == "b")
        assert session_principal(store, f"{other_id}.{exp}.{mac}", now) is None  # nor another token's
        assert session_principal(store, f"{tid}.{exp}.{chr(233) * 64}", now) is None  # not hex: no TypeError
        assert open_session(store, "wrong", 60, now) is None
        revoke_token(store, rec.token_id)
        assert session_principal(store, value, now) is None
        assert other
    finally:
        store.close()


@pytest.mark.parametrize("path", ["/?token=abc", "/api/v1/incidents?token=abc&limit=1", "/ogc?access_token=x",
                                  "/static/app.js?Token=abc"])  # fmt: skip
def test_a_token_in_the_url_is_refused(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert "Authorization: Bearer" in detail and "#token=" in detail and "abc" not in detail


# -- tokens at rest ------------------------------------------------------------------------------------
def test_a_token_made_before_the_keyed_hash_still_works(fresh: Built, fresh_client: TestClient) -> None:
    token = "an-old-token-from-before-the-keyed-hash-0123456789"
    store = SQLiteStore(fresh.data)
    try:
        store.add_token(ApiToken("tok-0123456789ab", "old.observer", "observer", None, legacy_hash(token),
                                 dt.datetime(2026, 8, 1, tzinfo=dt.UTC)))  # fmt: skip
        assert len(legacy_hash(token)) == 64 and authenticate(store, token) is not None
    finally:
        store.close()
    assert fresh_client.get("/api/v1/whoami", headers=auth(token)).json()["name"] == "old.observer"
    assert fresh_client.post("/api/v1/session", json={"token": token}, headers=CSRF).status_code == 200
    assert fresh_client.get("/api/v1/whoami").json()["name"] == "old.observer"
    fresh_client.cookies.clear()


def test_the_token_key_is_private_and_kept(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "d")
    try:
        token, rec = create_token(store, "analyst", "a")
        key_file = tmp_path / "d" / KEY_FILE
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
        assert key_file.read_bytes() == token_key(store) and len(key_file.read_bytes()) == 32
        assert rec.token_hash.startswith("hmac-sha256:") and rec.token_hash != "hmac-sha256:" + legacy_hash(token)
    finally:
        store.close()
    again = SQLiteStore(tmp_path / "d")  # a later process reads the same key: the token still works
    try:
        assert authenticate(again, token) is not None
    finally:
        again.close()
    other = SQLiteStore(tmp_path / "e")
    try:
        assert token_key(other) != key_file.read_bytes()  # one key per data directory
    finally:
        other.close()


def test_no_token_reaches_the_log(fresh_client: TestClient, fresh: Built, caplog: pytest.LogCaptureFixture) -> None:
    token = fresh.tokens["admin"]
    with caplog.at_level(logging.DEBUG):
        fresh_client.get("/api/v1/whoami", headers=auth(token))
        fresh_client.get("/api/v1/whoami", headers=auth(token + "x"))
        fresh_client.post("/api/v1/session", json={"token": token}, headers=CSRF)
        fresh_client.get(f"/?token={token}")
    fresh_client.cookies.clear()
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("truceline", "uvicorn", "fastapi", "starlette")]
    assert not [r for r in ours if token in r.getMessage()]
    # (the client's own log, httpx's, shows the ?token= URL it was asked to send: why the server refuses such URLs)
