"""Same outputs before and after a change: the catalogue through the whole chain, digested.

Runs every scenario of ``scenarios/`` (cut to ``--hours``, its timed events scaled into them)
through the command line as a user
would: ``simulate``, ``fuse``, ``adjudicate``, ``score --json``, then ``ingest``, ``process`` and
``export`` into a fresh store, and ``aggregates``. Each output file is digested (SHA-256 of its
canonical content, with the fields that carry wall-clock times or durations removed) into one JSON.

    python scripts/check_same_outputs.py --write digests.json     # before the change
    python scripts/check_same_outputs.py --check digests.json     # after: exit 1 and the files that differ

The command line is the contract here, so a refactor of the modules behind it cannot change what
this script runs. A structural change (issue "Structure") must leave every digest unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
# Keys whose values are wall-clock times, durations or machine facts: not outputs of the algorithms.
VOLATILE = {
    "elapsed_s", "timings_s", "stage_s", "wall_s", "seconds", "created_at", "generated_at", "written_at",
    "run_at", "started_at", "finished_at", "latency", "streaming_latency", "timing", "timings", "version",
    "python", "machine", "host", "cpu", "peak_rss_mb", "stored_at", "ingested_at", "processed_at", "at",
}


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in sorted(obj.items()) if k not in VOLATILE and not k.endswith("_time_s")}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _digest_file(path: Path, work: Path) -> str:
    """SHA-256 of a file's canonical content; the run's temporary folder is written as WORK."""
    h = hashlib.sha256()
    if path.suffix in (".jsonl", ".ndjson", ".json", ".geojson"):
        text = path.read_text().replace(str(work), "WORK")
    if path.suffix in (".jsonl", ".ndjson"):
        lines = [json.dumps(_strip(json.loads(s)), sort_keys=True) for s in text.splitlines() if s.strip()]
        for line in sorted(lines):
            h.update(line.encode() + b"\n")
    elif path.suffix in (".json", ".geojson"):
        h.update(json.dumps(_strip(json.loads(text)), sort_keys=True).encode())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def _digest_dir(root: Path, work: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _digest_file(p, work) for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix not in (".sqlite", ".db", ".lock", ".wal", ".shm", ".log")
            and "-wal" not in p.name and "-shm" not in p.name}  # fmt: skip


def _scale_hours(obj: Any, factor: float) -> Any:
    """Every ``*_h`` time of a scenario (escalations, outages, line moves) scaled into the cut day."""
    if isinstance(obj, dict):
        return {k: (v * factor if k.endswith("_h") and k != "duration_h" and isinstance(v, int | float)
                    else _scale_hours(v, factor)) for k, v in obj.items()}  # fmt: skip
    if isinstance(obj, list):
        return [_scale_hours(v, factor) for v in obj]
    return obj


def _cli(*args: object, cwd: Path, ok: tuple[int, ...] = (0,)) -> str:
    cmd = [sys.executable, "-m", "truceline", *map(str, args)]
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if res.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return res.stdout


def run_scenario(path: Path, hours: float, work: Path) -> dict[str, Any]:
    spec = yaml.safe_load(path.read_text())
    full = float(spec.get("duration_h", 24))
    if hours < full:
        spec = _scale_hours(spec, hours / full)
        spec["duration_h"] = hours
    scen = work / f"{path.stem}.yaml"
    scen.write_text(yaml.safe_dump(spec))
    sim, out, data, exp = work / "sim", work / "out", work / "data", work / "export"
    _cli("simulate", scen, "--out", sim, cwd=work)
    _cli("fuse", sim, "--out", out, "--agreement", sim / "agreement", cwd=work)
    _cli("adjudicate", "--result", out, "--observations", sim, "--agreement", sim / "agreement", cwd=work)
    score = json.loads(_cli("score", "--truth", sim, "--result", out, "--json", cwd=work))
    # exit 1 = records rejected, each named; the catalogue has days dated after today: a replay
    _cli("ingest", sim, "--data", data, "--not-after", "2100-01-01T00:00:00Z", cwd=work, ok=(0, 1))
    _cli("process", "--agreement", sim / "agreement", "--data", data, cwd=work)
    _cli("export", "--out", exp, "--data", data, cwd=work)
    _cli("aggregates", "--by", "day,sector,family,party", "--agreement", sim / "agreement", "--data", data,
         "--csv", exp / "aggregates.csv", cwd=work)
    return {
        "simulation": _digest_dir(sim, work),
        "fusion": _digest_dir(out, work),
        "store_export": _digest_dir(exp, work),
        "score": hashlib.sha256(json.dumps(_strip(score), sort_keys=True).encode()).hexdigest(),
        "f1": score.get("events", {}).get("f1"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", type=Path, help="write the digests here")
    g.add_argument("--check", type=Path, help="compare with digests written before")
    ap.add_argument("--hours", type=float, default=6.0, help="cut each scenario to this many hours (default 6)")
    ap.add_argument("--scenarios", nargs="*", help="scenario names (default: the whole catalogue)")
    a = ap.parse_args()
    names = a.scenarios or sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml"))
    result: dict[str, Any] = {"hours": a.hours, "scenarios": {}}
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"same-{name}-") as tmp:
            result["scenarios"][name] = run_scenario(REPO / "scenarios" / f"{name}.yaml", a.hours, Path(tmp))
        print(f"{name}: F1 {result['scenarios'][name]['f1']}", file=sys.stderr)
    if a.write:
        a.write.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        return 0
    before = json.loads(a.check.read_text())
    return _compare(before, result, names)


def _compare(before: dict[str, Any], after: dict[str, Any], names: list[str]) -> int:
    diffs = []
    for name in names:
        b, n = before["scenarios"].get(name), after["scenarios"][name]
        if b is None:
            diffs.append(f"{name}: not in the earlier digests")
            continue
        for part in ("simulation", "fusion", "store_export"):
            for f in sorted(set(b[part]) | set(n[part])):
                if b[part].get(f) != n[part].get(f):
                    diffs.append(f"{name}: {part}/{f} differs")
        if b["score"] != n["score"]:
            diffs.append(f"{name}: score differs")
    for d in diffs:
        print(d)
    print(f"{len(names)} scenarios, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
