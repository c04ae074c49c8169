"""What field ingest over MQTT agrees on: topics, broker URLs, credentials files and the reconnect backoff.

Topics
------
A sensor publishes its detections and its status reports to its contingent's branch of the tree:

=============================================  ======================================================
topic                                          what
=============================================  ======================================================
``truceline/<contingent>/<sensor>/detections``  detections of ``<sensor>`` (JSON, one object or an array; or CSV)
``truceline/<contingent>/<sensor>/status``      status reports of ``<sensor>`` (JSON, one object or an array)
``truceline/errors/<contingent>/<sensor>``      what the listener refused of a message, with the reasons
=============================================  ======================================================

The broker's ACL (``scripts/mosquitto.sh``) lets a contingent's user publish to its own branch only;
the listener checks what the broker cannot see: that each record's ``sensor_id`` is the topic's sensor
and that the sensor is registered to the topic's contingent.

URLs and passwords
------------------
``mqtt://USER:PASSWORD@HOST:PORT`` (port 1883 by default). A password is never printed nor logged:
:class:`BrokerUrl` shows itself with ``***``. It may be left out of the URL (other users of the machine
read command lines) and come from ``TRUCELINE_MQTT_PASSWORD`` or from a credentials file: the
``credentials`` file ``scripts/mosquitto.sh`` writes (0600), one ``USER:PASSWORD`` a line.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from truceline.core.errors import InvalidInput
from truceline.io.kinds import RecordKind

__all__ = [
    "DEFAULT_PORT",
    "ERRORS",
    "PASSWORD_ENV",
    "ROOT",
    "SUBSCRIPTIONS",
    "Backoff",
    "BrokerUrl",
    "SensorTopic",
    "error_topic",
    "parse_broker_url",
    "parse_topic",
    "read_credentials",
    "sensor_topic",
]

#: The root of every truceline topic.
ROOT: Final = "truceline"
#: The branch of the refusals (a contingent may not be called so: its topics would be the errors').
ERRORS: Final = "errors"
#: The last level of a topic and the kind of record it carries.
LEAVES: Final = {"detections": RecordKind.DETECTION, "status": RecordKind.SENSOR_STATUS}
#: What the listener subscribes to (at QoS 1).
SUBSCRIPTIONS: Final = tuple(f"{ROOT}/+/+/{leaf}" for leaf in LEAVES)
DEFAULT_PORT: Final = 1883
#: Where a password left out of the URL is read from.
PASSWORD_ENV: Final = "TRUCELINE_MQTT_PASSWORD"
#: What a contingent or a sensor must look like to be a topic level (a record id's alphabet).
_LEVEL: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


@dataclass(frozen=True)
class SensorTopic:
    """A sensor's topic, parsed: ``truceline/<contingent>/<sensor>/<leaf>``."""

    contingent: str
    sensor: str
    leaf: str

    @property
    def kind(self) -> RecordKind:
        """The kind of record the topic carries."""
        return LEAVES[self.leaf]

    def __str__(self) -> str:
        return f"{ROOT}/{self.contingent}/{self.sensor}/{self.leaf}"


def parse_topic(topic: str) -> SensorTopic | None:
    """The sensor topic ``topic`` names, or None when it is none (another shape, the errors branch, a
    level that is not a record id's)."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != ROOT or parts[3] not in LEAVES or parts[1] == ERRORS:
        return None
    if not (_LEVEL.match(parts[1]) and _LEVEL.match(parts[2])):
        return None
    return SensorTopic(parts[1], parts[2], parts[3])


def sensor_topic(contingent: str, sensor: str, leaf: str = "detections") -> str:
    """The topic a sensor publishes ``leaf`` (``detections`` or ``status``) to."""
    if leaf not in LEAVES:
        raise InvalidInput(f"topic leaf {leaf!r}: known are {', '.join(LEAVES)}")
    for level in (contingent, sensor):
        if not _LEVEL.match(level) or level == ERRORS:
            raise InvalidInput(f"{level!r} cannot be a topic level (letters, digits and . _ : - only; not 'errors')")
    return f"{ROOT}/{contingent}/{sensor}/{leaf}"


def error_topic(topic: SensorTopic) -> str:
    """Where the refusals of a message on ``topic`` are published."""
    return f"{ROOT}/{ERRORS}/{topic.contingent}/{topic.sensor}"


@dataclass(frozen=True)
class BrokerUrl:
    """A broker's address and the user to log in as; ``str()`` never shows the password."""

    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        user = "" if self.username is None else urllib.parse.quote(self.username, safe="")
        secret = ":***" if self.password is not None else ""
        at = f"{user}{secret}@" if user or secret else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{at}{host}:{self.port}"

    def __repr__(self) -> str:
        return f"BrokerUrl({str(self)!r})"

    def with_password(self, credentials: Path | None = None) -> BrokerUrl:
        """This URL with a password when it has none: ``TRUCELINE_MQTT_PASSWORD``, else the user's line of
        the ``credentials`` file (see :func:`read_credentials`); as it is when neither gives one."""
        if self.password is not None or self.username is None:
            return self
        secret = os.environ.get(PASSWORD_ENV)
        if secret is None and credentials is not None:
            secret = read_credentials(credentials).get(self.username)
        return self if secret is None else replace(self, password=secret)


def parse_broker_url(url: str) -> BrokerUrl:
    """``mqtt://[USER[:PASSWORD]@]HOST[:PORT]`` (user and password percent-encoded where needed).

    Raises
    ------
    InvalidInput
        For another scheme, no host, a bad port, or a path; the message shows no password.
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() != "mqtt":
        raise InvalidInput(f"broker URL: the scheme must be mqtt://, not {parts.scheme!r}:// (mqtt://USER@HOST:PORT)")
    if not parts.hostname:
        raise InvalidInput("broker URL: no host (mqtt://USER@HOST:PORT)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput("broker URL: nothing may follow HOST:PORT (mqtt://USER@HOST:PORT)")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise InvalidInput("broker URL: the port must be a number from 1 to 65535") from None
    unquote = urllib.parse.unquote
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return BrokerUrl(parts.hostname, port, user, password)


def read_credentials(path: Path) -> dict[str, str]:
    """The ``USER:PASSWORD`` lines of a credentials file (blank lines and ``#`` comments skipped).

    Raises
    ------
    InvalidInput
        When the file cannot be read or a line has no ``:`` (naming the line, never its text).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"credentials {path}: cannot be read ({type(exc).__name__})") from None
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, secret = line.partition(":")
        if not sep or not user:
            raise InvalidInput(f"credentials {path}:{n}: not USER:PASSWORD")
        out[user] = secret
    return out


class Backoff:
    """Exponential backoff: ``first``, then doubling each time, never above ``cap`` (seconds).

    Parameters
    ----------
    first : float
        The first delay.
    cap : float
        The longest delay.
    """

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        if first <= 0 or cap < first:
            raise InvalidInput(f"backoff: need 0 < first <= cap (first {first}, cap {cap})")
        self.first, self.cap = first, cap
        self._next = first

    def next(self) -> float:
        """The delay to wait now; the next one doubles (up to ``cap``)."""
        delay = self._next
        self._next = min(self._next * 2.0, self.cap)
        return delay

    def reset(self) -> None:
        """Back to ``first`` (after a connection that held)."""
        self._next = self.first
