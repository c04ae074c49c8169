"""Cursor on Target: events of incidents and findings as a role sees them, and pushing them over TCP, TLS, UDP.

The store is the API tests' hand-made one (tests/api/data.py); the public stream is checked against the
public API's own response, so that it cannot carry anything that response does not.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import socket
import ssl
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.api.data import VIO_FOM, VIO_RU, build
from truceline.agreement import Agreement, default_agreement
from truceline.api import create_app
from truceline.cli import app
from truceline.core.errors import InvalidInput
from truceline.geo.places import place_text
from truceline.service import queries, tak
from truceline.service.cot import UNKNOWN, CotSettings, ce_95, cot_event, cot_time, cot_type
from truceline.service.tak import TakError, Target, TlsFiles, parse_target, role_messages, send
from truceline.store import open_store

MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
K95 = math.sqrt(-2.0 * math.log(0.05))  # the 95 % scale of a 2-D Gaussian (chi-square, 2 dof)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("cot") / "data").data


@pytest.fixture(scope="module")
def agreement() -> Agreement:
    return default_agreement()


@pytest.fixture(scope="module")
def stream(data: Path, agreement: Agreement) -> Callable[..., dict[str, list[bytes]]]:
    """``stream(role, party=None, **settings)`` -> the role's messages per kind."""

    def make(role: str, party: str | None = None, **kw: Any) -> dict[str, list[bytes]]:
        store = open_store(data)
        try:
            view = queries.View.for_role(role, party)
            settings = CotSettings(audience=role, **kw)
            return role_messages(store, view, agreement, None, None, ("violation", "incident"), settings)
        finally:
            store.close()

    return make


def parse(message: bytes) -> ET.Element:
    return ET.fromstring(message)


def by_uid(messages: list[bytes]) -> dict[str, ET.Element]:
    return {(e := parse(m)).get("uid", ""): e for m in messages}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# ----------------------------------------------------------------------------------- events
def test_events_are_well_formed_cot_with_the_required_attributes(stream: Callable[..., Any]) -> None:
    got = stream("analyst")
    assert len(got["violation"]) == 4 and len(got["incident"]) == 3
    for kind, messages in got.items():
        for m in messages:
            assert m.endswith(b"\n") and m.count(b"\n") == 1  # one line per message on a stream
            e = parse(m)
            assert e.tag == "event" and e.get("version") == "2.0"
            assert e.get("type") == "a-u-G" and e.get("how") == "m-f"
            assert e.get("uid", "").startswith(f"truceline.{kind}.")
            for a in ("time", "start", "stale"):
                assert MS_Z.match(e.get(a, "")), (a, e.get(a))
            assert utc(e.get("stale", "")) - utc(e.get("time", "")) == dt.timedelta(hours=6)
            assert e.get("start") == e.get("time")
            p = e.find("point")
            assert p is not None
            assert -90 <= float(p.get("lat", "nan")) <= 90 and -180 <= float(p.get("lon", "nan")) <= 180
            assert float(p.get("hae", "0")) == UNKNOWN and float(p.get("le", "0")) == UNKNOWN
            ce = float(p.get("ce", "0"))
            # a record with no numeric uncertainty (the restriction finding) has CoT's unknown ce
            assert 0 < ce < UNKNOWN or (ce == UNKNOWN and e.get("uid", "").endswith(VIO_FOM.id))
            assert e.find("detail/contact").get("callsign")  # type: ignore[union-attr]
            assert "What:" in (e.findtext("detail/remarks") or "")


def test_identity_setting_chooses_unknown_or_neutral(stream: Callable[..., Any]) -> None:
    assert cot_type("unknown") == "a-u-G" and cot_type("neutral") == "a-n-G"
    assert {parse(m).get("type") for m in stream("analyst", identity="neutral")["violation"]} == {"a-n-G"}
    with pytest.raises(ValueError, match="identity"):
        CotSettings(identity="hostile")


def test_ce_is_the_semi_major_axis_of_the_95_ellipse_of_the_record(stream: Callable[..., Any]) -> None:
    cov = np.asarray(VIO_RU.geo_uncertainty.cov_en_m2, dtype=float)
    want = K95 * math.sqrt(np.linalg.eigvalsh(cov)[-1])
    e = by_uid(stream("analyst")["violation"])[f"truceline.violation.{VIO_RU.id}"]
    assert float(e.find("point").get("ce", "0")) == pytest.approx(want, abs=0.05)  # type: ignore[union-attr]
    assert ce_95({"sigma_m": 100.0, "cov_en_m2": None}) == pytest.approx(K95 * 100.0, abs=0.05)
    assert ce_95({"sigma_m": None, "cov_en_m2": None, "precision": "settlement"}) == UNKNOWN
    assert ce_95(None) == UNKNOWN
    assert ce_95(None, {"semi_major_m": 74.5, "semi_minor_m": 40.0, "angle_deg": 0.0}) == 74.5


def test_stale_is_time_plus_the_configured_age(stream: Callable[..., Any]) -> None:
    for m in stream("analyst", stale=dt.timedelta(minutes=90))["incident"]:
        e = parse(m)
        assert utc(e.get("stale", "")) - utc(e.get("time", "")) == dt.timedelta(minutes=90)
    with pytest.raises(ValueError, match="stale"):
        CotSettings(stale=dt.timedelta(0))


def test_times_are_utc_with_milliseconds() -> None:
    kyiv = dt.timezone(dt.timedelta(hours=3))
    assert cot_time(dt.datetime(2026, 9, 2, 9, 0, 1, 123456, tzinfo=kyiv)) == "2026-09-02T06:00:01.123Z"
    assert cot_time("2026-09-02T06:00:00+00:00") == "2026-09-02T06:00:00.000Z"
    with pytest.raises(ValueError, match="timezone"):
        cot_time(dt.datetime(2026, 9, 2))


def test_a_withheld_position_makes_no_event() -> None:
    feature = {"type": "Feature", "id": "pub-0", "geometry": None, "properties": {"time": "2026-09-02T06:00:00Z"}}
    assert cot_event(feature, "violation", CotSettings()) is None
    with pytest.raises(ValueError, match="kind"):
        cot_event(feature, "sensor", CotSettings())


def test_releasability_and_group_marks(stream: Callable[..., Any]) -> None:
    e = parse(stream("analyst", releasable_to=("UK", "FR"), group="Cyan")["violation"][0])
    assert e.find("detail/truceline").get("releasableTo") == "UK FR"  # type: ignore[union-attr]
    assert e.find("detail/__group").get("name") == "Cyan"  # type: ignore[union-attr]
    bare = parse(stream("analyst")["violation"][0])
    assert bare.find("detail/__group") is None and bare.find("detail/truceline").get("releasableTo") is None  # type: ignore[union-attr]


# ----------------------------------------------------------------------------------- redaction
def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, str):
        yield obj


def test_the_public_stream_carries_nothing_the_public_api_does_not(
    data: Path, agreement: Agreement, stream: Callable[..., Any]
) -> None:
    with TestClient(create_app(data, agreement)) as client:
        public = client.get("/api/v1/violations?limit=10000").json()["features"]
    public_text = json.dumps(public)
    got = stream("public")
    assert got["incident"] == []  # incidents are not public
    events = by_uid(got["violation"])
    assert set(events) == {f"truceline.violation.{f['id']}" for f in public if f["geometry"]}
    for f in public:
        e = events[f"truceline.violation.{f['id']}"]
        point = e.find("point")
        assert point is not None
        assert [float(point.get("lon", "nan")), float(point.get("lat", "nan"))] == f["geometry"]["coordinates"]
        assert float(point.get("ce", "0")) == UNKNOWN  # the public gets no uncertainty
        assert "Evidence" not in (e.findtext("detail/remarks") or "")
    # nothing only an analyst sees: ids, evidence, provenance, exact positions
    store = open_store(data)
    try:
        full = queries.violations(store, queries.Filters(limit=10000), queries.View.for_role("analyst"), agreement)
    finally:
        store.close()
    secret = {s for s in _strings(full.items) if len(s) > 3 and s not in public_text}
    secret |= {repr(VIO_FOM.position.lon_deg), repr(VIO_FOM.position.lat_deg)}
    assert VIO_RU.id in secret and "evt-ru-l" in secret  # the check has teeth
    xml = b"".join(got["violation"]).decode("utf-8")
    leaked = sorted(s for s in secret if s in xml)
    assert leaked == []


def test_the_analyst_stream_carries_ids_and_evidence(stream: Callable[..., Any]) -> None:
    events = by_uid(stream("analyst")["violation"])
    e = events[f"truceline.violation.{VIO_RU.id}"]
    remarks = e.findtext("detail/remarks") or ""
    assert "Evidence:" in remarks and "evt-ru-l" in remarks and "inc-ru" in remarks
    exact = events[f"truceline.violation.{VIO_FOM.id}"].find("point")
    assert exact is not None and float(exact.get("lon", "0")) == VIO_FOM.position.lon_deg


def test_a_liaison_stream_has_only_its_party(stream: Callable[..., Any]) -> None:
    got = stream("liaison", "UA")
    remarks = [parse(m).findtext("detail/remarks") or "" for ms in got.values() for m in ms]
    assert remarks and all("attribution UA" in r for r in remarks)


# ----------------------------------------------------------------------------------- sending
class _TcpSink:
    """A TCP (optionally TLS) listener in a thread that keeps every line of every connection, in order."""

    def __init__(self, ctx: ssl.SSLContext | None = None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.stop = threading.Event()
        self.port = int(self.sock.getsockname()[1])
        self.ctx = ctx
        self.lines: list[bytes] = []
        self.connections = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            conn.settimeout(10)
            self.connections += 1
            buf = b""
            try:
                if self.ctx is not None:
                    conn = self.ctx.wrap_socket(conn, server_side=True)
                buf = b""
                with conn:
                    while chunk := conn.recv(65536):
                        buf += chunk
            except OSError:  # a client that gave up (a refused certificate), or an unclean end
                conn.close()
            self.lines += buf.splitlines(keepends=True)

    def wait_for(self, n: int) -> None:
        for _ in range(100):
            if len(self.lines) >= n:
                return
            threading.Event().wait(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_push_over_tcp_delivers_every_message_in_order(stream: Callable[..., Any]) -> None:
    messages = [m for ms in stream("analyst").values() for m in ms]
    sink = _TcpSink()
    try:
        assert send(messages, Target("tcp", "127.0.0.1", sink.port)) == len(messages)
        sink.wait_for(len(messages))
    finally:
        sink.close()
    assert sink.lines == messages and sink.connections == 1


def test_push_over_udp_delivers_every_message_in_order(stream: Callable[..., Any]) -> None:
    messages = stream("public")["violation"]
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    try:
        send(messages, Target("udp", "127.0.0.1", rx.getsockname()[1]))
        got = [rx.recv(65536) for _ in messages]
    finally:
        rx.close()
    assert got == messages


def test_a_failed_send_reconnects_once(stream: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    messages = stream("analyst")["incident"]
    sink = _TcpSink()
    real = socket.create_connection
    calls: list[int] = []

    class Broken:
        def sendall(self, _: bytes) -> None:
            raise BrokenPipeError("peer went away")

        def close(self) -> None:
            pass

    def flaky(*a: Any, **kw: Any) -> Any:
        calls.append(1)
        return Broken() if len(calls) == 1 else real(*a, **kw)

    monkeypatch.setattr(tak.socket, "create_connection", flaky)
    try:
        assert send(messages, Target("tcp", "127.0.0.1", sink.port)) == len(messages)
        sink.wait_for(len(messages))
    finally:
        sink.close()
    assert len(calls) == 2 and sink.lines == messages


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return int(s.getsockname()[1])


def test_an_unreachable_target_fails_naming_it(data: Path) -> None:
    target = Target("tcp", "127.0.0.1", _free_port())
    with pytest.raises(TakError, match=re.escape(str(target))):
        send([b"<event/>\n"], target, timeout=2)
    result = CliRunner().invoke(app, ["tak", "push", "--data", str(data), "--role", "public", "--to", str(target)])
    assert result.exit_code == 1 and str(target) in result.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [("ftp://h:8087", "scheme"), ("tcp://:8087", "no host"), ("tcp://host", "no port"),
     ("tcp://host:99999", "not a target"), ("host:8087", "scheme"), ("tcp://host:8087/x", "nothing after")],
)  # fmt: skip
def test_a_bad_target_url_is_a_clear_error(data: Path, url: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_target(url)
    result = CliRunner().invoke(app, ["tak", "push", "--data", str(data), "--role", "public", "--to", url])
    assert result.exit_code == 2 and url in result.stderr


def test_parse_target_reads_scheme_host_port() -> None:
    assert parse_target("tls://tak.example:8089") == Target("tls", "tak.example", 8089)
    assert str(parse_target("udp://[::1]:6969")) == "udp://[::1]:6969"


def test_dry_run_prints_one_event_per_line(data: Path) -> None:
    result = CliRunner().invoke(app, ["tak", "push", "--data", str(data), "--role", "public", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(parse(line.encode()).tag == "event" for line in lines)
    assert "vio-" not in result.stdout


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))  # fmt: skip
    cert_path, key_path = tmp / "server.pem", tmp / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def test_push_over_tls_verifies_the_server(stream: Callable[..., Any], tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(str(cert), str(key))
    messages = stream("analyst")["violation"]
    sink = _TcpSink(server)
    try:
        send(messages, Target("tls", "localhost", sink.port), TlsFiles(ca=cert))
        sink.wait_for(len(messages))
        with pytest.raises(TakError, match="tls://localhost"):  # not trusted without the CA
            send(messages, Target("tls", "localhost", sink.port), TlsFiles(), timeout=2)
    finally:
        sink.close()
    assert sink.lines == messages
    with pytest.raises(InvalidInput, match="--cert and --key"):
        send(messages, Target("tls", "localhost", 1), TlsFiles(cert=cert))


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--role", "liaison", "--dry-run"], "needs a party"), (["--role", "public"], "give --to"),
     (["--role", "spy", "--dry-run"], "unknown role"),
     (["--role", "public", "--dry-run", "--kind", "sensor"], "sensor"),
     (["--role", "public", "--dry-run", "--identity", "friend"], "identity")],
)  # fmt: skip
def test_the_cli_refuses_bad_options(data: Path, args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["tak", "push", "--data", str(data), *args])
    assert result.exit_code == 2 and says in result.stderr, result.output


def test_remarks_give_the_place_of_the_point_as_the_role_receives_it(
    data: Path, agreement: Agreement, stream: Callable[..., Any]
) -> None:
    with TestClient(create_app(data, agreement)) as client:
        public = {f["id"]: f for f in client.get("/api/v1/violations?limit=10000").json()["features"]}
    for role in ("public", "analyst"):
        for uid, e in by_uid(stream(role)["violation"]).items():
            point = e.find("point")
            assert point is not None
            lon, lat = float(point.get("lon", "nan")), float(point.get("lat", "nan"))
            words = place_text(lon, lat)
            assert words and f"Where: {words}; lat {lat}, lon {lon}" in (e.findtext("detail/remarks") or "")
            if role == "public":  # the public API's own place, of the rounded point
                assert public[uid.removeprefix("truceline.violation.")]["properties"]["place"] == words
