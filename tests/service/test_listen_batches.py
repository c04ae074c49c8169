"""The listener's batches (service/listen.py), without a broker: the messages a network loop delivers are
stored in one transaction and only then acknowledged, each; when the store fails on one of them nothing of
the batch is kept and they are stored one by one, so only the failing message goes unacknowledged (and
comes again), the ones before it stored and acknowledged, none after it acknowledged; a message that
fails POISON_AFTER times is refused and kept with the rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.service.test_listen import SENSORS, csv_detection
from truceline.core import Sensor, evolve
from truceline.core.examples import example_records
from truceline.service import listen as listen_mod
from truceline.service.listen import POISON_AFTER, Listener
from truceline.service.mqtt_topics import parse_broker_url, sensor_topic
from truceline.store import Store


class FakeClient:
    """What the listener asks of a paho client: acknowledgements, publications, disconnection."""

    def __init__(self) -> None:
        self.acked: list[int] = []
        self.published: list[str] = []
        self.disconnected = 0

    def ack(self, mid: int, qos: int) -> None:
        self.acked.append(mid)

    def publish(self, topic: str, payload: str, qos: int = 0) -> None:
        self.published.append(topic)

    def disconnect(self) -> None:
        self.disconnected += 1


def _message(mid: int, sensor: str, det_id: str) -> mqtt.MQTTMessage:
    contingent = SENSORS[sensor]
    msg = mqtt.MQTTMessage(mid=mid, topic=sensor_topic(contingent, sensor, "detections").encode())
    msg.payload = csv_detection(det_id, sensor, mid).encode()
    msg.qos = 1
    return msg


@pytest.fixture
def listener(store: Store, tmp_path: Path) -> Listener:
    base: Sensor = example_records()["sensor"]  # type: ignore[assignment]
    store.add_records("sensor", [evolve(base, id=sid, contingent=c) for sid, c in SENSORS.items()])
    broker = parse_broker_url("mqtt://truceline:secret@127.0.0.1:1883")
    return Listener(store, broker, tmp_path / "rejects.jsonl")


def _deliver(lst: Listener, client: FakeClient, msgs: list[mqtt.MQTTMessage]) -> None:
    for m in msgs:
        lst._on_message(client, None, m)  # type: ignore[arg-type]
    lst._flush(client)  # type: ignore[arg-type]


def test_a_batch_is_one_transaction_acknowledged_after_it(listener: Listener, store: Store) -> None:
    client = FakeClient()
    sensor = next(iter(SENSORS))
    commits: list[int] = []
    real = store.transaction

    def counting() -> Any:
        commits.append(len(client.acked))  # how many were acknowledged when the transaction began
        return real()

    store.transaction = counting  # type: ignore[method-assign]
    _deliver(listener, client, [_message(k, sensor, f"det-b{k}") for k in range(1, 6)])
    assert client.acked == [1, 2, 3, 4, 5]
    assert commits[0] == 0  # one outer transaction first, nothing acknowledged before it
    assert listener.stats.inserted == 5 and listener.stats.acknowledged == 5
    assert store.count("detection") == 5


def test_a_store_failure_in_a_batch_leaves_only_that_message_unacknowledged(
    listener: Listener, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = FakeClient()
    sensor = next(iter(SENSORS))
    real = listen_mod.ingest_message

    def flaky(st: Store, topic: Any, payload: bytes, *args: Any, **kw: Any) -> Any:
        if b"det-bad" in payload:
            raise OSError("disk full")
        return real(st, topic, payload, *args, **kw)

    monkeypatch.setattr(listen_mod, "ingest_message", flaky)
    msgs = [_message(1, sensor, "det-ok1"), _message(2, sensor, "det-bad"), _message(3, sensor, "det-ok3")]
    _deliver(listener, client, msgs)
    assert client.acked == [1]  # stored alone after the batch rolled back; 2 failed; 3 waits for redelivery
    assert store.count("detection") == 1 and client.disconnected == 1
    assert listener.stats.store_failures == 1
    # Delivered again after reconnecting, the failing message is refused as a poison after POISON_AFTER tries.
    for _ in range(POISON_AFTER - 1):
        listener._failed = False
        _deliver(listener, client, [_message(2, sensor, "det-bad")])
    assert client.acked == [1, 2] and listener.stats.refused_messages == 1
    assert "det-bad" in listener.rejects.path.read_text()
