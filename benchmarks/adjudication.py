"""Issue 5's figures: ingest speed, and violations / claims on the scenario catalogue.

1. ``ingest``: 100,000 detections (a simulated day's detections, repeated under new ids) into a
   fresh SQLite store holding the sensor registry: wall time of reading, checking and storing.
2. ``catalogue``: each scenario simulated, ingested, processed (``truceline process``), exported
   and scored: violation precision / recall per family (and recall on detectable truth), claim
   verdicts, false flags corroborated.
3. ``rules``: the same rules over the simulator's oracle (every detectable event located exactly
   and paired): what the rule layer does when fusion is perfect.

Writes benchmarks/results/adjudication.json and .md. Run: ``.venv/bin/python benchmarks/adjudication.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from truceline.agreement import load_agreement  # noqa: E402
from truceline.scoring.score import score_dirs  # noqa: E402
from truceline.service.export import export_results  # noqa: E402
from truceline.service.files import adjudicate_folder  # noqa: E402
from truceline.service.ingest import ingest_files  # noqa: E402
from truceline.service.process import process  # noqa: E402
from truceline.sim.oracle import write_oracle  # noqa: E402
from truceline.sim.run import simulate  # noqa: E402
from truceline.sim.scenario import load_scenario  # noqa: E402
from truceline.store import SQLiteStore  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
CATALOGUE = ("steady", "quiet", "single_row", "bad_weather", "arrays", "line_moved", "sensor_outage", "false_flag",
             "escalation")  # fmt: skip
FAMS = ("fire_across_line", "buffer_zone", "withdrawal_zone", "protected_site", "ceasefire_window",
        "freedom_of_movement", "monitoring_interference")  # fmt: skip


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
    ingest_files(store, [sim / "observations" / "sensors.jsonl"])
    t = time.perf_counter()
    rep = ingest_files(store, [big])
    dt_s = time.perf_counter() - t
    t = time.perf_counter()
    again = ingest_files(store, [big])
    dt2 = time.perf_counter() - t
    store.close()
    assert rep.ok and rep.inserted == 100_000 and again.inserted == 0, rep.problems[:3]
    return {"detections": 100_000, "seconds": round(dt_s, 2), "per_second": round(100_000 / dt_s),
            "repeat_seconds": round(dt2, 2)}  # fmt: skip


def family_table(card: dict) -> dict[str, dict]:
    fams = card["violations"]["families"]
    keys = ("n_truth", "n_result", "matched", "precision", "recall", "recall_detectable", "wrong_party")
    return {f: {k: fams[f][k] for k in keys} for f in FAMS if fams[f]["n_truth"] or fams[f]["n_result"]}


def bench_scenario(name: str, work: Path) -> dict:
    root = work / name
    sim = root / "sim"
    simulate(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), sim)
    agr = load_agreement(sim / "agreement")
    store = SQLiteStore(root / "data")
    t = time.perf_counter()
    ingest_files(store, [sim])
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
        "violations": family_table(card),
        "violations_all": {k: card["violations"]["overall"][k] for k in ("precision", "recall", "recall_detectable")},
        "rules_on_oracle": family_table(oracle),
        "claims": {
            "n": card["claims"]["n_truth"],
            "accuracy": card["claims"]["accuracy"],
            "false_flags_corroborated": card["claims"]["false_flags_corroborated"],
            "by_truth": {t: {v: n for v, n in d.items() if n} for t, d in card["claims"]["by_truth"].items()},
        },
    }


def markdown(res: dict) -> str:
    ing = res["ingest"]
    head = (f"Ingest: {ing['detections']:,} detections in {ing['seconds']} s ({ing['per_second']:,}/s; "
            f"the same batch again: {ing['repeat_seconds']} s, nothing stored).")  # fmt: skip
    lines = ["# Adjudication benchmark", "", head, ""]
    lines += ["## Violations per family (end to end: simulate, ingest, process, score)", "",
              "| scenario | family | truth | result | precision | recall | recall (detectable) "
              "| rules on oracle P / R(det) | wrong party |",
              "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, r in res["catalogue"].items():
        for f, d in r["violations"].items():
            o = r["rules_on_oracle"].get(f, {})
            lines.append(f"| {name} | {f} | {d['n_truth']} | {d['n_result']} | {d['precision']} | {d['recall']} | "
                         f"{d['recall_detectable']} | {o.get('precision')} / {o.get('recall_detectable')} | "
                         f"{d['wrong_party']} |")  # fmt: skip
    lines += ["", "## Claims", "", "| scenario | claims | accuracy | false flags corroborated | verdicts by truth |",
              "|---|---|---|---|---|"]  # fmt: skip
    for name, r in res["catalogue"].items():
        c = r["claims"]
        lines.append(f"| {name} | {c['n']} | {c['accuracy']} | {c['false_flags_corroborated']} | "
                     f"{json.dumps(c['by_truth'])} |")  # fmt: skip
    lines += ["", "## Timings", "", "| scenario | ingest s | process s | windows | event F1 |", "|---|---|---|---|---|"]
    for name, r in res["catalogue"].items():
        lines.append(f"| {name} | {r['ingest_s']} | {r['process_s']} | {r['windows']} | {r['event_f1']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    names = sys.argv[1:] or list(CATALOGUE)
    work = Path(tempfile.mkdtemp(prefix="truceline-adj-"))
    try:
        res = {"ingest": bench_ingest(work), "catalogue": {}}
        print("ingest", res["ingest"], flush=True)
        for n in names:
            res["catalogue"][n] = bench_scenario(n, work)
            print(n, res["catalogue"][n]["violations_all"], res["catalogue"][n]["claims"]["accuracy"], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "adjudication.json").write_text(json.dumps(res, indent=2) + "\n")
    (OUT / "adjudication.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
