"""The figures of ``sim_day.py`` (``results/sim_day.json``): pure, JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, machine, num, table, verdict


def render(res: dict[str, Any]) -> Figures:
    """The page and the ``summary`` table of a simulated day; the goal's verdict from the measured wall time."""
    c = res.get("counts") or {}
    wall, goal = res.get("wall_s"), res.get("goal_s")
    met = None if wall is None or goal is None else wall <= goal
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in (res.get("timings_s") or {}).items())
    rows = [
        ["scenario", f"`{res.get('scenario')}`", ""],
        ["sensors", num(c.get("sensors"), ","), ""],
        ["rounds / true events", f"{num(c.get('rounds'), ',')} / {num(c.get('truth_events'), ',')}", ""],
        ["detectable events (>= 3 sensors)", num(c.get("truth_detectable_events"), ","), ""],
        ["detections (of which false)", f"{num(c.get('detections'), ',')} ({num(c.get('false_detections'), ',')})", ""],
        [
            "observer reports / sightings / claims",
            f"{num(c.get('observer_reports'))} / {num(c.get('sightings'))} / {num(c.get('claims'))}",
            "",
        ],
        ["true violations", num(c.get("truth_violations"), ","), ""],
        ["wall time", f"{num(wall, '.1f')} s", f"<= {num(goal, '.0f')} s: {verdict(met)}"],
        ["stages", stages or "–", ""],
        ["output", f"{num(res.get('output_mb'), '.0f')} MB", ""],
        ["machine, day", machine(res), ""],
    ]
    summary = table(["figure", "measured", "goal"], rows)
    page = f"# Simulator: a day on the whole line\n\n{summary}\n"
    return Figures(page, {"summary": summary})
