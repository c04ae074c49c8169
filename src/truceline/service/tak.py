"""Sending Cursor on Target messages to a TAK server or client: TCP, TLS (TCP with certificates) or UDP.

Standard library only (``socket``, ``ssl``). A target is a URL: ``tcp://host:port`` (a TAK Server's
streaming input, or a client's), ``tls://host:port`` (the same over TLS with a client certificate, as
TAK Server's secure streaming port expects) or ``udp://host:port`` (one datagram per message: a client's
or a multicast group's SA port). On a stream each message is one newline-terminated XML document
(:func:`truceline.service.cot.to_xml`). A connection or send that fails is retried once on a new
connection (the message that failed is sent again); a second failure raises :class:`TakError` naming the
target.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from truceline.core.errors import InvalidInput
from truceline.service import queries
from truceline.service.cot import CotSettings, cot_messages

if TYPE_CHECKING:
    from truceline.agreement import Agreement
    from truceline.store.base import Store

__all__ = ["SCHEMES", "TakError", "Target", "TlsFiles", "parse_target", "role_messages", "send"]

#: The target URL schemes.
SCHEMES = ("tcp", "tls", "udp")


class TakError(RuntimeError):
    """Sending to a target failed (after the one retry); the message names the target."""


@dataclass(frozen=True)
class Target:
    """Where messages go: ``scheme`` (tcp, tls, udp), ``host`` and ``port``."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class TlsFiles:
    """A TLS client's files (PEM): its certificate and key, and the CA that signed the server's certificate.

    Attributes
    ----------
    cert, key : Path or None
        The client certificate and its private key (TAK Server asks for one); None: no client certificate.
    ca : Path or None
        The CA certificate(s) to trust; None: the system's trust store.
    verify_hostname : bool
        Whether the server's certificate must name the host connected to.
    """

    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None
    verify_hostname: bool = True


def parse_target(url: str) -> Target:
    """A target URL ``tcp|tls|udp://host:port`` (IPv6 hosts in brackets).

    Raises
    ------
    InvalidInput
        For another scheme, no host, or no valid port, saying what is wrong with ``url``.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"--to: {url!r} is not a target URL ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise InvalidInput(f"--to: {url!r}: the scheme must be one of {', '.join(SCHEMES)} (e.g. tcp://host:8087)")
    if not parts.hostname:
        raise InvalidInput(f"--to: {url!r} names no host (e.g. {parts.scheme}://host:8087)")
    if port is None or port == 0:
        raise InvalidInput(f"--to: {url!r} names no port (e.g. {parts.scheme}://{parts.hostname}:8087)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(f"--to: {url!r}: a target is scheme://host:port, nothing after the port")
    return Target(parts.scheme, parts.hostname, port)


def tls_context(files: TlsFiles) -> ssl.SSLContext:
    """A client TLS context: the server verified against ``files.ca`` (or the system's CAs), our certificate.

    Raises
    ------
    InvalidInput
        For a certificate without its key (or the reverse), or files that cannot be loaded.
    """
    if (files.cert is None) != (files.key is None):
        raise InvalidInput("--cert and --key: give both (a client certificate and its private key) or neither")
    try:
        ctx = ssl.create_default_context(cafile=None if files.ca is None else str(files.ca))
        if files.cert is not None and files.key is not None:
            ctx.load_cert_chain(str(files.cert), str(files.key))
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(f"TLS files: {exc}") from None
    ctx.check_hostname = files.verify_hostname
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class _Connection:
    """One socket to a target, opened on first use and reopened on demand."""

    def __init__(self, target: Target, ctx: ssl.SSLContext | None, timeout: float) -> None:
        self.target, self.ctx, self.timeout = target, ctx, timeout
        self.sock: socket.socket | None = None

    def open(self) -> None:
        self.close()
        t = self.target
        if t.scheme == "udp":
            info = socket.getaddrinfo(t.host, t.port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(info[0], socket.SOCK_DGRAM)
            sock.settimeout(self.timeout)
            sock.connect(info[4])
            self.sock = sock
            return
        sock = socket.create_connection((t.host, t.port), timeout=self.timeout)
        if self.ctx is not None:
            try:
                sock = self.ctx.wrap_socket(sock, server_hostname=t.host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock

    def send(self, message: bytes) -> None:
        if self.sock is None:
            self.open()
        assert self.sock is not None
        if self.target.scheme == "udp":
            self.sock.send(message)
        else:
            self.sock.sendall(message if message.endswith(b"\n") else message + b"\n")

    def close(self) -> None:
        if self.sock is None:
            return
        try:
            if isinstance(self.sock, ssl.SSLSocket):  # a TLS close_notify: the server sees a clean end
                self.sock.unwrap()
        except (OSError, ValueError):
            pass
        finally:
            self.sock.close()
            self.sock = None


def send(messages: Iterable[bytes], target: Target, tls: TlsFiles | None = None, timeout: float = 10.0) -> int:
    """Send every message to ``target`` in order, on one connection; returns how many were sent.

    A failure to connect or send is retried once on a new connection (the failed message sent again);
    after a successful retry the next failure gets its own retry.

    Parameters
    ----------
    messages : iterable of bytes
        CoT XML documents (:func:`truceline.service.cot.to_xml`).
    target : Target
    tls : TlsFiles, optional
        Required files for a ``tls`` target (None: the system's CAs, no client certificate).
    timeout : float
        Seconds to wait for a connection or a send.

    Raises
    ------
    TakError
        When a message could not be sent after the retry, naming the target and how many went before.
    InvalidInput
        For bad TLS files.
    """
    ctx = tls_context(tls or TlsFiles()) if target.scheme == "tls" else None
    conn = _Connection(target, ctx, timeout)
    sent = 0
    try:
        for message in messages:
            try:
                conn.send(message)
            except OSError:  # ssl.SSLError is an OSError too
                conn.close()
                try:
                    conn.send(message)
                except OSError as exc:
                    raise TakError(f"{target}: {exc} (after one reconnect; {sent} message(s) sent before)") from exc
            sent += 1
    finally:
        conn.close()
    return sent


# ----------------------------------------------------------------------------------- what to send
def _all_features(fetch: Callable[[queries.Filters], queries.Page], start: dt.datetime | None,
                  end: dt.datetime | None) -> list[dict[str, object]]:  # fmt: skip
    """Every feature of a collection query, page after page."""
    out: list[dict[str, object]] = []
    offset = 0
    while True:
        page = fetch(queries.Filters(start=start, end=end, limit=queries.MAX_LIMIT, offset=offset))
        out.extend(page.items)
        if not page.has_next or not page.items:
            return out
        offset += len(page.items)


def role_messages(store: Store, view: queries.View, agreement: Agreement | None, start: dt.datetime | None,
                  end: dt.datetime | None, kinds: Sequence[str],
                  settings: CotSettings) -> dict[str, list[bytes]]:  # fmt: skip
    """The CoT messages of a role's records, per kind (``violation``, ``incident``), in the API's order.

    The records are exactly those the API's collections give the role (:mod:`truceline.service.queries`,
    through the one redaction policy), in ``start <= time < end``; a public view gets no incidents
    (they are not public) and a record whose position the role does not get makes no message.

    Raises
    ------
    InvalidInput
        For a kind other than ``violation`` or ``incident``.
    """
    fetchers: dict[str, Callable[[queries.Filters], queries.Page]] = {
        "violation": lambda f: queries.violations(store, f, view, agreement),
        "incident": lambda f: queries.incidents(store, f, view, agreement),
    }
    out: dict[str, list[bytes]] = {}
    for kind in kinds:
        if kind not in fetchers:
            raise InvalidInput(f"--kind: {kind!r} is not one of {', '.join(fetchers)}")
        if kind == "incident" and view.public:
            out[kind] = []
            continue
        out[kind] = cot_messages(_all_features(fetchers[kind], start, end), kind, settings)
    return out
