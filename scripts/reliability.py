"""Kill -9 campaigns against ingest, process and the API: no acknowledged record lost, no result changed.

Three campaigns on a simulated day (one sector, from ``tests``-like settings written here), each killing
a subprocess with SIGKILL at random times and starting it again:

- **ingest**: a worker stores the day's files one by one (the detections cut in chunks), printing
  ``ACK file`` after each returns; killed at random, then run again. After every kill, every record
  of an acknowledged file must be in the store (and ``PRAGMA integrity_check`` ok); after the last,
  uninterrupted run, the store must hold exactly what a clean ingest holds.
- **process**: ``truceline process`` killed mid-run, again and again, then run to the end; its
  current events, incidents, violations and claim verdicts (by id) compared with an uninterrupted run
  on a copy of the same store.
- **api**: ``truceline serve`` (uvicorn on 127.0.0.1 only) receives ``POST /api/v1/ingest/detection``
  requests (CSV chunks) from this script while it is killed at random and restarted; every
  acknowledged (200) record id must be in the store afterwards.

Counted: kills (of a process still running), acknowledged records, lost records, result mismatches,
integrity failures. Writes ``benchmarks/results/reliability.json`` (not for ``--sample`` unless
``--out``); exits 1 on any loss, mismatch or integrity failure, or when a campaign killed fewer times
than asked.

Usage::

    python scripts/reliability.py                # the campaign: 120 kills (40 of each)
    python scripts/reliability.py --kills 300    # 100 of each
    python scripts/reliability.py --sample       # a CI sample: a few kills of each (well under 90 s)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "reliability.json"
PY = sys.executable
DB = "truceline.sqlite"
WINDOW_S = 900  # short windows: many commits a run, so kills land between them and inside them
CHUNK = 400  # detections a file (ingest) or a request (api)
KILLS_PER_ROUND = 4  # kills before a round's run is let finish

INGEST_WORKER = """
import sys
from truceline.service.ingest import ingest_files
from truceline.store import SQLiteStore
store = SQLiteStore(sys.argv[1])
for f in sys.argv[2:]:
    ingest_files(store, [f])
    print("ACK", f, flush=True)
store.close()
"""


# -- the day and the store, read directly -----------------------------------------------------------
def simulate_day(root: Path, hours: int, seed: int) -> Path:
    """A simulated day of ``hours`` on one Donetsk sector, with claims (as the end-to-end tests use)."""
    from truceline.sim.run import simulate
    from truceline.sim.scenario import parse_scenario

    doc = {"scenario": 1, "name": "reliability", "start": "2026-09-02T00:00:00+03:00", "duration_h": hours,
           "sectors": ["S3-DON-S"], "seed": seed, "claims": {"per_party_per_day": 24},
           "activity": {"rounds_per_day": 600,
                        "weapon_mix": {"mortar_120mm": 0.4, "howitzer_122mm": 0.3, "howitzer_152mm": 0.3}}}  # fmt: skip
    simulate(parse_scenario(doc), root)
    return root


def split_files(sim: Path, out: Path) -> list[Path]:
    """The day's observation files, sensors first, the detections cut in chunks of :data:`CHUNK` rows."""
    out.mkdir(parents=True, exist_ok=True)
    obs = sim / "observations"
    others = sorted(p for p in obs.iterdir() if p.suffix == ".jsonl" and p.name != "sensors.jsonl")
    files = [obs / "sensors.jsonl", *others]
    header, *rows = (obs / "detections.csv").read_text().splitlines()
    for k in range(0, len(rows), CHUNK):
        p = out / f"detections_{k // CHUNK:03d}.csv"
        p.write_text("\n".join([header, *rows[k : k + CHUNK]]) + "\n")
        files.append(p)
    return files


def file_ids(path: Path) -> set[tuple[str, str]]:
    """``(table, id)`` of the records of a file: detections by the CSV's first column, others by ``id``."""
    if path.suffix == ".csv":
        return {("detection", line.split(",", 1)[0]) for line in path.read_text().splitlines()[1:] if line}
    return {("observation", json.loads(line)["id"]) for line in path.read_text().splitlines() if line.strip()}


def stored_ids(data: Path) -> set[tuple[str, str]]:
    db = sqlite3.connect(f"file:{data / DB}?mode=ro", uri=True)
    try:
        out = {("detection", i) for (i,) in db.execute("SELECT id FROM detections")}
        return out | {("observation", i) for (i,) in db.execute("SELECT id FROM observations")}
    finally:
        db.close()


def integrity_ok(data: Path) -> bool:
    db = sqlite3.connect(f"file:{data / DB}?mode=ro", uri=True)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def derived_ids(data: Path) -> set[tuple[str, str]]:
    """The current derived records (kind, id) and the claim verdicts (claim id, verdict)."""
    db = sqlite3.connect(f"file:{data / DB}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT kind, id, body FROM derived WHERE superseded_by IS NULL").fetchall()
    finally:
        db.close()
    out = set()
    for kind, rid, body in rows:
        out.add((kind, rid) if kind != "claim_assessment" else (kind, f"{json.loads(body)['claim_id']}:"
                                                                      f"{json.loads(body)['verdict']}"))  # fmt: skip
    return out


def copy_store(src: Path, dst: Path) -> None:
    """A closed store's directory, WAL included."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def kill_at(proc: subprocess.Popen[Any], after_s: float) -> bool:
    """SIGKILL ``proc`` ``after_s`` from now; True when it was still running (a kill that counts)."""
    try:
        proc.wait(timeout=after_s)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


# -- the campaigns ----------------------------------------------------------------------------------
def ingest_campaign(files: list[Path], work: Path, kills: int, rng: random.Random) -> dict[str, Any]:
    ids = {f: file_ids(f) for f in files}
    reference = set().union(*ids.values())
    cmd = [PY, "-c", INGEST_WORKER]
    t = time.monotonic()
    subprocess.run([*cmd, str(work / "ingest-ref"), *map(str, files)], check=True, capture_output=True)
    full_s = time.monotonic() - t
    res: dict[str, Any] = {"kills": 0, "attempts": 0, "acknowledged": 0, "lost": 0, "mismatches": 0,
                           "integrity_failures": 0, "rounds": 0, "uninterrupted_s": round(full_s, 2)}  # fmt: skip
    while res["kills"] < kills and res["attempts"] < 3 * kills:
        data = work / f"ingest-{res['rounds']}"
        res["rounds"] += 1
        acked: set[tuple[str, str]] = set()
        for _ in range(min(KILLS_PER_ROUND, kills - res["kills"])):
            proc = subprocess.Popen([*cmd, str(data), *map(str, files)], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)  # fmt: skip
            res["attempts"] += 1
            # Killed at a random point of its progress: after a random number of files acknowledged,
            # and a random moment into the next one (mid-commit or between commits).
            due = rng.randrange(len(files))
            assert proc.stdout is not None
            while due > 0 and (line := proc.stdout.readline()):
                if line.startswith("ACK "):
                    acked |= ids[Path(line[4:].strip())]
                    due -= 1
            res["kills"] += kill_at(proc, rng.uniform(0.0, 2 * full_s / len(files)))
            acked |= {i for line in proc.stdout.read().splitlines() if line.startswith("ACK ")
                      for i in ids[Path(line[4:].strip())]}  # fmt: skip
            if (data / DB).exists():
                res["integrity_failures"] += not integrity_ok(data)
                res["lost"] += len(acked - stored_ids(data))
        res["acknowledged"] += len(acked)
        subprocess.run([*cmd, str(data), *map(str, files)], check=True, capture_output=True)
        got = stored_ids(data)
        res["lost"] += len(reference - got)
        res["mismatches"] += len(got ^ reference)
        res["integrity_failures"] += not integrity_ok(data)
        shutil.rmtree(data)
    return res


def _process(data: Path, agreement: Path) -> subprocess.Popen[Any]:
    env = {**os.environ, "TRUCELINE_DATA": str(data)}
    return subprocess.Popen([PY, "-m", "truceline", "process", "--agreement", str(agreement), "--window-s",
                             str(WINDOW_S)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def process_campaign(sim: Path, files: list[Path], work: Path, kills: int, rng: random.Random) -> dict[str, Any]:
    from truceline.service.ingest import ingest_files
    from truceline.store import SQLiteStore

    base = work / "process-base"
    s = SQLiteStore(base)
    ingest_files(s, files)
    s.close()
    ref = work / "process-ref"
    copy_store(base, ref)
    t = time.monotonic()
    _, err = (p := _process(ref, sim / "agreement")).communicate()
    if p.returncode != 0:
        raise SystemExit(f"uninterrupted process failed: {err.decode()[-2000:]}")
    full_s = time.monotonic() - t
    expected = derived_ids(ref)
    res: dict[str, Any] = {"kills": 0, "attempts": 0, "mismatches": 0, "integrity_failures": 0, "rounds": 0,
                           "derived_records": len(expected), "uninterrupted_s": round(full_s, 2)}  # fmt: skip
    while res["kills"] < kills and res["attempts"] < 3 * kills:
        data = work / "process-run"
        copy_store(base, data)
        res["rounds"] += 1
        for _ in range(min(KILLS_PER_ROUND, kills - res["kills"])):
            res["attempts"] += 1
            res["kills"] += kill_at(_process(data, sim / "agreement"), rng.uniform(0.5, full_s))
            res["integrity_failures"] += not integrity_ok(data)
        _, err = (p := _process(data, sim / "agreement")).communicate()
        if p.returncode != 0:
            print(f"process after kills failed: {err.decode()[-2000:]}", file=sys.stderr)
            res["mismatches"] += len(expected)
            continue
        res["mismatches"] += len(derived_ids(data) ^ expected)
        res["integrity_failures"] += not integrity_ok(data)
    return res


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data: Path, agreement: Path, port: int) -> subprocess.Popen[Any]:
    cmd = [PY, "-m", "truceline", "serve", "--data", str(data), "--agreement", str(agreement),
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _ready(proc: subprocess.Popen[Any], port: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"truceline serve exited with status {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/v1/rules")
            c.getresponse().read()
            c.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("truceline serve did not answer")


def _chunks(files: list[Path]) -> Any:
    """CSV bodies of :data:`CHUNK` detections with their ids, forever (ids made new on each pass)."""
    parts = [f.read_text().splitlines() for f in files if f.suffix == ".csv"]
    n = 0
    while True:
        for header, *rows in parts:
            if n:
                rows = [f"{r.split(',', 1)[0]}-p{n}," + r.split(",", 1)[1] for r in rows]
            yield {r.split(",", 1)[0] for r in rows}, "\n".join([header, *rows]) + "\n"
        n += 1


def api_campaign(sim: Path, files: list[Path], work: Path, kills: int, rng: random.Random) -> dict[str, Any]:
    from truceline.service.ingest import ingest_files
    from truceline.service.tokens import create_token
    from truceline.store import SQLiteStore

    data = work / "api"
    s = SQLiteStore(data)
    ingest_files(s, [files[0]])  # the sensors
    token, _ = create_token(s, "admin", "reliability")
    s.close()
    port = _free_port()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    res: dict[str, Any] = {"kills": 0, "attempts": 0, "requests": 0, "acknowledged": 0, "refused": 0, "lost": 0,
                           "integrity_failures": 0}  # fmt: skip
    acked: set[str] = set()
    chunks = _chunks(files)
    pending = next(chunks)
    while res["kills"] < kills and res["attempts"] < 3 * kills:
        proc = _serve(data, sim / "agreement", port)
        _ready(proc, port)
        res["attempts"] += 1
        alive = threading.Event()

        def kill(p: subprocess.Popen[Any] = proc, ev: threading.Event = alive) -> None:
            if p.poll() is None:
                ev.set()
                p.send_signal(signal.SIGKILL)

        timer = threading.Timer(rng.uniform(0.1, 2.0), kill)
        timer.start()
        while proc.poll() is None:
            ids, body = pending
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                c.request("POST", "/api/v1/ingest/detection", body=body.encode(), headers=headers)
                r = c.getresponse()
                r.read()
                c.close()
            except OSError:  # killed with the request in flight: not acknowledged, sent again
                continue
            res["requests"] += 1
            if r.status == 200:
                acked |= ids
                pending = next(chunks)
            else:
                res["refused"] += 1
                pending = next(chunks)
        timer.join()
        proc.wait()
        res["kills"] += alive.is_set()
        res["integrity_failures"] += not integrity_ok(data)
    res["acknowledged"] = len(acked)
    res["lost"] = len(acked - {i for k, i in stored_ids(data) if k == "detection"})
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=120, help="kills in all, shared by the three (default 120)")
    parser.add_argument("--sample", action="store_true", help="a CI sample: a few kills of each, a 2 h day")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None, help=f"results JSON (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    kills = 9 if args.sample else args.kills
    each = [kills // 3 + (k < kills % 3) for k in range(3)]
    rng = random.Random(args.seed)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="truceline-reliability-") as tmp:
        work = Path(tmp)
        sim = simulate_day(work / "sim", 2 if args.sample else 3, args.seed)
        files = split_files(sim, work / "files")
        result: dict[str, Any] = {
            "ingest": ingest_campaign(files, work, each[0], rng),
            "process": process_campaign(sim, files, work, each[1], rng),
            "api": api_campaign(sim, files, work, each[2], rng),
        }
    camps = list(result.values())
    result["totals"] = {k: sum(c.get(k, 0) for c in camps)
                        for k in ("kills", "acknowledged", "lost", "mismatches", "integrity_failures")}  # fmt: skip
    result["settings"] = {"kills_asked": kills, "sample": args.sample, "seed": args.seed, "window_s": WINDOW_S,
                          "seconds": round(time.monotonic() - t0, 1)}  # fmt: skip
    short = [name for name, c, n in zip(("ingest", "process", "api"), camps, each, strict=True) if c["kills"] < n]
    result["passed"] = not (result["totals"]["lost"] or result["totals"]["mismatches"]
                            or result["totals"]["integrity_failures"] or short)  # fmt: skip
    out = args.out or (None if args.sample else RESULTS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if short:
        print(f"fewer kills than asked in: {', '.join(short)}", file=sys.stderr)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
