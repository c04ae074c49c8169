"""Issue 5's figures: ingest speed, and violations / claims on the scenario catalogue.

1. ``ingest``: 100,000 detections (a simulated day's detections, repeated under new ids) into a
   fresh SQLite store holding the sensor registry: wall time of reading, checking and storing.
2. ``catalogue``: each scenario simulated, ingested, processed (``truceline process``), exported
   and scored: violation precision / recall per family (and recall on detectable truth), claim
   verdicts, false flags corroborated; fire missions (the scorer's ``missions``).
3. ``rules``: the same rules over the simulator's oracle (every detectable event located exactly
   and paired): what the rule layer does when fusion is perfect.

The families are the rule-family registry's (``truceline.adjudicate.rule_families``, read through
``figures_adjudication.registry_families``): every registered family is scored in every scenario,
and the tables show each one, so a new family is never dropped silently.

Writes benchmarks/results/adjudication.json, then renders ``.md`` and the blocks of the README and
docs from it (``figures.py``, ``figures_adjudication.py``). Run:
``.venv/bin/python benchmarks/adjudication.py [SCENARIO ...]``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from figures import publish  # noqa: E402
from figures_adjudication import registry_families  # noqa: E402

from truceline.agreement import load_agreement  # noqa: E402
from truceline.core.limits import InputLimits  # noqa: E402
from truceline.scoring.score import score_dirs  # noqa: E402
from truceline.service.export import export_results  # noqa: E402
from truceline.service.files import adjudicate_folder  # noqa: E402
from truceline.service.ingest import ingest_files  # noqa: E402
from truceline.service.process import process  # noqa: E402
from truceline.sim.oracle import write_oracle  # noqa: E402
from truceline.sim.run import simulate  # noqa: E402
from truceline.sim.scenario import load_scenario  # noqa: E402
from truceline.store import SQLiteStore  # noqa: E402

CATALOGUE = ("steady", "quiet", "single_row", "bad_weather", "arrays", "line_moved", "sensor_outage", "false_flag",
             "escalation")  # fmt: skip
#: The catalogue replays simulated days, some dated after today: no bound on the future here.
REPLAY = InputLimits(future_skew=None)
#: The scorecard's event and side-of-line figures kept per scenario.
EVENT_KEYS = ("f1", "precision", "recall_detectable", "location_error_median_m", "ellipse_coverage",
              "association_purity")  # fmt: skip
SIDE_KEYS = ("side_correct_beyond_2km", "wrong_party_rate")


def bench_ingest(work: Path) -> dict[str, float]:
    sim = work / "ingest-sim"
    simulate(load_scenario(ROOT / "scenarios" / "steady.yaml"), sim)
    lines = (sim / "observations" / "detections.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    out, k = [header], 0
    while len(out) - 1 < 100_000:
        for r in rows:
            if len(out) - 1 >= 100_000:
                break
            cells = r.split(",")
            cells[0] = f"{cells[0]}-r{k}"
            out.append(",".join(cells))
        k += 1
    big = work / "ingest" / "detections.csv"
    big.parent.mkdir(parents=True)
    big.write_text("\n".join(out) + "\n")
    store = SQLiteStore(work / "ingest-data")
    ingest_files(store, [sim / "observations" / "sensors.jsonl"], limits=REPLAY)
    t = time.perf_counter()
    rep = ingest_files(store, [big], limits=REPLAY)
    dt_s = time.perf_counter() - t
    t = time.perf_counter()
    again = ingest_files(store, [big], limits=REPLAY)
    dt2 = time.perf_counter() - t
    store.close()
    assert rep.ok and rep.inserted == 100_000 and again.inserted == 0, rep.problems[:3]
    return {"detections": 100_000, "seconds": round(dt_s, 2), "per_second": round(100_000 / dt_s),
            "repeat_seconds": round(dt2, 2)}  # fmt: skip


def family_table(card: dict) -> dict[str, dict]:
    """Every registered family's figures (zeros included); a family the scorecard lacks is left out (not measured)."""
    fams = card["violations"]["families"]
    keys = ("n_truth", "n_result", "matched", "precision", "recall", "recall_detectable", "wrong_party")
    return {f: {k: fams[f][k] for k in keys} for f in registry_families() if f in fams}


def bench_scenario(name: str, work: Path) -> dict:
    root = work / name
    sim = root / "sim"
    simulate(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), sim)
    agr = load_agreement(sim / "agreement")
    store = SQLiteStore(root / "data")
    t = time.perf_counter()
    ingest_files(store, [sim], limits=REPLAY)
    t_ing = time.perf_counter() - t
    t = time.perf_counter()
    summary = process(store, agr)
    t_proc = time.perf_counter() - t
    export_results(store, root / "res")
    store.close()
    card = score_dirs(sim, root / "res").to_dict()
    write_oracle(sim, root / "oracle")
    (root / "oracle" / "violations.jsonl").unlink()
    adjudicate_folder(sim, root / "oracle", agr)
    oracle = score_dirs(sim, root / "oracle").to_dict()
    return {
        "ingest_s": round(t_ing, 2),
        "process_s": round(t_proc, 2),
        "windows": len(summary.windows_processed),
        "event_f1": card["events"]["f1"],
        "events": {**{k: card["events"][k] for k in EVENT_KEYS}, **{k: card["side_of_line"][k] for k in SIDE_KEYS}},
        "violations": family_table(card),
        "missions": card["missions"],
        "violations_all": {k: card["violations"]["overall"][k] for k in ("precision", "recall", "recall_detectable")},
        "rules_on_oracle": family_table(oracle),
        "claims": {
            "n": card["claims"]["n_truth"],
            "accuracy": card["claims"]["accuracy"],
            "false_flags_corroborated": card["claims"]["false_flags_corroborated"],
            "by_truth": {t: {v: n for v, n in d.items() if n} for t, d in card["claims"]["by_truth"].items()},
        },
    }


def main() -> None:
    names = sys.argv[1:] or list(CATALOGUE)
    work = Path(tempfile.mkdtemp(prefix="truceline-adj-"))
    try:
        res: dict[str, Any] = {
            "benchmark": "adjudication",
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "families": registry_families(),
            "ingest": bench_ingest(work),
            "catalogue": {},
        }
        print("ingest", res["ingest"], flush=True)
        for n in names:
            res["catalogue"][n] = bench_scenario(n, work)
            print(n, res["catalogue"][n]["violations_all"], res["catalogue"][n]["claims"]["accuracy"], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(publish("adjudication", res))


if __name__ == "__main__":
    main()
