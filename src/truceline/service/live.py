"""Live processing: fuse and adjudicate continuously as observations arrive, and say how far behind it is.

:func:`process` already processes only the windows whose records changed since they were last processed
(and a window still filling is processed again when more arrives), so running it in a loop is live
processing with the batch's decisions: :class:`LiveProcessor` calls it every ``interval_s`` seconds on its
own store connection, in a background thread of ``truceline serve --live`` or in the foreground of
``truceline process --follow``, and keeps a status file beside the store::

    DATA/live.json  {"pid", "started_at", "last_run_at", "last_run_s", "runs", "windows_processed",
                     "processed_until", "lag_s", "error"}

``lag_s`` is the time from the end of the processed data (:func:`processed_until`) to the end of the last
run: how far behind the live picture is. ``GET /api/v1/health`` gives it to the mission's roles, and the
dashboard shows it beside the live indicator. A failing run (the store unreachable, say) is recorded in
``error`` and retried at the next tick; it never stops the loop. A failing window is quarantined by
:func:`process` as in a batch run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from truceline.agreement import Agreement
from truceline.service.keys import key_home_of_url
from truceline.service.process import process, stored_params
from truceline.store.registry import open_store

__all__ = ["STATUS_FILE", "LiveProcessor", "LiveStatus", "read_status"]

log = logging.getLogger(__name__)

#: The status file, in the store's data directory (or a server store's key home).
STATUS_FILE = "live.json"


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class LiveStatus:
    """What the live processor reports after each run (written to :data:`STATUS_FILE`)."""

    pid: int
    started_at: str
    last_run_at: str | None = None
    last_run_s: float | None = None
    runs: int = 0
    windows_processed: int = 0
    processed_until: str | None = None
    lag_s: float | None = None
    error: str | None = None


def read_status(home: Path | None) -> dict[str, Any] | None:
    """The live processor's last status in a data directory, or None (no file, or not readable as one)."""
    if home is None:
        return None
    try:
        doc = json.loads((home / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


class LiveProcessor:
    """Process a store's new data every ``interval_s`` seconds until stopped.

    Parameters
    ----------
    store_url : str or Path
        The store (each run opens its own connection: the loop may run beside an API server).
    agreement : Agreement
    interval_s : float
        Seconds between the end of a run and the start of the next.
    """

    def __init__(self, store_url: str | Path, agreement: Agreement, interval_s: float = 10.0) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval: {interval_s} s is not a positive number of seconds")
        self.store_url = str(store_url)
        self.agreement = agreement
        self.interval_s = float(interval_s)
        self.home = key_home_of_url(store_url)
        now = dt.datetime.now(dt.UTC)
        self.status = LiveStatus(pid=os.getpid(), started_at=_iso(now) or "")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> LiveStatus:
        """One run: process what changed, update and write the status (a failure is recorded, not raised)."""
        t0 = time.monotonic()
        s = self.status
        try:
            store = open_store(self.store_url)
            try:
                summary = process(store, self.agreement, params=stored_params(store))
            finally:
                store.close()
            s.windows_processed += len(summary.windows_processed)
            s.processed_until = _iso(summary.processed_until)
            end = dt.datetime.now(dt.UTC)
            s.lag_s = (
                None if summary.processed_until is None else max(0.0, (end - summary.processed_until).total_seconds())
            )
            s.error = None
        except Exception as exc:  # the loop outlives a bad run; the status says what failed
            log.warning("live processing run failed: %s", exc)
            s.error = f"{type(exc).__name__}: {exc}"
        s.runs += 1
        s.last_run_s = round(time.monotonic() - t0, 3)
        s.last_run_at = _iso(dt.datetime.now(dt.UTC))
        self._write()
        return s

    def _write(self) -> None:
        if self.home is None:
            return
        path = self.home / STATUS_FILE
        tmp = path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(asdict(self.status), indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write %s: %s", path, exc)

    def run_forever(self) -> None:
        """Run until :meth:`stop` (or KeyboardInterrupt in the foreground)."""
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_s)

    def start(self) -> LiveProcessor:
        """Run in a daemon thread (``serve --live``)."""
        self._thread = threading.Thread(target=self.run_forever, name="truceline-live", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the current run."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
