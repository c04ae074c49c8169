"""Live operations (issue 15): a detection's publish to its event in the API, and the MQTT listener's throughput.

Run with ``make bench`` (or ``python benchmarks/live_ops.py``: the busiest 5 simulated minutes at 1x, the
busiest simulated hour at 10x, the busiest 5 minutes at full speed; ``--quick`` for a trial: 2-minute slices);
writes ``benchmarks/results/live_ops.json``, then renders ``.md`` and the blocks of the README and
``docs/field.md`` from it (``figures.py``). Everything runs on this machine, as an operator would:

- a Mosquitto broker started by ``scripts/mosquitto.sh`` (a folder of its own under ``/tmp``, a free port;
  per-contingent users and the ACL), stopped at the end;
- the ``escalation`` scenario simulated (``truceline simulate``); for each run a fresh SQLite store holding
  the day's sensors and weather (ingested first, as the field procedure asks), ``truceline listen`` on it
  (a session of its own) and, for the latency runs, ``truceline serve --live --interval S`` on it;
- the slice of the day (the busiest simulated window of the length asked, by detection count) published by
  :func:`truceline.service.replay.replay` in a worker process of this script, its publisher class wrapped
  (no change to ``src/``) to log each message's publish time and the broker's PUBACK time.

**Latency** (per event): the first time ``GET /api/v1/events`` (analyst token, polled every 0.5 s over the
slice's time range, every page) shows the event id, minus the publish time of the last published of the
detections it lists then (the analyst's full view carries ``detection_ids``). All times are this machine's
wall clock (``time.time()``) in the worker and in the poller. An event id seen once and gone from the final
picture (replaced when its window was processed again with more data) counts at its first sighting too.

**Integrity**: every replayed detection id must be in the store exactly once (the store's ``detections``
table read at the end and compared by id: lost, duplicated and unexpected ids are counted); the replay's
PUBACKs must all be successes. Any failure makes the script exit 1 (after publishing what it measured).

**Throughput**: the listener alone on a fresh store, the slice published with ``speed 0`` (as fast as the
broker takes it): messages stored and acknowledged per second = messages / (the last one stored - the first
publish; the store polled every 0.1 s); the PUBACK latency the publisher sees. Mosquitto acknowledges a QoS 1
publication when it has it, before it reaches the listener: the listener's own commit-then-acknowledge
latency is the publish -> stored figure (the store polled for new ids), given for the paced runs too.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = ROOT / "scripts" / "mosquitto.sh"
TRUCELINE = [sys.executable, "-m", "truceline"]
SCENARIO = ROOT / "scenarios" / "escalation.yaml"
#: The latency runs: (name, simulated seconds, speed); the throughput run: simulated seconds at speed 0.
RUNS = [("1x", 300, 1.0), ("10x", 3600, 10.0)]
QUICK_RUNS = [("1x", 120, 1.0), ("10x", 120, 10.0)]
THROUGHPUT_S, QUICK_THROUGHPUT_S = 300, 120
POLL_S = 0.5
STORE_POLL_S = 0.1
#: Goals at 10x on 2 cores (issue 15).
GOAL_P99_S, GOAL_MAX_S = 10.0, 20.0
#: After the last publication, the longest wait for the listener to store everything and the live loop to
#: finish a run started after that (then the picture is final).
DRAIN_CAP_S = 300.0


# --- helpers --------------------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TRUCELINE_")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _pct(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "p50_s": None, "p99_s": None, "max_s": None, "min_s": None}
    a = np.asarray(values, dtype=float)
    return {
        "n": len(values),
        "p50_s": round(float(np.percentile(a, 50)), 3),
        "p99_s": round(float(np.percentile(a, 99)), 3),
        "max_s": round(float(a.max()), 3),
        "min_s": round(float(a.min()), 3),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Procs:
    """The processes this benchmark starts, each in a process group of its own, all ended in :meth:`close`."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self, p: subprocess.Popen[bytes], timeout: float = 30.0) -> int | None:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        with contextlib.suppress(ProcessLookupError):  # anything left in its group
            os.killpg(p.pid, signal.SIGKILL)
        return p.returncode

    def close(self) -> None:
        for p in reversed(self.procs):
            self.stop(p)


class Broker:
    """Mosquitto by ``scripts/mosquitto.sh`` in a folder of its own on a free port."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="truceline-bench-mqtt-"))
        self.port = _free_port()
        self.env = _env() | {"TRUCELINE_MQTT_DIR": str(self.folder), "TRUCELINE_MQTT_PORT": str(self.port),
                             "TRUCELINE_MQTT_CONTINGENTS": "FRA GBR MNB"}  # fmt: skip

    @property
    def credentials(self) -> Path:
        return self.folder / "credentials"

    def url(self, user: str | None = None) -> str:
        return f"mqtt://{user + '@' if user else ''}127.0.0.1:{self.port}"

    def start(self) -> None:
        r = subprocess.run(["bash", str(SCRIPT)], env=self.env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0 or r.stdout.strip() != self.url():
            raise SystemExit(
                f"live_ops: scripts/mosquitto.sh could not start mosquitto (exit {r.returncode}):\n{r.stderr}"
            )

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "--stop"], env=self.env, capture_output=True, text=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


# --- the day and its slices -------------------------------------------------------------------------------------


def message_ids(day: Any) -> list[str]:
    """Each message's record id (the CSV line's first field, or the JSON line's ``id``)."""
    out = []
    for head, line in zip(day.heads, day.lines, strict=True):
        out.append(line.split(b",", 1)[0].decode() if head else str(json.loads(line)["id"]))
    return out


def busiest(day: Any, seconds: float) -> tuple[int, int]:
    """The slice ``[i, j)`` of messages of the busiest ``seconds`` of simulated time (most detections)."""
    t = np.asarray(day.times_us, dtype=np.int64)
    ends = np.searchsorted(t, t + int(seconds * 1e6), side="left")
    i = int(np.argmax(ends - np.arange(len(t))))
    return i, int(ends[i])


def sub_day(day: Any, i: int, j: int) -> Any:
    from truceline.service.replay import SimDay

    return SimDay(day.contingent, day.times_us[i:j], day.leaves[i:j], day.sensors[i:j], day.lines[i:j], day.heads[i:j])


# --- the replay worker (a process of its own: the poller's work does not delay the publisher) ------------------


def worker(spec_path: Path) -> int:
    """Replay ``spec``'s slice with the publish and PUBACK times logged; write them as JSON to ``spec['out']``."""
    import truceline.service.replay as rp
    from truceline.service.mqtt_topics import parse_broker_url, read_credentials

    spec = json.loads(spec_path.read_text())
    day = sub_day(rp.load_day(Path(spec["simdir"])), spec["i"], spec["j"])
    published: list[float] = []
    ack_s: list[float] = []

    class Timed(rp._Publisher):
        def __init__(self, *a: Any, **k: Any) -> None:
            self.at: dict[int, float] = {}
            self.early: dict[int, float] = {}
            super().__init__(*a, **k)

        def _on_publish(self, c: Any, u: Any, mid: int, reason: Any, p: Any) -> None:
            now = time.time()
            with self.lock:
                t = self.at.pop(mid, None)
                if t is None:
                    self.early[mid] = now
                else:
                    ack_s.append(now - t)
            super()._on_publish(c, u, mid, reason, p)

        def publish(self, topic: str, payload: bytes) -> None:
            with self.lock:
                self.sent += 1
            t = time.time()
            mid = int(self.client.publish(topic, payload, qos=1).mid)
            published.append(t)
            with self.lock:
                done = self.early.pop(mid, None)
                if done is None:
                    self.at[mid] = t
                else:
                    ack_s.append(done - t)

    rp._Publisher = Timed  # type: ignore[misc]
    report = rp.replay(day, parse_broker_url(spec["url"]), spec["speed"],
                       credentials=read_credentials(Path(spec["credentials"])), client_prefix=spec["prefix"],
                       timeout_s=120.0)  # fmt: skip
    Path(spec["out"]).write_text(json.dumps({"report": report.to_dict(), "published": published, "ack_s": ack_s}))
    return 0


# --- one run: a store, the listener, (the server), the replay, the pollers ---------------------------------------


class Poller:
    """Polls the store for new detection ids (and, with an API, the events and the health) in threads."""

    def __init__(self, db: Path, api: str | None, token: str | None, span: tuple[str, str]) -> None:
        self.db, self.api, self.token, self.span = db, api, token, span
        self.stored_at: dict[str, float] = {}
        self.seen_at: dict[str, float] = {}
        self.seen_dets: dict[str, list[str]] = {}
        self.current: set[str] = set()
        self.changed_at = time.time()
        self.polls = 0
        self.poll_s: list[float] = []
        self.errors: list[str] = []
        self.health: list[dict[str, Any]] = []
        self.runs = 0
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._store_loop, daemon=True)]
        if api is not None:
            self.threads.append(threading.Thread(target=self._api_loop, daemon=True))
        for t in self.threads:
            t.start()

    def _store_loop(self) -> None:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        last = 0
        try:
            while not self._stop.is_set():
                try:
                    rows = con.execute("SELECT rowid, id FROM detections WHERE rowid > ? ORDER BY rowid", (last,))
                    now = time.time()
                    for rowid, det in rows.fetchall():
                        self.stored_at.setdefault(det, now)
                        last = max(last, rowid)
                except sqlite3.OperationalError as exc:  # locked for a moment: next poll
                    self.errors.append(f"store: {exc}")
                self._stop.wait(STORE_POLL_S)
        finally:
            con.close()

    def _get(self, path: str, **params: Any) -> Any:
        url = f"{self.api}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def _api_loop(self) -> None:
        next_health = 0.0
        while not self._stop.is_set():
            t0 = time.time()
            try:
                ids: set[str] = set()
                offset = 0
                while True:
                    body = self._get("/api/v1/events", start=self.span[0], end=self.span[1], limit=10000, offset=offset)
                    now = time.time()
                    for f in body.get("features", []):
                        eid = str(f.get("id") or f["properties"]["id"])
                        ids.add(eid)
                        if eid not in self.seen_at:
                            self.seen_at[eid] = now
                            self.seen_dets[eid] = list(f["properties"].get("detection_ids") or [])
                    offset += len(body.get("features", []))
                    if not body.get("features") or offset >= int(body.get("numberMatched") or 0):
                        break
                if ids != self.current:
                    self.current, self.changed_at = ids, time.time()
                self.polls += 1
                self.poll_s.append(time.time() - t0)
                if t0 >= next_health:
                    next_health = t0 + 1.0
                    live = (self._get("/api/v1/health").get("processing") or {}).get("live") or {}
                    self.runs = int(live.get("runs") or 0)
                    self.health.append({"t": round(time.time(), 3), **{k: live.get(k) for k in
                                        ("runs", "last_run_s", "windows_processed", "error")}})  # fmt: skip
            except Exception as exc:  # the server busy or restarting: counted, polled again
                self.errors.append(f"api: {type(exc).__name__}: {exc}")
            self._stop.wait(max(0.0, POLL_S - (time.time() - t0)))

    def stop(self) -> None:
        self._stop.set()
        for t in self.threads:
            t.join(60)


def event_latencies(
    seen_at: dict[str, float], seen_dets: dict[str, list[str]], pub_at: dict[str, float]
) -> dict[str, Any]:
    """Each event's latency, from the API's sightings (id -> first time shown, and its detection ids then).

    A live run that processes a window again issues its events again under new ids, most with the same
    detections: an event id first shown is a *new* event only when it lists a detection no event shown
    before (in an earlier poll) listed; its latency is its first sighting minus the publish time of the
    last published of its detections. ``per_id`` keeps every id (re-issues included), for comparison.
    Entries: (latency s, event id, detections, time shown).
    """
    shown: set[str] = set()
    new, per_id, missing = [], [], 0
    by_time: dict[float, list[str]] = {}
    for eid, t in seen_at.items():
        by_time.setdefault(t, []).append(eid)
    for t in sorted(by_time):
        fresh: set[str] = set()
        for eid in sorted(by_time[t]):
            dets = seen_dets[eid]
            ts = [pub_at[d] for d in dets if d in pub_at]
            if not ts:
                missing += 1
                continue
            entry = (t - max(ts), eid, len(dets), t)
            per_id.append(entry)
            if not set(dets) <= shown:
                new.append(entry)
            fresh.update(dets)
        shown |= fresh
    return {"new": new, "per_id": per_id, "missing": missing}


def _prepare_store(data: Path, simdir: Path) -> None:
    from truceline.service.ingest import ingest_files
    from truceline.store import open_store

    store = open_store(f"sqlite:///{data}")
    try:
        obs = simdir / "observations"
        if not ingest_files(store, [obs / "sensors.jsonl", obs / "weather.jsonl"]).ok:
            raise SystemExit("live_ops: the day's sensors and weather did not ingest")
    finally:
        store.close()


def _wait(probe: Any, timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = probe()
        if v:
            return v
        time.sleep(0.1)
    raise SystemExit(f"live_ops: {what} (after {timeout:.0f} s)")


def run(
    name: str, broker: Broker, simdir: Path, day: Any, ids: list[str], sl: tuple[int, int], speed: float,
    interval: float | None, work: Path, procs: Procs,
) -> dict[str, Any]:  # fmt: skip
    """One run; ``interval`` None: the listener alone (throughput), else with ``serve --live``."""
    i, j = sl
    folder = work / name
    data = folder / "data"
    data.mkdir(parents=True)
    _prepare_store(data, simdir)
    t_first, t_last = float(day.times_us[i]) / 1e6, float(day.times_us[j - 1]) / 1e6
    out: dict[str, Any] = {
        "name": name,
        "speed": speed,
        "slice": {"start": _iso(t_first), "end": _iso(t_last), "simulated_s": round(t_last - t_first, 1),
                  "messages": j - i, "detections": sum(1 for k in range(i, j) if day.leaves[k] == "detections")},
        "load_avg_start": _load(),
    }  # fmt: skip
    listener = procs.start(
        [*TRUCELINE, "listen", "--mqtt", broker.url("truceline"), "--credentials", str(broker.credentials),
         "--data", str(data), "--client-id", f"bench-live-{name}-{os.getpid()}"],
        folder / "listen.log",
    )  # fmt: skip
    _wait(lambda: "subscribed to" in (folder / "listen.log").read_text(errors="replace") or listener.poll() is not None,
          60, "the listener did not subscribe")  # fmt: skip
    if listener.poll() is not None:
        raise SystemExit(f"live_ops: the listener exited:\n{(folder / 'listen.log').read_text(errors='replace')}")
    api = token = None
    server = None
    if interval is not None:
        r = subprocess.run([*TRUCELINE, "token", "create", "--role", "analyst", "--name", "bench", "--data", str(data),
                            "--json"], capture_output=True, text=True, env=_env(), timeout=120)  # fmt: skip
        if r.returncode != 0:
            raise SystemExit(f"live_ops: token create failed:\n{r.stderr}")
        token = json.loads(r.stdout)["token"]
        port = _free_port()
        server = procs.start(
            [*TRUCELINE, "serve", "--data", str(data), "--agreement", str(simdir / "agreement"), "--port", str(port),
             "--live", "--interval", str(interval)],
            folder / "serve.log",
        )  # fmt: skip
        api = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if server is not None and server.poll() is not None:
                raise SystemExit(f"live_ops: serve exited:\n{(folder / 'serve.log').read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{api}/api/v1/health", timeout=5) as resp:
                    return resp.status == 200
            except OSError:
                return False

        _wait(up, 120, "the server did not answer")
    pad = 600.0
    poller = Poller(data / "truceline.sqlite", api, token, (_iso(t_first - pad), _iso(t_last + pad)))
    try:
        spec = folder / "replay-spec.json"
        result = folder / "replay-out.json"
        spec.write_text(json.dumps({"simdir": str(simdir), "i": i, "j": j, "url": broker.url(), "speed": speed,
                                    "credentials": str(broker.credentials), "prefix": f"bench-{name}",
                                    "out": str(result)}))  # fmt: skip
        t0 = time.time()
        rep = procs.start([sys.executable, str(Path(__file__).resolve()), "--worker", str(spec)], folder / "replay.log")
        timeout = (t_last - t_first) / speed + 600 if speed > 0 else 1800
        try:
            rc = rep.wait(timeout)
        except subprocess.TimeoutExpired:
            procs.stop(rep)
            rc = -1
        if rc != 0 or not result.is_file():
            raise SystemExit(
                f"live_ops: the replay failed ({rc}):\n{(folder / 'replay.log').read_text(errors='replace')}"
            )
        replayed = json.loads(result.read_text())
        out["replay_wall_s"] = round(time.time() - t0, 2)
        pub = replayed["published"]
        n = len(pub)
        want = set(ids[i : i + n])
        dets = {ids[k] for k in range(i, i + n) if day.leaves[k] == "detections"}
        # Wait for the listener to store everything, then (live) for the picture to settle.
        end = time.time() + DRAIN_CAP_S
        while time.time() < end and not dets <= poller.stored_at.keys():
            time.sleep(0.2)
        all_stored = time.time()
        if interval is not None:  # a processing run that started after the last detection was stored, then a poll
            runs0 = poller.runs
            while time.time() < end and poller.runs < runs0 + 2:
                time.sleep(0.2)
            polls0 = poller.polls
            while time.time() < end and poller.polls < polls0 + 2:
                time.sleep(0.2)
        out["drain_s"] = round(time.time() - all_stored, 1)
        out["drain_capped"] = time.time() >= end
    finally:
        poller.stop()
        out["load_avg_end"] = _load()
        if server is not None:
            out["server_exit"] = procs.stop(server)
        out["listener_exit"] = procs.stop(listener)
    stats_file = data / "mqtt-listener.json"
    lstats = json.loads(stats_file.read_text())["stats"] if stats_file.is_file() else {}
    # Integrity, by id: the store's detections against the replayed ones.
    con = sqlite3.connect(data / "truceline.sqlite")
    try:
        stored = Counter(str(r[0]) for r in con.execute("SELECT id FROM detections"))
    finally:
        con.close()
    rpt = replayed["report"]
    out["replay_report"] = rpt
    out["listener_stats"] = lstats
    out["integrity"] = {
        "published_detections": len(dets),
        "stored_detections": sum(stored.values()),
        "lost": len(dets - stored.keys()),
        "duplicated": sum(1 for c in stored.values() if c > 1),
        "unexpected": len(stored.keys() - dets),
        "not_acknowledged_by_broker": rpt["published"] - rpt["acknowledged"] - rpt["refused"],
        "refused_by_broker": rpt["refused"],
        "lost_ids": sorted(dets - stored.keys())[:20],
    }
    out["integrity"]["ok"] = not (out["integrity"]["lost"] or out["integrity"]["duplicated"] or
                                  out["integrity"]["unexpected"] or out["integrity"]["not_acknowledged_by_broker"] or
                                  rpt["refused"] or n != j - i)  # fmt: skip
    pub_at = dict(zip(ids[i : i + n], pub, strict=True))
    stored_lat = [poller.stored_at[d] - pub_at[d] for d in want if d in poller.stored_at and d in pub_at]
    out["puback"] = _pct(replayed["ack_s"])
    out["publish_to_stored"] = _pct(stored_lat) | {"resolution_s": STORE_POLL_S}
    if interval is None:
        last_stored = max(poller.stored_at.values()) if poller.stored_at else None
        busy = None if last_stored is None else last_stored - pub[0]
        out["throughput"] = {
            "messages": n,
            "first_publish_to_last_stored_s": None if busy is None else round(busy, 2),
            "stored_per_s": None if not busy else round(n / busy, 1),
            "published_per_s": round(n / (pub[-1] - pub[0]), 1) if n > 1 and pub[-1] > pub[0] else None,
        }
        return out
    ev = event_latencies(poller.seen_at, poller.seen_dets, pub_at)
    worst = sorted(ev["new"], key=lambda e: -e[0])
    out["latency_by_detections"] = {
        f"{lo}-{hi}": _pct([w[0] for w in worst if lo <= w[2] <= hi]) for lo, hi in ((1, 5), (6, 10), (11, 10**6))
    }
    runs = [h for h in poller.health if h.get("last_run_s") is not None]
    out["interval_s"] = interval
    out["poll_s"] = POLL_S
    out["latency"] = _pct([w[0] for w in worst])
    out["latency_per_event_id"] = _pct([w[0] for w in ev["per_id"]])
    out["events"] = {
        "ids_seen": len(poller.seen_at),
        "new": len(ev["new"]),
        "reissued": len(ev["per_id"]) - len(ev["new"]),
        "final": len(poller.current),
        "ids_replaced": len(set(poller.seen_at) - poller.current),
        "without_replayed_detection": ev["missing"],
    }
    out["worst"] = [
        {"latency_s": round(w[0], 2), "event": w[1], "detections": w[2], "seen_at_s": round(w[3] - t0, 1)}
        for w in worst[:5]
    ]
    out["api_poll_s"] = _pct(poller.poll_s)
    out["processing_run_s"] = _pct([float(h["last_run_s"]) for h in runs])
    out["processing_runs"] = max((h.get("runs") or 0 for h in runs), default=0)
    out["poll_errors"] = len(poller.errors)
    out["poll_error_sample"] = poller.errors[:3]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="trial run: 2-minute slices, results not published")
    ap.add_argument("--interval", type=float, default=1.0, help="serve --live --interval (seconds, default 1)")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        return worker(args.worker)
    sys.path.insert(0, str(HERE))
    from figures import publish

    from truceline.service.replay import load_day
    from truceline.sim.run import simulate
    from truceline.sim.scenario import load_scenario

    started = time.time()
    runs = QUICK_RUNS if args.quick else RUNS
    tp_s = QUICK_THROUGHPUT_S if args.quick else THROUGHPUT_S
    result: dict[str, Any] = {
        "benchmark": "live_ops",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_avg_start": _load(),
        "quick": args.quick,
        "scenario": "escalation",
        "settings": {
            "serve_live_interval_s": args.interval,
            "api_poll_s": POLL_S,
            "store_poll_s": STORE_POLL_S,
            "final_picture": "after a processing run started once every detection was stored, two more polls",
            "store": "SQLite (a fresh one per run: the day's sensors and weather ingested first)",
            "broker": "Mosquitto by scripts/mosquitto.sh (users per contingent, ACL, persistence)",
            "publisher": "truceline.service.replay.replay in a worker process, QoS 1, one client per contingent",
            "slice": "the busiest window of the simulated day of the length given, by message count",
        },
        "goal": {"speed": 10.0, "p99_s": GOAL_P99_S, "max_s": GOAL_MAX_S, "cores": 2},
        "runs": [],
    }
    procs = Procs()
    broker = Broker()
    work = Path(tempfile.mkdtemp(prefix="truceline-bench-live-"))
    failed = crashed = False
    try:
        simdir = work / "sim"
        t0 = time.perf_counter()
        simulate(load_scenario(SCENARIO), simdir)
        result["simulate_s"] = round(time.perf_counter() - t0, 1)
        day = load_day(simdir)
        ids = message_ids(day)
        result["day"] = {"messages": len(day), "start": _iso(float(day.times_us[0]) / 1e6),
                         "end": _iso(float(day.times_us[-1]) / 1e6)}  # fmt: skip
        broker.start()
        plan = [(name, secs, speed, args.interval) for name, secs, speed in runs]
        plan.append(("throughput", tp_s, 0.0, None))
        for name, secs, speed, interval in plan:
            print(f"live_ops: {name}: busiest {secs} simulated s at speed {speed:g}", file=sys.stderr, flush=True)
            r = run(name, broker, simdir, day, ids, busiest(day, secs), speed, interval, work, procs)
            r["window_s"] = secs
            result["runs"].append(r)
            print(json.dumps({k: r.get(k) for k in ("latency", "throughput", "puback", "integrity")}),
                  file=sys.stderr, flush=True)  # fmt: skip
            failed |= not r["integrity"]["ok"]
    except BaseException:
        failed = crashed = True
        keep = work.with_name(work.name + "-failed")
        with contextlib.suppress(OSError):
            shutil.copytree(work, keep, ignore=shutil.ignore_patterns("sim", "*.sqlite*"))
            print(f"live_ops: logs kept in {keep}", file=sys.stderr)
        raise
    finally:
        procs.close()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
        result["load_avg_end"] = _load()
        result["wall_s"] = round(time.time() - started, 1)
        if result["runs"] and not args.quick and not crashed:
            print(publish("live_ops", result))
        elif result["runs"]:
            trial = Path(tempfile.gettempdir()) / "live_ops-trial.json"
            trial.write_text(json.dumps(result, indent=1, default=str))
            print(f"live_ops: not published; what was measured is in {trial}", file=sys.stderr)
    if failed:
        print("live_ops: a detection was lost, duplicated or not acknowledged (see integrity)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
