"""The figures of ``geo_points.py`` (``results/geo_points.json``): pure, JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, machine, num, table, verdict


def render(res: dict[str, Any]) -> Figures:
    """The page and the ``summary`` table of a geometry-engine run.

    The goal's verdict is computed here from the measured throughput and the goal the run holds.
    """
    times = res.get("query_s") or []
    best = min(times) if times else None
    pps, goal = res.get("points_per_s"), res.get("goal_points_per_s")
    met = None if pps is None or goal is None else pps >= goal
    bbox = res.get("bbox") or []
    where = f" over {bbox[0]}-{bbox[2]}°E, {bbox[1]}-{bbox[3]}°N" if len(bbox) == 4 else ""
    rows = [
        ["line", f"{res.get('line_version')}, {num(res.get('line_length_km'), ',')} km", ""],
        ["points", f"{num(res.get('points'), ',')} uniform random{where}", ""],
        ["engine build (once per line version)", f"{num(res.get('engine_build_s'), '.2f')} s", ""],
        [
            f"query of all points, best of {len(times)} (each: {', '.join(f'{t:.2f}' for t in times)} s)",
            f"{num(best, '.2f')} s",
            "",
        ],
        ["throughput", f"{num(pps, ',')} points/s", f">= {num(goal, ',')} points/s: {verdict(met)}"],
        [
            f"naive per-point Shapely loop ({num(res.get('naive_sample_points'), ',')} points)",
            f"{num(res.get('naive_points_per_s'), ',')} points/s",
            "",
        ],
        ["speed-up over the naive loop", f"{num(res.get('speedup_vs_naive'))}x", ""],
        ["machine, day", machine(res), ""],
    ]
    summary = table(["figure", "measured", "goal"], rows)
    page = f"# Geometry engine: side, signed distance and every zone\n\n{summary}\n"
    return Figures(page, {"summary": summary})
