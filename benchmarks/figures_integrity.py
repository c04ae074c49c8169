"""The figures of the evidence-integrity campaigns: ``scripts/fuzz.py`` (``results/fuzz.json``) and
``scripts/reliability.py`` (``results/reliability.json``). Pure: JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, num, table, verdict


def render_fuzz(res: dict[str, Any]) -> Figures:
    """The mutation campaign: inputs by path, crashes, silent acceptances, good records lost (goals: 0)."""
    n = res.get("inputs")
    counts = [("crashes (an exception past the reader, HTTP 500)", "crashes"),
              ("silent acceptances of invalid records", "silent_acceptances"),
              ("good records lost beside bad ones", "good_records_lost")]  # fmt: skip
    rows = [[label, num(res.get(key), ","), f"0: {verdict(None if res.get(key) is None else res[key] == 0)}"]
            for label, key in counts]  # fmt: skip
    rows.insert(0, ["malformed inputs", num(n, ","), f">= 20,000: {verdict(None if n is None else n >= 20_000)}"])
    paths = ", ".join(f"{k} {num(v, ',')}" for k, v in sorted((res.get("by_path") or {}).items()))
    rows.append(["by path", paths, ""])
    rows.append(["seed, seconds", f"{res.get('seed')}, {num(res.get('seconds'), '.0f')} s", ""])
    summary = table(["figure", "measured", "goal"], rows)
    return Figures(f"# Fuzz: malformed input over every ingest path\n\n{summary}\n", {"summary": summary})


def render_reliability(res: dict[str, Any]) -> Figures:
    """The kill -9 campaigns: kills, acknowledged records, lost records, result mismatches (goals: 0 lost)."""
    rows = []
    for part in ("ingest", "process", "api"):
        r = res.get(part) or {}
        rows.append([part, num(r.get("kills"), ","), num(r.get("acknowledged"), ","), num(r.get("lost"), ","),
                     num(r.get("mismatches"), ","), num(r.get("integrity_failures"), ",")])  # fmt: skip
    t = res.get("totals") or {}
    rows.append(["**all**", num(t.get("kills"), ","), num(t.get("acknowledged"), ","), num(t.get("lost"), ","),
                 num(t.get("mismatches"), ","), num(t.get("integrity_failures"), ",")])  # fmt: skip
    body = table(["campaign", "kills", "acknowledged records", "lost", "result mismatches", "integrity failures"],
                 rows)  # fmt: skip
    kills, lost = t.get("kills"), t.get("lost")
    goal = (f"Goal: acknowledged records lost 0 over >= 100 kills: "
            f"{verdict(None if kills is None or lost is None else (lost == 0 and kills >= 100))}.")  # fmt: skip
    s = res.get("settings") or {}
    how = f"Seed {s.get('seed')}, {num(s.get('seconds'), '.0f')} s{' (CI sample)' if s.get('sample') else ''}."
    summary = f"{body}\n\n{goal} {how}"
    return Figures(f"# Reliability: kill -9 of ingest, process and the API\n\n{summary}\n", {"summary": summary})
