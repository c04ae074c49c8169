"""Archive reprocessing: N simulated days redone serially and on Dask with 1 and 2 workers (issue 15).

Run with ``make bench`` (or ``python benchmarks/reprocess.py [--days 7] [--quick]``). Simulates one
sector for ``--days`` days (tests/scenarios.py's sector, a steady rate of fire), ingests them into a
store, processes them once (the archive), then reprocesses the whole span three times from that same
archive: ``--cluster none`` (in-process, the baseline), a LocalCluster of 1 worker and of 2 workers
(one thread each). Each run starts from a copy of the archive, so each redoes every window. The
outputs are compared with the serial run's: the current events, incidents and violations as canonical
JSON, ids included; any difference is a failure (exit 1). Writes ``results/reprocess.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from figures import publish

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scenarios import START, one_sector_day  # noqa: E402

from truceline.agreement import load_agreement  # noqa: E402
from truceline.core.codec import to_json_dict  # noqa: E402
from truceline.service.ingest import ingest_files  # noqa: E402
from truceline.service.process import process  # noqa: E402
from truceline.service.reprocess import reprocess  # noqa: E402
from truceline.sim.run import simulate  # noqa: E402
from truceline.sim.scenario import parse_scenario  # noqa: E402
from truceline.store import SQLiteStore  # noqa: E402

CLUSTERS = (("serial", "none"), ("dask, 1 worker", "local:1"), ("dask, 2 workers", "local:2"))


def _current(data: Path) -> dict[str, list[str]]:
    store = SQLiteStore(data)
    try:
        return {
            kind: sorted(json.dumps(to_json_dict(d.record), sort_keys=True) for d in store.derived(kind))
            for kind in ("event", "incident", "violation")
        }
    finally:
        store.close()


def _archive(root: Path, hours: int, rounds_per_day: int) -> tuple[Path, Path, dict[str, object]]:
    """Simulate, ingest and process once: the archive to reprocess."""
    doc = one_sector_day("reprocess-bench", hours, rounds_per_day=rounds_per_day)
    t0 = time.perf_counter()
    simulate(parse_scenario(doc), root / "sim")
    sim_s = time.perf_counter() - t0
    data = root / "archive"
    store = SQLiteStore(data)
    try:
        t0 = time.perf_counter()
        rep = ingest_files(store, [root / "sim" / "observations"])
        assert rep.ok, rep
        ingest_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = process(store, load_agreement(root / "sim" / "agreement"))
        process_s = time.perf_counter() - t0
        detections = store.count("detection")
    finally:
        store.close()
    info = {"simulate_s": round(sim_s, 1), "ingest_s": round(ingest_s, 1), "first_process_s": round(process_s, 1),
            "detections": detections, "windows": first.windows_total}  # fmt: skip
    return data, root / "sim" / "agreement", info


def _run(archive: Path, agreement_dir: Path, work: Path, spec: str, span: tuple[dt.datetime, dt.datetime]) -> dict:
    data = work / spec.replace(":", "-")
    shutil.copytree(archive, data)
    store = SQLiteStore(data)
    try:
        t0 = time.perf_counter()
        s = reprocess(store, load_agreement(agreement_dir), span[0], span[1], cluster=spec)
        wall = time.perf_counter() - t0
    finally:
        store.close()
    return {"cluster": spec, "wall_s": round(wall, 2), "windows": len(s.windows_reprocessed), "workers": s.workers,
            "quarantined": len(s.windows_quarantined), "events": s.events, "incidents": s.incidents,
            "violations": s.violations, "data": data}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=7, help="simulated days (default 7)")
    ap.add_argument("--rounds-per-day", type=int, default=300, help="rounds fired per day over the sector")
    ap.add_argument("--quick", action="store_true", help="a trial: 6 hours, results not published")
    args = ap.parse_args(argv)
    days = 0.25 if args.quick else args.days
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="truceline-reprocess-") as tmp:
        root = Path(tmp)
        hours = max(1, round(24 * days))
        archive, agreement_dir, info = _archive(root, hours, args.rounds_per_day)
        start = dt.datetime.fromisoformat(START).astimezone(dt.UTC)
        span = (start - dt.timedelta(hours=1), start + dt.timedelta(hours=hours + 1))
        runs, reference, failures = [], None, []
        for label, spec in CLUSTERS:
            r = _run(archive, agreement_dir, root, spec, span)
            out = _current(r.pop("data"))
            if reference is None:
                reference = out
            same = out == reference
            if not same:
                failures.append(f"{label}: outputs differ from the serial run's")
            runs.append({"label": label, **r, "identical_to_serial": same})
            print(f"{label}: {r['wall_s']} s, identical: {same}", file=sys.stderr)
    serial = runs[0]["wall_s"]
    for r in runs:
        r["speedup"] = round(serial / r["wall_s"], 2) if r["wall_s"] else None
    result = {
        "benchmark": "reprocess",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_start": [round(x, 2) for x in load0],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "command": "python benchmarks/reprocess.py" + ("" if args.days == 7 else f" --days {args.days}"),
        "days": days,
        "rounds_per_day": args.rounds_per_day,
        "span": [span[0].isoformat(), span[1].isoformat()],
        "archive": info,
        "runs": runs,
        "failures": failures,
    }
    if args.quick:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(publish("reprocess", result))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
