"""``truceline listen``: field ingest over MQTT, every message stored before it is acknowledged.

The listener subscribes to the sensors' topics (:data:`truceline.service.mqtt_topics.SUBSCRIPTIONS`)
at QoS 1 in a persistent MQTT v5 session (a fixed client id, ``clean_start`` false, a session that
does not expire): while it is away, the broker keeps what the sensors publish for it, and a message it
has not acknowledged is delivered again when it comes back. Acknowledgement is manual: each message
is validated and its good records committed to the store
(:func:`truceline.service.mqtt_ingest.ingest_message`, the validation and storing steps of every
ingest path), its refusals kept (:class:`~truceline.service.mqtt_ingest.RejectsLog`, synced to disk)
and published to ``truceline/errors/<contingent>/<sensor>``, and only then is the PUBACK sent. A
listener killed at any point therefore loses nothing acknowledged; a message it stored but had not yet
acknowledged comes again and stores nothing twice (the store is idempotent by id: a repeat).

A bad message never stops the listener: it is refused and acknowledged. A failure of the store is no
message's fault: the message is not acknowledged, the listener drops the connection and reconnects
(with backoff) to have it delivered again; a message that fails the same way :data:`POISON_AFTER`
times while the store answers is refused as one that cannot be stored (kept in the rejects); a store
that does not answer stops the listener (:class:`StoreUnavailable`), for its supervisor to restart.
Connections lost or refused are retried with exponential backoff (capped); credentials or an ACL the
broker refuses stop it (:class:`BrokerRefused`). Passwords are never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from truceline.core import InputLimits
from truceline.service.metrics import STATS_EVERY_S, STATS_FILE, write_listener_stats
from truceline.service.mqtt_ingest import RejectsLog, SensorDirectory, ingest_message
from truceline.service.mqtt_topics import SUBSCRIPTIONS, Backoff, BrokerUrl, error_topic, parse_topic
from truceline.store.base import Store

__all__ = ["DEFAULT_CLIENT_ID", "POISON_AFTER", "BrokerRefused", "ListenStats", "Listener", "StoreUnavailable"]

_log = logging.getLogger(__name__)

#: The listener's client id: the broker keeps its session (subscriptions, unacknowledged messages) under it.
DEFAULT_CLIENT_ID: Final = "truceline-listener"
#: Failures of the same message, the store answering, after which it is refused as one that cannot be stored.
POISON_AFTER: Final = 3
#: A session that never expires (MQTT v5 Session Expiry Interval).
_NEVER: Final = 0xFFFFFFFF
#: CONNACK and SUBACK reason codes that waiting will not change: bad credentials, not authorized, bad client id.
_FATAL: Final = frozenset({0x85, 0x86, 0x87, 0x8C})
#: Seconds between two activity summaries in the log.
_SUMMARY_S: Final = 60.0
#: Messages stored in one transaction at most, and the longest a message waits for its batch (seconds):
#: one commit (one fsync) per batch instead of per message, each message acknowledged after it.
BATCH_MAX: Final = 500
BATCH_WAIT_S: Final = 0.05
#: Unacknowledged messages the broker may send at once (MQTT v5 Receive Maximum; the batches' upper bound).
RECEIVE_MAXIMUM: Final = 1000


class BrokerRefused(RuntimeError):
    """The broker refused the listener's credentials, client id or subscriptions."""


class StoreUnavailable(RuntimeError):
    """The store failed and does not answer: nothing unacknowledged is lost, the listener stops."""


@dataclass
class ListenStats:
    """What a listener did since it started."""

    messages: int = 0
    inserted: int = 0
    repeats: int = 0
    refused_messages: int = 0
    acknowledged: int = 0
    store_failures: int = 0
    connections: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(vars(self))


class Listener:
    """The MQTT listener (see the module docstring).

    Parameters
    ----------
    store : Store
        Where good records go.
    broker : BrokerUrl
        The broker and the service user (its password included).
    rejects : Path
        The JSON Lines file refused messages are kept in.
    client_id : str
        The session's client id (one listener per id: a second one takes the session over).
    limits : InputLimits, optional
        The bounds of untrusted input (default the mission's, ``InputLimits()``).
    keepalive : int
        MQTT keepalive, seconds.
    backoff : Backoff, optional
        Reconnection delays (default 0.5 s doubling up to 30 s).
    stats_file : Path, optional
        Where the stats and the connection state are written for ``GET /api/v1/metrics`` (default
        :data:`~truceline.service.metrics.STATS_FILE` beside ``rejects``; see :mod:`truceline.service.metrics`).
    """

    def __init__(
        self,
        store: Store,
        broker: BrokerUrl,
        rejects: Path,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        limits: InputLimits | None = None,
        keepalive: int = 30,
        backoff: Backoff | None = None,
        stats_file: Path | None = None,
    ) -> None:
        self.store, self.broker, self.client_id, self.keepalive = store, broker, client_id, keepalive
        self.rejects = RejectsLog(rejects)
        self.limits = limits if limits is not None else InputLimits()
        self.backoff = backoff if backoff is not None else Backoff()
        self.sensors = SensorDirectory(store)
        self.stats = ListenStats()
        self._stopping = False
        self._failed = False
        self._fatal: str | None = None
        self._failures: dict[str, int] = {}
        self._last_summary = (time.monotonic(), 0)
        self.stats_file = stats_file if stats_file is not None else Path(rejects).with_name(STATS_FILE)
        self.connected = False
        self._stats_written = -STATS_EVERY_S
        self._batch: list[mqtt.MQTTMessage] = []
        self._batch_t0 = 0.0

    # -- control ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop after the message in hand (safe from a signal handler: it only sets a flag)."""
        self._stopping = True

    def run(self) -> ListenStats:
        """Listen until :meth:`stop`; reconnect with backoff whenever the connection is lost.

        Raises
        ------
        BrokerRefused
            When the broker refuses the credentials, the client id or a subscription.
        StoreUnavailable
            When the store fails and does not answer.
        """
        client = self._client()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = _NEVER
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        while not self._stopping:
            try:
                client.connect(self.broker.host, self.broker.port, self.keepalive, clean_start=False, properties=props)
            except OSError as exc:
                self._pause(f"cannot reach the broker {self.broker} ({exc.strerror or type(exc).__name__})")
                continue
            self._serve(client)
            if self._fatal is not None:
                raise BrokerRefused(f"{self.broker}: {self._fatal}")
            if not self._stopping:
                self._pause(f"connection to {self.broker} lost")
        self.connected = False
        self._write_stats(force=True)
        _log.info("stopped: %s", json.dumps(self.stats.to_dict()))
        return self.stats

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
            reconnect_on_failure=False,
        )
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _serve(self, client: mqtt.Client) -> None:
        """Run the network loop until the connection ends or the listener is stopped."""
        while not self._stopping:
            if client.loop(timeout=BATCH_WAIT_S if self._batch else 0.5) != mqtt.MQTT_ERR_SUCCESS:
                self._batch.clear()  # not acknowledged: the broker sends them again on the next session
                return
            if self._batch and time.monotonic() - self._batch_t0 >= BATCH_WAIT_S:
                self._flush(client)
            self._summary()
            self._write_stats()
        if self._batch and client.is_connected():
            self._flush(client)
        if client.is_connected():
            client.disconnect()
            for _ in range(20):
                if client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                    break

    def _pause(self, why: str) -> None:
        delay = self.backoff.next()
        _log.warning("%s; reconnecting in %.1f s", why, delay)
        end = time.monotonic() + delay
        while not self._stopping and time.monotonic() < end:
            self._write_stats()
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def _write_stats(self, force: bool = False) -> None:
        """Write the stats file (every :data:`STATS_EVERY_S` s, or now); a failure to write never stops ingest."""
        now = time.monotonic()
        if not force and now - self._stats_written < STATS_EVERY_S:
            return
        self._stats_written = now
        try:
            write_listener_stats(self.stats_file, self.stats.to_dict(), self.connected)
        except OSError as exc:
            _log.warning("cannot write the stats file %s: %s", self.stats_file, exc.strerror or type(exc).__name__)

    def _summary(self) -> None:
        now, seen = time.monotonic(), self.stats.messages
        t0, n0 = self._last_summary
        if now - t0 >= _SUMMARY_S:
            if seen > n0:
                _log.info("%d message(s) in the last %.0f s; totals %s", seen - n0, now - t0,
                          json.dumps(self.stats.to_dict()))  # fmt: skip
            self._last_summary = (now, seen)

    # -- callbacks -------------------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            if reason.value in _FATAL:
                self._fatal = f"connection refused: {reason}"
            _log.error("the broker %s refused the connection: %s", self.broker, reason)
            return
        self._failed = False
        self.backoff.reset()
        self.stats.connections += 1
        self.connected = True
        self._write_stats(force=True)
        present = bool(getattr(flags, "session_present", False))
        _log.info("connected to %s as %s (session %s)", self.broker, self.client_id,
                  "resumed" if present else "new")  # fmt: skip
        client.subscribe([(topic, 1) for topic in SUBSCRIPTIONS])

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected = False
        self._batch.clear()  # not acknowledged: the broker sends them again on the next session
        self._write_stats(force=True)
        if self._stopping:
            _log.info("disconnected from %s", self.broker)
        else:
            _log.warning("disconnected from %s: %s", self.broker, reason)

    def _on_subscribe(self, client: mqtt.Client, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        refused = [f"{t}: {r}" for t, r in zip(SUBSCRIPTIONS, reasons, strict=False) if r.is_failure]
        if refused:
            self._fatal = "subscription refused: " + "; ".join(refused)
            _log.error("the broker refused %s", "; ".join(refused))
            client.disconnect()
            return
        _log.info("subscribed to %s at QoS 1", ", ".join(SUBSCRIPTIONS))

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if self._failed:  # the store failed on an earlier message: this one comes again after reconnecting
            return
        self.stats.messages += 1
        if not self._batch:
            self._batch_t0 = time.monotonic()
        self._batch.append(msg)
        if len(self._batch) >= BATCH_MAX:
            self._flush(client)

    def _flush(self, client: mqtt.Client) -> None:
        """Store the waiting messages in one transaction, then acknowledge each; when the store fails on one,
        nothing of the batch is kept and its messages are stored one by one, as they came."""
        batch, self._batch = self._batch, []
        done: list[tuple[mqtt.MQTTMessage, Any]] = []
        try:
            with self.store.transaction():
                for msg in batch:
                    done.append((msg, self._store(msg)))
        except Exception as exc:
            if len(batch) == 1:
                self._store_failed(client, batch[0], *self._name_payload(batch[0]), exc)
                return
            for msg in batch:  # one transaction each: a failure is that message's alone
                if self._failed:
                    return
                self._handle(client, msg)
            return
        for msg, outcome in done:
            self._finish(client, msg, outcome)

    @staticmethod
    def _name_payload(msg: mqtt.MQTTMessage) -> tuple[str, bytes]:
        try:
            return msg.topic, bytes(msg.payload)
        except UnicodeDecodeError:
            return repr(msg._topic), bytes(msg.payload)

    def _store(self, msg: mqtt.MQTTMessage) -> Any:
        """Validate and store one message (in the caller's transaction): its outcome, None for a message on
        no sensor's topic; raises when the store fails."""
        name, payload = self._name_payload(msg)
        topic = parse_topic(name)
        if topic is None:
            return None
        content_type = getattr(msg.properties, "ContentType", None) if msg.properties is not None else None
        return ingest_message(self.store, topic, payload, self.sensors, limits=self.limits, content_type=content_type)

    def _handle(self, client: mqtt.Client, msg: mqtt.MQTTMessage) -> None:
        """One message on its own: stored, or the store's failure handled (:meth:`_store_failed`)."""
        try:
            outcome = self._store(msg)
        except Exception as exc:
            self._store_failed(client, msg, *self._name_payload(msg), exc)
            return
        self._finish(client, msg, outcome)

    def _finish(self, client: mqtt.Client, msg: mqtt.MQTTMessage, outcome: Any) -> None:
        """After the commit: count, keep a refusal (rejects file, errors topic), acknowledge."""
        name, payload = self._name_payload(msg)
        if outcome is None:
            _log.warning("refused a message on %r: not a sensor's topic", name)
            self.rejects.append(name, None, payload, reason="not a sensor's topic")
            self._ack(client, msg, refused=True)
            return
        self.stats.inserted += outcome.inserted
        self.stats.repeats += outcome.repeats
        if outcome.problems:
            topic = parse_topic(name)
            _log.warning("refused %d record(s) of a message on %s: %s", outcome.rejected, name, outcome.problems[0])
            self.rejects.append(name, outcome, payload)
            if topic is not None:
                client.publish(error_topic(topic), json.dumps(outcome.to_dict()), qos=1)
        _log.debug("%s: %d new, %d already stored, %d refused", name, outcome.inserted, outcome.repeats,
                   outcome.rejected)  # fmt: skip
        self._failures.pop(self._digest(name, payload), None)
        self._ack(client, msg, refused=bool(outcome.problems))

    def _ack(self, client: mqtt.Client, msg: mqtt.MQTTMessage, *, refused: bool) -> None:
        client.ack(msg.mid, msg.qos)
        self.stats.acknowledged += 1
        self.stats.refused_messages += int(refused)

    @staticmethod
    def _digest(topic: str, payload: bytes) -> str:
        return hashlib.sha256(topic.encode("utf-8", "surrogatepass") + b"\0" + payload).hexdigest()

    def _store_failed(
        self, client: mqtt.Client, msg: mqtt.MQTTMessage, name: str, payload: bytes, exc: Exception
    ) -> None:
        """The store failed on a message: not acknowledged; reconnect to have it again, refuse it as a poison
        message after :data:`POISON_AFTER` tries, stop when the store does not answer."""
        self.stats.store_failures += 1
        key = self._digest(name, payload)
        tries = self._failures[key] = self._failures.get(key, 0) + 1
        try:
            self.store.count("sensor")
        except Exception as probe:
            _log.error("the store failed (%s) and does not answer (%s): stopping; nothing unacknowledged is lost",
                       type(exc).__name__, type(probe).__name__)  # fmt: skip
            self._stopping = True
            client.disconnect()
            raise StoreUnavailable(f"the store failed: {type(exc).__name__}: {exc}") from exc
        if tries >= POISON_AFTER:
            reason = f"could not be stored after {tries} tries ({type(exc).__name__}: {exc})"
            _log.error("refused a message on %s: %s", name, reason)
            self.rejects.append(name, None, payload, reason=reason)
            topic = parse_topic(name)
            if topic is not None:
                client.publish(error_topic(topic), json.dumps({"topic": name, "reason": reason}), qos=1)
            self._failures.pop(key, None)
            self._ack(client, msg, refused=True)
            return
        _log.exception("storing a message on %s failed (try %d): not acknowledged; reconnecting to have it again",
                       name, tries)  # fmt: skip
        self._failed = True
        client.disconnect()
