"""The figures of ``reprocess.py`` (``results/reprocess.json``): pure, JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, machine, num, table


def render(res: dict[str, Any]) -> Figures:
    """The page and the ``runs`` table: wall time, speed-up and identity with the serial run, per cluster."""
    arc = res.get("archive") or {}
    rows = [
        [
            str(r.get("label")),
            f"`{r.get('cluster')}`",
            num(r.get("windows"), ","),
            num(r.get("wall_s"), ",.1f"),
            num(r.get("speedup"), ".2f"),
            "yes" if r.get("identical_to_serial") else "**no**",
            num(r.get("events"), ","),
            num(r.get("incidents"), ","),
            num(r.get("violations"), ","),
        ]
        for r in res.get("runs") or []
    ]
    m = res.get("machine") or {}
    load = m.get("loadavg_start")
    body = table(
        [
            "run",
            "--cluster",
            "windows",
            "wall s",
            "speed-up",
            "identical to serial",
            "events",
            "incidents",
            "violations",
        ],
        rows,
    )
    body += (
        f"\n\n{num(res.get('days'), 'g')} simulated days of one sector ({num(res.get('rounds_per_day'), ',')} rounds a "
        f"day; {num(arc.get('detections'), ',')} detections), processed once, then reprocessed whole from a copy "
        "of that archive by each run; wall time includes starting the Dask cluster. Identical: the current events, "
        "incidents and violations as canonical JSON, ids included. "
        f"Load average at the start {num(load[0] if load else None, '.2f')}. {machine(res)}."
    )
    failures = res.get("failures") or []
    if failures:
        body += "\n\nFailures: " + "; ".join(str(f) for f in failures)
    return Figures(f"# Archive reprocessing\n\n{body}\n", {"runs": body})
