"""The figures of ``line_sources.py`` (``results/line_sources.json``): pure, JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, machine, num, table


def _row(name: str, src: dict[str, Any], cmp: dict[str, Any] | None) -> list[str]:
    c = cmp or {}
    selection = f"--preset {src['preset']}" if src.get("preset") else "every feature"
    return [
        name,
        f"{src.get('date')}, {selection}",
        f"{num(src.get('used'), ',')} of {num(src.get('features'), ',')}",
        num(src.get("holes_filled"), ","),
        num(src.get("line_km"), ",.0f"),
        num(src.get("area_km2"), ",.0f"),
        num(c.get("median_km"), ".2f"),
        num(c.get("p90_km"), ".1f"),
        num(c.get("max_km"), ",.0f"),
        "–" if c.get("within_1km") is None else f"{100 * c['within_1km']:.0f} %",
        num(c.get("phantom_km"), ",.0f"),
        "plausible" if not src.get("implausible") else "**refused**",
    ]


HEADER = [
    "source",
    "date, selection",
    "features used",
    "holes filled",
    "line km",
    "RU area km²",
    "median km",
    "p90 km",
    "max km",
    "within 1 km",
    "phantom km",
    "bounds",
]


def render(res: dict[str, Any]) -> Figures:
    """The page and the ``summary`` table: per source, the derived line and its distances to the reference."""
    sources = res.get("sources") or []
    ref = res.get("reference") or {}
    cross = res.get("cross") or {}
    by_id = {s.get("id"): s for s in sources}
    rows = [_row(s.get("id", "?"), s, s.get("vs_daily")) for s in sources]
    for key, c in cross.items():
        first = key.split(" vs ")[0]
        src = dict(by_id.get(first.replace(" unfilled", ""), {}))
        if " unfilled" in first:
            src.update(res.get("unfilled_deepstate_preset") or {})
        rows.append(_row(key, src, c))
    summary = table(HEADER, rows)
    summary += (
        f"\n\nDistances: the line sampled every {num(res.get('step_m'), 'g')} m, each sample to the other line "
        f'(rows without "vs": the DeepState daily snapshot {ref.get("file")}, {ref.get("date")}, the nearest '
        f"available). Phantom: samples more than {num(res.get('phantom_km'), 'g')} km from the other line and "
        f"behind it (inside its RU area). Holes below {num(res.get('fill_holes_km2'), 'g')} km² filled, except "
        f'"unfilled". {machine(res)}.'
    )
    page = f"# Line of contact from real exports\n\n{summary}\n"
    return Figures(page, {"summary": summary})
