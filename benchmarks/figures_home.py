"""The figures of ``pyocto_home.py`` (``results/pyocto_home.json``): pure, JSON in, markdown out.

PyOcto's figures are compared only where the JSON says they were measured in the same run
(``pyocto.same_run``); where PyOcto did not run or did not finish, the table says so.
"""

from __future__ import annotations

from typing import Any

from figures import NOT_HERE, NOT_MEASURED, Figures, machine, num, table, verdict

#: The issue's goals on the peer's loads: truceline F1, and at least this many times PyOcto's speed.
F1_GOAL = {"small": 0.99, "line_3k": 0.97, "line_10k": 0.95}
SPEEDUP_GOAL = 10.0


def _peer(row: dict[str, Any]) -> dict[str, Any] | None:
    p = row.get("pyocto")
    return p if isinstance(p, dict) and p.get("same_run") else None


def _peer_cells(row: dict[str, Any]) -> list[str]:
    p = _peer(row)
    if p is None:
        return [NOT_HERE] * 2
    if not p.get("finished"):
        why = p.get("error") or f"did not finish in {num(p.get('timeout_s'), '.0f')} s"
        return [f"did not finish ({why})", "–"]
    return [f"{p['precision']:.3f} / {p['recall']:.3f} / **{p['f1']:.3f}**", f"{p['wall_s']:.1f}"]


def _speedup(row: dict[str, Any]) -> tuple[str, bool | None]:
    p, t = _peer(row), row["truceline"]
    if p is None or not p.get("finished"):
        return NOT_HERE, None
    x = p["wall_s"] / max(t["wall_s"], 1e-9)
    return f"{x:.0f}x", x >= SPEEDUP_GOAL


def _rows(loads: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, row in loads.items():
        t = row["truceline"]
        bs = t.get("by_size", {})
        goal = F1_GOAL.get(name)
        sp, sp_ok = _speedup(row)
        rows.append([
            f"`{name}`", f"{row['length_km']:.0f} km, {row['events']:,}/day, {row['false_ratio']:g}:1",
            f"{row['detections']:,}",
            f"{t['precision']:.3f} / {t['recall']:.3f} / **{t['f1']:.3f}**",
            " / ".join(num(bs.get(f"recall_{k}"), ".2f") for k in ("4-5", "6-7", "8+")),
            f"{t['wall_s']:.1f}", *_peer_cells(row), sp,
            f">= {goal}: {verdict(t['f1'] >= goal if goal is not None else None)}; speed: {verdict(sp_ok)}",
        ])  # fmt: skip
    return rows


def render(res: dict[str, Any]) -> Figures:
    """The page and the table ``home`` (truceline and PyOcto on the peer's loads, same run)."""
    loads = res.get("loads") or {}
    header = ["load", "kind", "detections", "truceline P / R / F1", "recall by size 4-5 / 6-7 / 8+",
              "truceline s", "PyOcto 0.2.2 P / R / F1 (same run)", "PyOcto s", "speed-up", "goals"]  # fmt: skip
    tab = table(header, _rows(loads)) if loads else NOT_MEASURED
    lead = (
        f"Measured on {machine(res)} (`results/pyocto_home.json`, `{res.get('command', '')}`): the loads of "
        "`../shared/bench/pyocto_simple_load.py` (seed "
        f"{res.get('seed')}), both systems graded by that script's own matching rule in the same run. "
        "Recall by size: over true events heard by 4-5, 6-7 and 8 or more sensors."
    )
    block = lead + "\n\n" + tab
    page = "# PyOcto's home ground\n\n" + block + "\n"
    return Figures(page, {"home": block})
