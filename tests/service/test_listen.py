"""Field ingest over MQTT against a real Mosquitto (``scripts/mosquitto.sh``: users, ACL, persistence).

A broker is started by the script in a folder of its own on a free port for the module, and stopped
after it; the tests fail (never skip) when it cannot start, saying how to install it. ``truceline
listen`` runs as a subprocess on the store of each backend asked for; publishers and the errors topic's
reader are paho clients of the test. What is checked: a valid message stored and acknowledged, a
malformed one refused on the errors topic while the listener goes on, the ACL and the topic's sensor
and contingent, no acknowledged message lost when the listener is SIGKILLed mid-stream or the broker
restarts, and a simulated day replayed by ``truceline replay`` stored whole (counted by id).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.scenarios import one_sector_day
from truceline.core import Sensor, evolve
from truceline.core.errors import InvalidInput
from truceline.core.examples import example_records
from truceline.service.ingest import ingest_files
from truceline.service.mqtt_topics import (
    Backoff,
    error_topic,
    parse_broker_url,
    parse_topic,
    read_credentials,
    sensor_topic,
)
from truceline.sim.output import DETECTION_COLUMNS
from truceline.store import open_store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "mosquitto.sh"
TRUCELINE = [sys.executable, "-m", "truceline"]
HOW = (
    "The MQTT tests need Debian's mosquitto, started by scripts/mosquitto.sh (as root it installs it: "
    "apt-get install -y mosquitto mosquitto-clients; as another user install it first) on a free port of 127.0.0.1."
)
#: When the test's records are timed: an hour ago (within the mission's bounds whatever the day).
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)


# -- the broker ------------------------------------------------------------------------------------
@dataclass
class Broker:
    folder: Path
    port: int

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRUCELINE_MQTT")}
        env.update(TRUCELINE_MQTT_DIR=str(self.folder), TRUCELINE_MQTT_PORT=str(self.port))
        env["TRUCELINE_MQTT_CONTINGENTS"] = "FRA GBR MNB"
        return env

    @property
    def credentials(self) -> Path:
        return self.folder / "credentials"

    def password(self, user: str) -> str:
        return read_credentials(self.credentials)[user]

    def url(self, user: str | None = None) -> str:
        return f"mqtt://{user + '@' if user else ''}127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start, or restart, the broker with the script (what an operator runs)."""
        r = subprocess.run(["bash", str(SCRIPT)], env=self.env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0 or r.stdout.strip() != self.url():
            pytest.fail(f"scripts/mosquitto.sh could not start mosquitto (exit {r.returncode}):\n{r.stderr}\n{HOW}",
                        pytrace=False)  # fmt: skip

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "--stop"], env=self.env, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    # Under /tmp, not the test's folder: as root the broker runs as `mosquitto`, which must reach it.
    b = Broker(Path(tempfile.mkdtemp(prefix="truceline-mqtt-")), free_port())
    try:
        b.start()
        yield b
    finally:
        b.stop()
        shutil.rmtree(b.folder, ignore_errors=True)


# -- clients ---------------------------------------------------------------------------------------
class Publisher:
    """A contingent's (or the service's) paho client, keeping the broker's answer to each publication."""

    def __init__(self, broker: Broker, user: str) -> None:
        self.answers: dict[int, int] = {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.username_pw_set(user, broker.password(user))
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self.lock:
            self.answers[mid] = int(reason.value)

    def publish(self, topic: str, payload: str | bytes) -> int:
        return int(self.client.publish(topic, payload, qos=1).mid)

    def answer(self, mid: int, timeout: float = 20.0) -> int:
        """The broker's PUBACK reason code for a publication (0 success, 135 not authorized)."""
        return wait_for(lambda: self.answers.get(mid), timeout, f"no PUBACK for message {mid}")

    def send(self, topic: str, payload: str | bytes) -> int:
        return self.answer(self.publish(topic, payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class ErrorsReader:
    """The service user reading ``truceline/errors/#``."""

    def __init__(self, broker: Broker) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-errors-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.username_pw_set("truceline", broker.password("truceline"))
        self.client.on_connect = lambda c, *_: c.subscribe("truceline/errors/#", qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, json.loads(m.payload)))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "the errors reader could not subscribe"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class ListenerProc:
    """``truceline listen`` as a subprocess, its log in a file."""

    def __init__(self, broker: Broker, store_url: str, folder: Path, client_id: str) -> None:
        self.args = [
            *TRUCELINE, "listen", "--mqtt", broker.url("truceline"), "--credentials", str(broker.credentials),
            "--store", store_url, "--rejects", str(folder / "rejects.jsonl"), "--client-id", client_id,
        ]  # fmt: skip
        self.folder, self.runs = folder, 0
        self.start()

    def start(self) -> None:
        self.runs += 1
        self.log = self.folder / f"listen-{self.runs}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRUCELINE_")}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.wait_log("subscribed to")

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_log(self, text: str, count: int = 1, timeout: float = 60.0) -> None:
        def seen() -> bool | None:
            if self.proc.poll() is not None:
                pytest.fail(f"truceline listen exited ({self.proc.returncode}):\n{self.text()}", pytrace=False)
            return self.text().count(text) >= count or None

        wait_for(seen, timeout, f"{text!r} not logged {count} time(s) by the listener:\n{self.text()}")

    def stop(self) -> dict[str, int]:
        """SIGTERM; the stats it logs when it stops."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0, self.text()
        line = next(s for s in self.text().splitlines() if "stopped: " in s)
        return dict(json.loads(line.split("stopped: ", 1)[1]))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)


def wait_for(probe: Callable[[], Any], timeout: float, message: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.05)
    pytest.fail(message, pytrace=False)


# -- records ---------------------------------------------------------------------------------------
SENSORS = {"G1": "GBR", "G2": "GBR", "F1": "FRA"}


def add_sensors(store_url: str) -> None:
    base: Sensor = example_records()["sensor"]  # type: ignore[assignment]
    store = open_store(store_url)
    try:
        store.add_records("sensor", [evolve(base, id=sid, contingent=c) for sid, c in SENSORS.items()])
    finally:
        store.close()


def csv_detection(det_id: str, sensor: str, k: int = 0) -> str:
    t = (NOW + dt.timedelta(seconds=k)).isoformat()
    return ",".join(DETECTION_COLUMNS) + f"\n{det_id},{sensor},{t},0.05,,,0.5,0.3,0.7\n"


def json_detection(det_id: str, sensor: str, **changes: Any) -> dict[str, Any]:
    d = {"id": det_id, "sensor_id": sensor, "arrival_time": NOW.isoformat(), "time_sigma_s": 0.05,
         "class_scores": {"impact": 0.8, "launch": 0.2}}  # fmt: skip
    return {**d, **changes}


def stored_ids(store_url: str) -> list[str]:
    store = open_store(store_url)
    try:
        return [str(row[0]) for row in store.table_rows("detections")]
    finally:
        store.close()


def wait_stored(store_url: str, ids: set[str], timeout: float = 60.0) -> list[str]:
    """The stored detection ids once all of ``ids`` are stored."""
    found: list[str] = []

    def probe() -> list[str] | None:
        found[:] = stored_ids(store_url)
        return found if ids <= set(found) else None

    wait_for(probe, timeout, f"not stored after {timeout} s: {sorted(ids - set(found))[:10]}...")
    return found


@pytest.fixture
def setup(broker: Broker, store_url: str, tmp_path: Path) -> Iterator[Callable[[], ListenerProc]]:
    """``start()``: a listener (a session of its own) on the test's store, which holds the sensors."""
    add_sensors(store_url)
    made: list[ListenerProc] = []

    def start() -> ListenerProc:
        made.append(ListenerProc(broker, store_url, tmp_path, f"test-listener-{uuid.uuid4().hex[:8]}"))
        return made[-1]

    yield start
    for p in made:
        if p.proc.poll() is None:
            p.kill()


# -- tests -----------------------------------------------------------------------------------------
def test_valid_messages_are_stored_then_acknowledged(broker: Broker, store_url: str, setup: Any) -> None:
    listener = setup()
    pub = Publisher(broker, "GBR")
    try:
        assert pub.send("truceline/GBR/G1/detections", csv_detection("d-csv", "G1")) == 0
        assert pub.send("truceline/GBR/G1/detections", json.dumps(json_detection("d-json", "G1"))) == 0
        two = [
            json_detection("d-a", "G2"),
            json_detection("d-b", "G2", arrival_time=(NOW + dt.timedelta(seconds=1)).isoformat()),
        ]
        assert pub.send("truceline/GBR/G2/detections", json.dumps(two)) == 0
        status = {"id": "st-1", "sensor_id": "G1", "time": NOW.isoformat(), "health": "jammed", "reason": "GNSS"}
        assert pub.send("truceline/GBR/G1/status", json.dumps(status)) == 0
    finally:
        pub.close()
    assert sorted(wait_stored(store_url, {"d-csv", "d-json", "d-a", "d-b"})) == ["d-a", "d-b", "d-csv", "d-json"]
    store = open_store(store_url)
    try:
        wait_for(lambda: store.count("sensor_status_report") or None, 20, "the status report was not stored")
    finally:
        store.close()
    stats = listener.stop()
    assert stats["messages"] == stats["acknowledged"] == 4 and stats["inserted"] == 5
    assert broker.password("truceline") not in listener.text() and "mqtt://truceline:***@127.0.0.1" in listener.text()
    # Every message was acknowledged: the session resumed by a new listener holds nothing to deliver again.
    listener.start()
    time.sleep(1.0)
    assert listener.stop()["messages"] == 0
    assert sorted(stored_ids(store_url)) == ["d-a", "d-b", "d-csv", "d-json"]


def test_malformed_messages_are_refused_on_the_errors_topic_and_the_listener_goes_on(
    broker: Broker, store_url: str, setup: Any, tmp_path: Path
) -> None:
    listener = setup()
    errors = ErrorsReader(broker)
    pub = Publisher(broker, "GBR")
    try:
        bad = json_detection("d-bad", "G1", bearing_deg=400.0, bearing_sigma_deg=3.0)
        assert pub.send("truceline/GBR/G1/detections", json.dumps(bad)) == 0
        assert pub.send("truceline/GBR/G1/detections", b"\xff\xfe not a payload") == 0
        assert pub.send("truceline/GBR/G1/status", csv_detection("d-wrong-kind", "G1")) == 0
        assert pub.send("truceline/GBR/G1/detections", csv_detection("d-good", "G1")) == 0
    finally:
        pub.close()
    wait_stored(store_url, {"d-good"})
    wait_for(lambda: len(errors.messages) >= 3 or None, 20, f"errors: {errors.messages}")
    errors.close()
    assert {t for t, _ in errors.messages} == {"truceline/errors/GBR/G1"}
    first = errors.messages[0][1]
    assert first["topic"] == "truceline/GBR/G1/detections" and first["rejected"] == 1 and first["inserted"] == 0
    assert first["problems"][0]["record_id"] == "d-bad" and first["problems"][0]["field"] == "bearing_deg"
    assert "record 'd-bad': bearing_deg" in first["problems"][0]["message"]
    assert errors.messages[2][1]["kind"] == "sensor_status_report"
    kept = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert len(kept) == 3 and kept[0]["payload"] == json.dumps(bad) and "payload_base64" in kept[1]
    assert stored_ids(store_url) == ["d-good"]
    stats = listener.stop()
    assert stats["refused_messages"] == 3 and stats["acknowledged"] == 4


def test_a_contingent_speaks_for_its_own_sensors_only(broker: Broker, store_url: str, setup: Any) -> None:
    listener = setup()
    errors = ErrorsReader(broker)
    gbr = Publisher(broker, "GBR")
    try:
        # The broker's ACL: GBR may not publish on FRA's branch (MQTT v5 PUBACK 135, not authorized), nor elsewhere.
        assert gbr.send("truceline/FRA/F1/detections", csv_detection("d-acl", "F1")) == 135
        assert gbr.send("truceline/errors/GBR/G1", "{}") == 135
        assert gbr.send("truceline/GBR/G1/other", "{}") == 135
        # The listener: the record's sensor is not the topic's; FRA's sensor on GBR's branch.
        assert gbr.send("truceline/GBR/G1/detections", csv_detection("d-other", "G2")) == 0
        assert gbr.send("truceline/GBR/F1/detections", csv_detection("d-fra", "F1")) == 0
        assert gbr.send("truceline/GBR/G1/detections", csv_detection("d-own", "G1")) == 0
    finally:
        gbr.close()
    fra = Publisher(broker, "FRA")
    try:
        assert fra.send("truceline/FRA/F1/detections", csv_detection("d-fra-own", "F1")) == 0
    finally:
        fra.close()
    wait_stored(store_url, {"d-own", "d-fra-own"})
    wait_for(lambda: len(errors.messages) >= 2 or None, 20, f"errors: {errors.messages}")
    errors.close()
    reasons = {m["problems"][0]["record_id"]: m["problems"][0]["reason"] for _, m in errors.messages}
    assert reasons["d-other"].startswith("not the topic's sensor")
    assert reasons["d-fra"] == "sensor F1 is registered to contingent FRA, not GBR"
    assert all(m["problems"][0]["field"] == "sensor_id" for _, m in errors.messages)
    assert sorted(stored_ids(store_url)) == ["d-fra-own", "d-own"]
    assert listener.stop()["messages"] == 4


def publish_all(pub: Publisher, ids: list[str], sensor: str = "G1") -> list[int]:
    return [pub.publish(f"truceline/GBR/{sensor}/detections", csv_detection(i, sensor, k)) for k, i in enumerate(ids)]


def test_no_acknowledged_message_is_lost_when_the_listener_is_killed(
    broker: Broker, store_url: str, setup: Any
) -> None:
    n = 3000  # the listener stores a batch per network loop: enough that the kill falls mid-stream
    ids = [f"k-{k:04d}" for k in range(n)]
    listener = setup()
    pub = Publisher(broker, "GBR")
    try:
        mids: list[int] = []
        sender = threading.Thread(target=lambda: mids.extend(publish_all(pub, ids)))
        sender.start()
        wait_for(lambda: len(stored_ids(store_url)) >= n // 3 or None, 60, "the listener stored nothing")
        listener.kill()  # SIGKILL mid-stream: whatever it acknowledged is stored; the rest comes again
        killed_at = len(stored_ids(store_url))
        sender.join(60)
        assert [pub.answer(m) for m in mids] == [0] * n  # the broker took every one
        assert killed_at < n, "the listener was killed after the stream: make n larger"
        listener.start()
        found = wait_stored(store_url, set(ids))
    finally:
        pub.close()
    assert sorted(found) == ids  # every id exactly once
    assert listener.stop()["messages"] >= n - killed_at


def test_messages_outlive_a_broker_restart(broker: Broker, store_url: str, setup: Any) -> None:
    listener = setup()
    pub = Publisher(broker, "GBR")
    publish_all(pub, [f"a-{k}" for k in range(10)])
    wait_stored(store_url, {f"a-{k}" for k in range(10)})
    pub.close()
    broker.start()  # the script again: restarts the broker, keeps the passwords and the sessions
    listener.wait_log("connected to", count=2)
    pub = Publisher(broker, "GBR")
    publish_all(pub, [f"b-{k}" for k in range(10)])
    wait_stored(store_url, {f"b-{k}" for k in range(10)})
    listener.stop()
    # Queued for the listener's session while it is away, across a restart of the broker (persistence).
    mids = publish_all(pub, [f"c-{k}" for k in range(10)])
    assert [pub.answer(m) for m in mids] == [0] * 10
    pub.close()
    broker.start()
    listener.start()
    found = wait_stored(store_url, {f"{p}-{k}" for p in "abc" for k in range(10)})
    assert len(found) == len(set(found)) == 30
    assert listener.stop()["inserted"] == 10


@pytest.fixture(scope="module")
def small_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from truceline.sim.run import simulate
    from truceline.sim.scenario import parse_scenario

    root = tmp_path_factory.mktemp("replay") / "sim"
    outage = {"sector": "S3-DON-S", "start_h": 0.5, "end_h": 1, "health": "jammed", "party": "RU", "share": 0.2}
    doc = one_sector_day("replay", 1, rounds_per_day=240, claims_per_party_per_day=None, network={"outages": [outage]})
    simulate(parse_scenario(doc), root)
    return root


def test_a_replayed_day_is_stored_whole(broker: Broker, store_url: str, setup: Any, small_day: Path) -> None:
    store = open_store(store_url)
    try:
        assert ingest_files(store, [small_day / "observations" / "sensors.jsonl"]).ok
    finally:
        store.close()
    obs = small_day / "observations"
    lines = (obs / "detections.csv").read_text().splitlines()[1:]
    expected = sorted(line.split(",", 1)[0] for line in lines)
    n_status = len((obs / "sensor_status.jsonl").read_text().splitlines())
    assert len(expected) > 20 and n_status > 0
    times = [dt.datetime.fromisoformat(line.split(",")[2]) for line in lines]
    span_s = (max(times) - min(times)).total_seconds()
    listener = setup()
    r = subprocess.run(
        [*TRUCELINE, "replay", str(small_day), "--mqtt", broker.url(), "--credentials", str(broker.credentials),
         "--speed", "3600", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr + r.stdout
    report = json.loads(r.stdout)
    assert report["detections"] == len(expected) and report["status_reports"] == n_status and report["refused"] == 0
    assert report["acknowledged"] == report["published"] == len(expected) + n_status
    assert report["seconds"] >= 0.9 * span_s / 3600  # paced: an hour at 3600 times real time
    found = wait_stored(store_url, set(expected), timeout=120)
    assert sorted(found) == expected
    store = open_store(store_url)
    try:
        wait_for(lambda: store.count("sensor_status_report") == n_status or None, 30, "status reports missing")
    finally:
        store.close()
    assert listener.stop()["refused_messages"] == 0


def test_broker_urls_never_show_a_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = parse_broker_url("mqtt://GBR:s%3Acret@broker.example:18830")
    assert (url.username, url.password, url.host, url.port) == ("GBR", "s:cret", "broker.example", 18830)
    assert "cret" not in str(url) and "cret" not in repr(url) and str(url) == "mqtt://GBR:***@broker.example:18830"
    creds = tmp_path / "credentials"
    creds.write_text("# users\ntruceline:pw:with:colons\n")
    monkeypatch.delenv("TRUCELINE_MQTT_PASSWORD", raising=False)
    assert parse_broker_url("mqtt://truceline@h").with_password(creds).password == "pw:with:colons"
    monkeypatch.setenv("TRUCELINE_MQTT_PASSWORD", "from-env")
    assert parse_broker_url("mqtt://truceline@h").with_password(creds).password == "from-env"
    for bad in ("http://h", "mqtt://", "mqtt://h:99999", "mqtt://h/x"):
        with pytest.raises(InvalidInput):
            parse_broker_url(bad)
    b = Backoff(0.5, 4)
    assert [b.next() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    b.reset()
    assert b.next() == 0.5


def test_topics() -> None:
    t = parse_topic("truceline/GBR/SN-A0001/detections")
    assert t is not None and (t.contingent, t.sensor, t.kind.value) == ("GBR", "SN-A0001", "detection")
    assert error_topic(t) == "truceline/errors/GBR/SN-A0001"
    assert parse_topic("truceline/errors/GBR/detections") is None and parse_topic("truceline/GBR/S/other") is None
    assert sensor_topic("FRA", "F1", "status") == "truceline/FRA/F1/status"
    with pytest.raises(InvalidInput):
        sensor_topic("a b", "F1")
