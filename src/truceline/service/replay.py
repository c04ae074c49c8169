"""``truceline replay``: a simulated day published over MQTT in time order, as the sensors would.

The simulator's folder (``truceline simulate``: ``observations/`` with ``sensors.jsonl``,
``detections.csv`` or ``.jsonl``, ``sensor_status.jsonl``) is read with the project's readers; each
detection (its CSV line under the header, or its JSON line) and each status report (its JSON line) is
published at QoS 1 to its sensor's topic (``truceline/<contingent>/<sensor>/detections`` or
``.../status``; the contingent from the sensor's record) at its time, ``speed`` times faster than real
time (0: as fast as the broker takes them).

Credentials: with a credentials file (``USER:PASSWORD`` lines, what ``scripts/mosquitto.sh`` writes),
each contingent's sensors publish as the user of the contingent's name, as the broker's ACL expects;
without one, everything is published as the URL's user, which that ACL lets publish to its own
contingent's topics only (the service user may publish to none). A publication the broker refuses
(MQTT v5 PUBACK "Not authorized") is counted in :attr:`ReplayReport.refused`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import paho.mqtt.client as mqtt

from truceline.core.errors import InvalidInput
from truceline.io.records import DetectionBatch, RecordBatch, read_any
from truceline.service.mqtt_topics import BrokerUrl, sensor_topic

__all__ = ["ReplayReport", "SimDay", "load_day", "replay"]

#: Messages a publisher keeps in flight before it waits for acknowledgements.
INFLIGHT = 100
#: How long a publisher waits for the broker to accept its connection, seconds.
CONNECT_TIMEOUT_S = 10.0


@dataclass
class SimDay:
    """What a simulated day has to publish, in time order.

    Attributes
    ----------
    contingent : dict of str to str
        Each sensor's contingent.
    times_us : ndarray of int64
        When each message is due (µs since 1970 UTC), ascending.
    leaves : list of str
        ``detections`` or ``status``, per message.
    sensors : list of str
        The sensor of each message.
    lines : list of bytes
        Each message's line of its file (with its line end).
    heads : list of bytes
        What goes before it (the CSV header, shared; empty for a JSON line).
    """

    contingent: dict[str, str]
    times_us: np.ndarray[Any, np.dtype[np.int64]]
    leaves: list[str]
    sensors: list[str]
    lines: list[bytes]
    heads: list[bytes]

    def __len__(self) -> int:
        return len(self.lines)

    def payload(self, k: int) -> bytes:
        """The payload of message ``k``."""
        return self.heads[k] + self.lines[k]


@dataclass
class ReplayReport:
    """What a replay did."""

    published: int = 0
    acknowledged: int = 0
    refused: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    detections: int = 0
    status_reports: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _observations(simdir: Path) -> Path:
    obs = simdir / "observations"
    folder = obs if obs.is_dir() else simdir
    if not (folder / "sensors.jsonl").is_file():
        raise InvalidInput(f"{simdir}: no sensors.jsonl (in it or its observations/): not a simulator's output")
    return folder


def _strict(batch: RecordBatch | DetectionBatch) -> None:
    if batch.problems:
        raise InvalidInput(f"{batch.problems[0]} (and {len(batch.problems) - 1} more problem(s))")


def load_day(simdir: Path) -> SimDay:
    """Read a simulator's folder (or its ``observations/``) into the messages to publish.

    Raises
    ------
    InvalidInput
        For a folder without ``sensors.jsonl``, or a file with a bad record (naming it).
    """
    folder = _observations(Path(simdir))
    sensors = read_any(folder / "sensors.jsonl")
    _strict(sensors)
    assert isinstance(sensors, RecordBatch)
    contingent = {r.id: str(getattr(r, "contingent", "")) for r in sensors.records}
    times: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    leaves: list[str] = []
    names: list[str] = []
    lines: list[bytes] = []
    heads: list[bytes] = []
    for det in (folder / "detections.csv", folder / "detections.jsonl"):
        if det.is_file():
            batch = read_any(det)
            _strict(batch)
            assert isinstance(batch, DetectionBatch)
            text = det.read_bytes().split(b"\n")
            head = text[0] + b"\n" if det.suffix == ".csv" else b""
            t = batch.table
            times.append(t.t_us)
            names += [str(s) for s in t.sensor_ids.tolist()]
            lines += [text[n - 1] + b"\n" for n in t.line.tolist()]
            heads += [head] * len(t)
            leaves += ["detections"] * len(t)
    status = folder / "sensor_status.jsonl"
    if status.is_file() and status.stat().st_size:
        sb = read_any(status)
        _strict(sb)
        assert isinstance(sb, RecordBatch)
        text = status.read_bytes().split(b"\n")
        reports = [cast(Any, r) for r in sb.records]
        times.append(np.array([round(r.time.timestamp() * 1e6) for r in reports], dtype=np.int64))
        names += [str(r.sensor_id) for r in reports]
        lines += [text[n - 1] + b"\n" for n in sb.lines]
        heads += [b""] * len(reports)
        leaves += ["status"] * len(reports)
    unknown = sorted(set(names) - set(contingent))
    if unknown:
        raise InvalidInput(f"{folder}: messages of sensors not in sensors.jsonl: {', '.join(unknown[:5])}")
    all_t = np.concatenate(times) if times else np.zeros(0, dtype=np.int64)
    order = np.argsort(all_t, kind="stable")
    pick = order.tolist()
    return SimDay(
        contingent,
        all_t[order],
        [leaves[i] for i in pick],
        [names[i] for i in pick],
        [lines[i] for i in pick],
        [heads[i] for i in pick],
    )


class _Publisher:
    """One connected client (one user) and what the broker said of its publications."""

    def __init__(self, broker: BrokerUrl, user: str | None, password: str | None, client_id: str) -> None:
        self.lock = threading.Lock()
        self.sent = self.done = self.refused = 0
        self.reasons: dict[str, int] = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.max_inflight_messages_set(INFLIGHT)
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect
        self.connected = threading.Event()
        self.refusal: str | None = None
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(CONNECT_TIMEOUT_S) or self.refusal is not None:
            self.close()
            why = self.refusal or f"no answer in {CONNECT_TIMEOUT_S:g} s"
            raise InvalidInput(f"{broker.host}:{broker.port}: the broker refused user {user!r}: {why}")

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure and not self.connected.is_set():
            self.refusal = str(reason)
        self.connected.set()

    def _on_publish(self, _c: Any, _u: Any, _mid: int, reason: Any, _p: Any) -> None:
        with self.lock:
            self.done += 1
            if reason.is_failure:
                self.refused += 1
                self.reasons[str(reason)] = self.reasons.get(str(reason), 0) + 1

    def publish(self, topic: str, payload: bytes) -> None:
        with self.lock:
            self.sent += 1
        self.client.publish(topic, payload, qos=1)

    def pending(self) -> int:
        with self.lock:
            return self.sent - self.done

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _publishers(
    broker: BrokerUrl, day: SimDay, credentials: dict[str, str] | None, client_prefix: str
) -> Iterator[tuple[str, _Publisher]]:
    """One publisher per contingent with its credentials, or one (the URL's user) for all under the key ``""``."""
    if credentials is None:
        yield "", _Publisher(broker, broker.username, broker.password, f"{client_prefix}-all")
        return
    for c in sorted(set(day.contingent.values())):
        if c not in credentials:
            raise InvalidInput(f"credentials: no password for contingent {c!r} (a line {c}:PASSWORD)")
        yield c, _Publisher(broker, c, credentials[c], f"{client_prefix}-{c}")


def replay(
    day: SimDay,
    broker: BrokerUrl,
    speed: float = 1.0,
    *,
    credentials: dict[str, str] | None = None,
    client_prefix: str = "truceline-replay",
    timeout_s: float = 60.0,
    stop: Callable[[], bool] | None = None,
) -> ReplayReport:
    """Publish a simulated day's messages in time order at ``speed`` times real time (0: no waiting).

    Parameters
    ----------
    day : SimDay
        From :func:`load_day`.
    broker : BrokerUrl
        The broker (and, without ``credentials``, the user every message is published as).
    speed : float
        How many times faster than real time; 0 publishes as fast as the broker takes them.
    credentials : dict of str to str, optional
        Password per contingent (the user is the contingent's name).
    client_prefix : str
        The client ids: ``PREFIX-CONTINGENT`` (``PREFIX-all`` for a single user).
    timeout_s : float
        How long to wait, after the last publication, for the broker's acknowledgements.
    stop : callable, optional
        Polled between messages; true stops the replay early.
    """
    if speed < 0:
        raise InvalidInput(f"speed {speed}: must be >= 0")
    report = ReplayReport()
    pubs = dict(_publishers(broker, day, credentials, client_prefix))
    start = time.monotonic()
    try:
        t0 = int(day.times_us[0]) if len(day) else 0
        for k in range(len(day)):
            if stop is not None and stop():
                break
            if speed > 0:
                lag = start + (int(day.times_us[k]) - t0) / 1e6 / speed - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
            sensor = day.sensors[k]
            contingent = day.contingent.get(sensor, "")
            pub = pubs[""] if "" in pubs else pubs[contingent]
            while pub.pending() >= 10 * INFLIGHT:  # the broker is slower than the day: wait for it
                time.sleep(0.005)
            pub.publish(sensor_topic(contingent, sensor, day.leaves[k]), day.payload(k))
            report.published += 1
            report.detections += day.leaves[k] == "detections"
            report.status_reports += day.leaves[k] == "status"
        deadline = time.monotonic() + timeout_s
        while any(p.pending() for p in pubs.values()) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        for p in pubs.values():
            p.close()
    report.seconds = time.monotonic() - start
    for p in pubs.values():
        report.acknowledged += p.done - p.refused
        report.refused += p.refused
        for why, n in p.reasons.items():
            report.reasons[why] = report.reasons.get(why, 0) + n
    return report
