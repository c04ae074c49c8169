"""Before/after figures of fusion on catalogue scenarios: simulate, fuse, score, and count phantoms.

For each scenario: ``truceline simulate scenarios/NAME.yaml --out ROOT/NAME/sim`` (skipped when the
simulation is already there), ``truceline fuse ROOT/NAME/sim --out ROOT/NAME/out-LABEL`` and
``truceline score --truth ROOT/NAME/sim --result ROOT/NAME/out-LABEL --json``. The scorer's figures are
kept (events, side of line, incidents with the launch-impact pairing figures: pairs found, correct
pairs, pairing precision and recall, blamed incidents and wrong blame; fire missions, all and of two
rounds or more) and two more are computed here from the records:

- ``phantoms``: attributed events (a party on their attribution) more than 2 km from every true
  source of their detections (a detection the truth marks false has no source), and their rate among
  attributed events;
- ``unattributed_reasons``: how many events carry each reason for staying unattributed (the first
  evidence line of an unattributed event that has one).

``--weather-valid-s S`` fuses a copy of the observations whose weather reports say they hold for
``S`` seconds (the same values): what the engine makes of the simulator's hourly samples when they
are described as samples of a smooth field rather than as hourly periods.

Usage::

    .venv/bin/python scripts/fusion_ab.py --label before
    .venv/bin/python scripts/fusion_ab.py --label after

``--reuse`` scores the outputs of an earlier run of the label again without fusing (``fuse_s`` is then
meaningless). The JSON maps ``label -> scenario -> figures``; a run replaces only its own label.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pyproj import Geod

REPO = Path(__file__).resolve().parents[1]
CLI = str(REPO / ".venv" / "bin" / "truceline")
GEOD = Geod(ellps="WGS84")
PHANTOM_KM = 2.0


def _run(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _weather_variant(sim: Path, valid_for_s: float) -> Path:
    """A copy of ``sim`` (links, but the weather) whose weather reports hold for ``valid_for_s``."""
    var = sim.parent / f"sim-wx{valid_for_s:g}"
    obs = var / "observations"
    obs.mkdir(parents=True, exist_ok=True)
    for f in (sim / "observations").iterdir():
        target = obs / f.name
        if f.name == "weather.jsonl" or target.exists():
            continue
        target.symlink_to(f.resolve())
    for name in ("agreement", "truth"):
        if not (var / name).exists():
            (var / name).symlink_to((sim / name).resolve())
    reports = _jsonl(sim / "observations" / "weather.jsonl")
    with (obs / "weather.jsonl").open("w", encoding="utf-8") as fh:
        for r in reports:
            fh.write(json.dumps(r | {"valid_for_s": valid_for_s}) + "\n")
    return var


def phantoms(sim: Path, out: Path) -> dict[str, Any]:
    """Attributed events more than 2 km from every true source of their detections."""
    truth = {e["id"]: (e["lon"], e["lat"]) for e in _jsonl(sim / "truth" / "events.jsonl")}
    with (sim / "truth" / "detections.csv").open(encoding="utf-8") as fh:
        source = {row["detection_id"]: row["event_id"] for row in csv.DictReader(fh)}
    n_attr = n_phantom = 0
    reasons: Counter[str] = Counter()
    for ev in _jsonl(out / "events.jsonl"):
        att = ev.get("attribution") or {}
        if not att.get("party"):
            for line in att.get("evidence") or ():
                reasons[line.split(":", 1)[0]] += 1
            continue
        n_attr += 1
        lon, lat = ev["position"]["lon_deg"], ev["position"]["lat_deg"]
        near = math.inf
        for tid in {source.get(d, "") for d in ev.get("detection_ids", ())} - {""}:
            tlon, tlat = truth[tid]
            near = min(near, GEOD.inv(lon, lat, tlon, tlat)[2] / 1000.0)
        n_phantom += near > PHANTOM_KM
    return {
        "n_attributed": n_attr,
        "n_phantoms": n_phantom,
        "phantom_rate": n_phantom / n_attr if n_attr else None,
        "unattributed_reasons": dict(sorted(reasons.items())),
    }


def pairing_located(sim: Path, out: Path) -> dict[str, Any]:
    """Pairing over the rounds whose launch and impact are both located (matched by the scorer's event
    matching), and why the wrong pairs are wrong."""
    from truceline.scoring.metrics import _match_events, _us
    from truceline.scoring.score import DEFAULT_GATES, read_results, read_truth

    truth, result = read_truth(sim), read_results(out)
    events = result.events or ()
    times = [e.time for e in truth.events]
    m = _match_events(truth, events, DEFAULT_GATES, int(_us(times).min()))
    r2t = {events[r].id: truth.events[t].id for r, t in zip(m.result_index, m.truth_index, strict=True)}
    pairs = {
        (i.launch_event_id, i.impact_event_id) for i in truth.incidents or () if i.launch_event_id and i.impact_event_id
    }
    matched = set(r2t.values())
    located = {p for p in pairs if p[0] in matched and p[1] in matched}
    why: Counter[str] = Counter()
    correct = 0
    for inc in result.incidents or ():
        if not (inc.launch_event_id and inc.impact_event_id):
            continue
        tl, ti = r2t.get(inc.launch_event_id), r2t.get(inc.impact_event_id)
        if tl is None or ti is None:
            why["launch or impact not a true event"] += 1
        elif (tl, ti) in pairs:
            correct += 1
        else:
            why["both true events, not one round"] += 1
    return {
        "n_truth_pairs_both_located": len(located),
        "recall_both_located": correct / len(located) if located else None,
        "wrong_pairs": dict(why),
    }


def measure(root: Path, name: str, label: str, weather_valid_s: float | None, reuse: bool = False) -> dict[str, Any]:
    """Simulate (once), fuse and score one scenario; the figures of the brief."""
    sim = root / name / "sim"
    if not (sim / "manifest.json").exists():
        _run([CLI, "simulate", str(REPO / "scenarios" / f"{name}.yaml"), "--out", str(sim)])
    fuse_dir = _weather_variant(sim, weather_valid_s) if weather_valid_s else sim
    out = root / name / f"out-{label}"
    t = time.perf_counter()
    if not (reuse and (out / "events.jsonl").exists()):
        _run([CLI, "fuse", str(fuse_dir), "--out", str(out)])
    fuse_s = time.perf_counter() - t
    card = json.loads(_run([CLI, "score", "--truth", str(sim), "--result", str(out), "--json"]))
    ev, side, inc = card["events"], card["side_of_line"], card["incidents"]
    return {
        "fuse_s": round(fuse_s, 1),
        "events": {
            k: ev.get(k)
            for k in ("n_result", "f1", "precision", "recall_detectable", "location_error_median_m", "ellipse_coverage")
        },
        "side_of_line": {k: side.get(k) for k in ("n_attributed", "n_wrong_party", "wrong_party_rate")},
        "incidents": {
            k: inc.get(k)
            for k in (
                "n_truth_paired",
                "n_result_paired",
                "correct_pairs",
                "pairing_precision",
                "pairing_recall",
                "pairing_f1",
                "n_blamed",
                "n_wrong_blame",
                "wrong_blame_rate",
            )
        },
        "missions": card.get("missions"),
        "pairing_located": pairing_located(sim, out),
        "attributed": phantoms(sim, out),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--label", required=True, help="name of this run in the JSON (e.g. before, after)")
    ap.add_argument("--json", type=Path, default=None, help="figures file (default ROOT/fusion_ab.json)")
    ap.add_argument("--root", type=Path, default=Path("/tmp/m"), help="where simulations and outputs go")
    ap.add_argument("--scenarios", nargs="+", default=["escalation", "bad_weather", "steady"])
    ap.add_argument("--weather-valid-s", type=float, default=None, help="fuse weather reports holding this long")
    ap.add_argument("--reuse", action="store_true", help="score an existing ROOT/NAME/out-LABEL, do not fuse again")
    args = ap.parse_args(argv)
    args.json = args.json or args.root / "fusion_ab.json"
    data = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {}
    run = {}
    for name in args.scenarios:
        run[name] = measure(args.root, name, args.label, args.weather_valid_s, args.reuse)
        print(name, json.dumps(run[name]), flush=True)
    data[args.label] = run
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
