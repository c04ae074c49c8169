"""The figures of ``line_sources.py`` (``results/line_sources.json``): pure, JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, machine, num, table, verdict


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


def _band_rows(res: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for key, b in (res.get("bands") or {}).items():
        other = next(iter((b.get("by_source") or {}).values()), {})
        rev = other.get("reverse") or {}
        rows.append(
            [
                key,
                f"{b.get('reference_date')} vs {other.get('date')}",
                num(b.get("line_km"), ",.0f"),
                num(b.get("segments"), ","),
                num(b.get("median_km"), ".2f"),
                num(b.get("p90_km"), ".2f"),
                num(b.get("max_km"), ".1f"),
                "–" if b.get("within_1km") is None else f"{100 * b['within_1km']:.0f} %",
                f"{num(rev.get('median_km'), '.2f')} / {num(rev.get('p90_km'), '.2f')}",
            ]
        )
    return rows


BAND_HEADER = [
    "agreed line vs other",
    "dates",
    "line km",
    "pieces",
    "band median km",
    "band p90 km",
    "max km",
    "within 1 km",
    "other line to agreed: median / p90 km",
]


def _largest(c: dict[str, Any], unit: str) -> str:
    big = c.get("largest")
    if not big:
        return "none"
    return (
        f"{c.get('count'):,}; largest {big['value']:.4g} {unit} at {big['lon']:.4f},{big['lat']:.4f} ({big['layer']})"
    )


def _check_rows(res: dict[str, Any]) -> list[list[str]]:
    rows: list[list[str]] = []
    for name, c in (res.get("checks") or {}).items():
        o, s, f = c.get("overlap") or {}, c.get("sliver") or {}, c.get("far_line") or {}
        rows.append(
            [
                name,
                f"{_largest(o, 'km²')}; {num(o.get('total'), '.4g')} km² in all" if o.get("count") else "none",
                f"{_largest(s, 'km²')}; {num(s.get('total'), '.4g')} km² in all" if s.get("count") else "none",
                _largest(f, "km") if f.get("count") else "none",
            ]
        )
    return rows


def band(res: dict[str, Any]) -> str:
    """The ``band`` table: the disagreement band between the 2023 exports, each way, and the checks."""
    th = res.get("check_thresholds") or {}
    text = table(BAND_HEADER, _band_rows(res))
    text += (
        f"\n\nBand: the agreed line cut into pieces of at most {num(res.get('band_step_km'), 'g')} km; each piece's "
        "midpoint to the other source's line (last column: the other line sampled alike, to the agreed one).\n\n"
    )
    text += table(
        ["agreement", "overlaps (warnings)", "slivers (warnings)", "line far from the shared boundary"],
        _check_rows(res),
    )
    text += (
        f"\n\nChecks of `agreement validate` with its defaults: slivers below {num(th.get('sliver_km2'), 'g')} km² and "
        f"{num(th.get('sliver_width_m'), 'g')} m of mean width, line more than {num(th.get('far_km'), 'g')} km from "
        f"the boundary both areas share. {machine(res)}."
    )
    return text


OWN_HEADER = [
    "source",
    "date, selection",
    "holes filled",
    "line km",
    "facing boundary km",
    "vertices",
    "vertex to boundary: max / p99 m",
    "vertices within 1 km",
    "phantom km (pieces)",
    "Hausdorff to facing part km",
    "line on the source's holes km",
    "goal",
]


def own_met(o: dict[str, Any], near_km: float) -> bool | None:
    """Every vertex within ``near_km`` of the own boundary and no line farther than that (None: not measured)."""
    if o.get("vertex_max_m") is None or o.get("phantom_km") is None:
        return None
    return o["vertex_max_m"] <= 1000.0 * near_km and o["phantom_km"] == 0


def _own_rows(res: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    rows = [(s.get("id", "?"), s, s.get("vs_own") or {}) for s in res.get("sources") or []]
    unfilled = res.get("unfilled_deepstate_preset") or {}
    if unfilled.get("vs_own"):
        first = next((s for s in res.get("sources") or [] if s.get("id") == "deepstate-raw-preset"), {})
        rows.append(("deepstate-raw-preset unfilled", first | unfilled, unfilled["vs_own"]))
    return rows


def own(res: dict[str, Any]) -> str:
    """The ``own`` table: each derived line against the boundary of the control area it was derived from."""
    near = res.get("own_near_km") or 1.0
    rows, verdicts = [], []
    for name, src, o in _own_rows(res):
        selection = f"--preset {src['preset']}" if src.get("preset") else "every feature"
        met = own_met(o, near)
        verdicts.append(f"{name} {verdict(met)}")
        rows.append(
            [
                name,
                f"{src.get('date')}, {selection}",
                num(src.get("holes_filled"), ","),
                num(o.get("line_km"), ",.1f"),
                num(o.get("facing_km"), ",.1f"),
                num(o.get("vertices"), ","),
                f"{num(o.get('vertex_max_m'), '.3f')} / {num(o.get('vertex_p99_m'), '.3f')}",
                "–" if o.get("vertex_within_1km") is None else f"{100 * o['vertex_within_1km']:.1f} %",
                f"{num(o.get('phantom_km'), ',.3f')} ({num(o.get('phantom_pieces'), ',')})",
                num(o.get("hausdorff_facing_km"), ".3f"),
                num(o.get("hole_edge_km"), ",.1f"),
                verdict(met),
            ]
        )
    text = table(OWN_HEADER, rows)
    text += (
        "\n\nOwn source: the boundary of the union of the polygons the derivation read (same selection, repairs and "
        f'holes below {num(res.get("fill_holes_km2"), "g")} km² filled, none for "unfilled"). Vertex distances are '
        f"geodesic, from each vertex of the derived line to its nearest point of the whole boundary. Phantom: the "
        f"derived line lying more than {num(near, 'g')} km from that boundary. Hausdorff: between the derived line and "
        "the boundary's part facing the other party, taken as the boundary inside the country outline less the "
        "stretches within the derivation's border tolerance of the outline (border and coast), both densified every "
        f"{num(res.get('step_m'), 'g')} m. Last column: derived line along the holes of that union, part of the "
        "boundary (so never phantom here) but no front when the holes are slivers between layers.\n\n"
        f"Goal (every vertex within {num(near, 'g')} km and no phantom segment, i.e. no stretch of line more than "
        f"{num(near, 'g')} km from the source's boundary): {'; '.join(verdicts)}. {machine(res)}."
    )
    return text


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
    tables = {"summary": summary}
    page = f"# Line of contact from real exports\n\n{summary}\n"
    if any(s.get("vs_own") for s in sources):
        tables["own"] = own(res)
        page += f"\n## Each line against its own source\n\n{tables['own']}\n"
    if res.get("bands") or res.get("checks"):
        tables["band"] = band(res)
        page += f"\n## Disagreement band and checks\n\n{tables['band']}\n"
    return Figures(page, tables)
