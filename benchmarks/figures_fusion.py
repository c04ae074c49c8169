"""The figures of ``fusion_vs_pyocto.py`` (``results/fusion_vs_pyocto.json``): pure, JSON in, markdown out.

The goals' verdicts are computed here from the measured figures (:func:`goals`), never from a
figure measured elsewhere. PyOcto counts only where the JSON says it ran in the same run as
truceline on the same load (``pyocto.same_run``, written by the script); anywhere else a peer
figure is "not measured here", and a goal against it is not evaluated.
"""

from __future__ import annotations

from typing import Any

from figures import NOT_HERE, NOT_MEASURED, Figures, machine, num, span, table, verdict

#: The issue's goals per load: event F1 and, on the line, "at least this many times faster than
#: PyOcto" (PyOcto measured in the same run on the same load).
GOALS: dict[str, dict[str, float]] = {
    "small": {"f1": 0.99},
    "line_3k": {"f1": 0.97, "speedup": 10.0},
    "line_10k": {"f1": 0.95, "speedup": 10.0},
}
MEDIAN_VS_CRB = 2.0
COVERAGE = (0.93, 0.97)
SIDE_BEYOND_2KM = 0.99
WRONG_PARTY = 0.001
LATENCY_P90_S = 10.0
#: What the peer's figures need said beside them (prose, no figure).
PEER_NOTES = (
    "PyOcto states no location uncertainty: `peer_pyocto.py` gives every event one stated σ "
    "(`SIGMA_M`), fitted to PyOcto's median location error on the `small` load, so its ellipse "
    "coverage on that load is fitted on the same load, not predicted.",
    "PyOcto reports no side of the line: its side and party figures are not comparable with truceline's.",
)


def peer(row: dict[str, Any]) -> dict[str, Any] | None:
    """PyOcto's figures on a load when they were measured in the same run as truceline's, else None."""
    p = row.get("pyocto")
    return p if isinstance(p, dict) and p.get("same_run") is True else None


def _goal(text: str, value: Any, met: bool | None) -> dict[str, Any]:
    return {"goal": text, "value": value, "met": met}


def goals(name: str, row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each goal of a load with its measured value and whether it is met (None: not measured here)."""
    t = row["truceline"]
    ratio = (t.get("vs_crb") or {}).get("median_ratio_to_crb")
    cov, side, wrong = t.get("ellipse_coverage"), t.get("side_correct_beyond_2km"), t.get("wrong_party_rate")
    p90 = (t.get("latency_s") or {}).get("p90")
    g = {
        "median_error_vs_crb": _goal(f"<= {MEDIAN_VS_CRB:g}", ratio, None if ratio is None else ratio <= MEDIAN_VS_CRB),
        "ellipse_coverage": _goal(
            f"{COVERAGE[0]}-{COVERAGE[1]}", cov, None if cov is None else COVERAGE[0] <= cov <= COVERAGE[1]
        ),
        "side_correct_beyond_2km": _goal(
            f">= {SIDE_BEYOND_2KM}", side, None if side is None else side >= SIDE_BEYOND_2KM
        ),
        "wrong_party_rate": _goal(f"<= {WRONG_PARTY}", wrong, None if wrong is None else wrong <= WRONG_PARTY),
        "latency_p90_s": _goal(f"<= {LATENCY_P90_S:g}", p90, None if p90 is None else p90 <= LATENCY_P90_S),
    }
    want = GOALS.get(name, {})
    if "f1" in want:
        g = {"f1": _goal(f">= {want['f1']}", t.get("f1"), None if t.get("f1") is None else t["f1"] >= want["f1"]), **g}
    if "speedup" in want:
        p = peer(row)
        x = round(p["wall_s"] / max(t["wall_s"], 1e-9), 1) if p else None
        g["speedup_vs_pyocto"] = _goal(
            f">= {want['speedup']:g}x faster than PyOcto", x, None if x is None else x >= want["speedup"]
        )
    return g


def _pct(v: float | None) -> str:
    return num(None if v is None else 100 * v, ".2f") + (" %" if v is not None else "")


def _loads_table(loads: dict[str, Any]) -> str:
    rows = []
    for name, row in loads.items():
        t, p, g = row["truceline"], peer(row), goals(name, row)
        f1 = g.get("f1")
        sp = g.get("speedup_vs_pyocto")
        rows.append(
            [
                f"`{name}`: {row.get('load', '')}",
                num((row.get("simulated") or {}).get("detections"), ","),
                num(t.get("f1"), ".3f"),
                num(t.get("wall_s"), ".1f"),
                f"{num(p['f1'], '.3f')} / {num(p['wall_s'], '.1f')}" if p else NOT_HERE,
                f"{f1['goal']}: {verdict(f1['met'])}" if f1 else "–",
                f"{sp['goal']}: {verdict(sp['met'])}" + (f" ({sp['value']}x)" if sp["value"] is not None else "")
                if sp
                else "–",
            ]
        )
    header = ["load", "detections", "truceline F1", "truceline s", "PyOcto F1 / s (same run)", "F1 goal", "speed goal"]
    return table(header, rows)


def _cell(g: dict[str, Any], shown: str) -> str:
    return f"{shown}, {verdict(g['met'])}"


def _quality_table(loads: dict[str, Any]) -> str:
    cols: list[list[str]] = []
    for name, row in loads.items():
        t, g = row["truceline"], goals(name, row)
        crb, lat = t.get("vs_crb") or {}, t.get("latency_s") or {}
        cols.append(
            [
                _cell(
                    g["median_error_vs_crb"],
                    f"{num(crb.get('error_median_m'), '.1f')} / {num(crb.get('crb_median_m'), '.1f')} "
                    f"({num(crb.get('median_ratio_to_crb'), '.2f')}x)",
                )
                if crb
                else NOT_MEASURED,
                f"{num(t.get('location_error_median_m'), '.0f')} / {num(t.get('location_error_p90_m'), '.0f')}",
                _cell(g["ellipse_coverage"], num(t.get("ellipse_coverage"), ".3f")),
                num(t.get("association_purity"), ".3f"),
                _cell(g["side_correct_beyond_2km"], num(t.get("side_correct_beyond_2km"), ".4f")),
                _cell(g["wrong_party_rate"], _pct(t.get("wrong_party_rate"))),
                num(t.get("pairing_f1"), ".3f"),
                f"{num(lat.get('median'), '.1f')} / {num(lat.get('p90'), '.1f')} / {num(lat.get('max'), '.1f')}; "
                f"p90 {verdict(g['latency_p90_s']['met'])}",
            ]
        )
    labels = [
        ("location error median / CRB median, m (ratio)", f"<= {MEDIAN_VS_CRB:g}x"),
        ("location error median / p90, m (scorer)", ""),
        ("95 % ellipse coverage", f"{COVERAGE[0]}-{COVERAGE[1]}"),
        ("association purity", ""),
        ("side correct > 2 km from the line", f">= {SIDE_BEYOND_2KM}"),
        ("attributed events on the wrong party", f"<= {100 * WRONG_PARTY:g} %"),
        ("pairing F1", ""),
        ("streaming latency median / p90 / max, s", f"p90 <= {LATENCY_P90_S:g} s"),
    ]
    rows = [[label, *(c[i] for c in cols), goal] for i, (label, goal) in enumerate(labels)]
    return table(["figure (truceline)", *(f"`{n}`" for n in loads), "goal"], rows)


def _peer_text(loads: dict[str, Any]) -> str:
    """How PyOcto figures in the run: same run (with its settings), another run, or not measured."""
    lines = []
    for name, row in loads.items():
        p = row.get("pyocto")
        if isinstance(p, dict) and peer(row) is None:
            lines.append(
                f"- `{name}`: the results hold PyOcto figures from another run than truceline's (no `same_run` "
                'mark): not compared; `results/fusion_vs_pyocto.md` lists them under "PyOcto from another run".'
            )
        elif p:
            shown = ", ".join(f"{k} {v}" for k, v in (p.get("settings") or {}).items())
            lines.append(f"- `{name}`: PyOcto measured in the same run on the same load; its settings: {shown}.")
    if not any(peer(r) for r in loads.values()):
        lines.append(f"- PyOcto did not run in the same run as these truceline figures: {NOT_HERE} on any load.")
    if any(isinstance(r.get("pyocto"), dict) for r in loads.values()):
        lines += [f"- {n}" for n in PEER_NOTES]
    return "\n".join(lines)


def _summary(res: dict[str, Any]) -> str:
    """One paragraph of the run's figures (for ``docs/fusion.md``)."""
    loads = res["loads"]
    ts = {n: r["truceline"] for n, r in loads.items()}
    big = max(loads, key=lambda n: (loads[n].get("simulated") or {}).get("detections") or 0)
    bt, n_det = ts[big], (loads[big].get("simulated") or {}).get("detections")
    vs = "; ".join(
        f"`{n}`: PyOcto F1 {p['f1']:.3f} in {p['wall_s']:.0f} s against truceline's {ts[n]['f1']:.3f} in "
        f"{ts[n]['wall_s']:.1f} s"
        for n, r in loads.items()
        if (p := peer(r))
    )
    lat = [t.get("latency_s") or {} for t in ts.values()]
    crb = span([(t.get("vs_crb") or {}).get("median_ratio_to_crb") for t in ts.values()], ".2f")
    side = span([t.get("side_correct_beyond_2km") for t in ts.values()], ".4f")
    wrong = [t.get("wrong_party_rate") for t in ts.values()]
    wrong_pct = span([None if w is None else 100 * w for w in wrong], ".2f", " %")
    assoc = (bt.get("timings_s") or {}).get("associate")
    return (
        f"Measured on {machine(res)} (`results/fusion_vs_pyocto.json`): a day of {num(n_det, ',')} detections "
        f"(`{big}`) in {num(bt.get('wall_s'), '.1f')} s (association {num(assoc, '.1f')} s); location median "
        f"within {crb}x of the Cramér-Rao bound; events more than 2 km from the line on the right side {side}; "
        f"attributed events on the wrong party {wrong_pct}; streaming latency median "
        f"{span([x.get('median') for x in lat], '.1f', ' s')}, p90 {span([x.get('p90') for x in lat], '.1f', ' s')}; "
        f"event F1 {span([t.get('f1') for t in ts.values()], '.3f')} over the loads "
        f"({', '.join(f'`{n}`' for n in loads)}). PyOcto: "
        + (f"{vs}; on the other loads {NOT_HERE}" if vs else f"{NOT_HERE} (it did not run in the same run)")
        + "."
    )


def _system_rows(name: str, sys_name: str, r: dict[str, Any]) -> list[str]:
    return [
        f"`{name}`",
        sys_name,
        num(r.get("f1"), ".3f"),
        num(r.get("precision"), ".3f"),
        num(r.get("recall"), ".3f"),
        num(r.get("wall_s"), ".1f"),
        num(r.get("location_error_median_m"), ".0f"),
        num(r.get("location_error_p90_m"), ".0f"),
        num(r.get("ellipse_coverage"), ".3f"),
        num(r.get("side_correct_beyond_2km"), ".4f"),
        num(r.get("wrong_party_rate"), ".4f"),
    ]


SYSTEM_HEADER = [
    "load",
    "system",
    "F1",
    "precision",
    "recall",
    "wall s",
    "loc. median m",
    "loc. p90 m",
    "ellipse cov.",
    "side >2 km",
    "wrong party",
]


def _page(res: dict[str, Any], tables: dict[str, str]) -> str:
    loads = res["loads"]
    rows = []
    for name, row in loads.items():
        rows.append(_system_rows(name, "truceline", row["truceline"]))
        if peer(row):
            rows.append(_system_rows(name, "PyOcto (same run)", row["pyocto"]))
    goal_rows = [
        [f"`{n}`", k, g["goal"], num(g["value"], ".4g"), verdict(g["met"])]
        for n, r in loads.items()
        for k, g in goals(n, r).items()
    ]
    out = [
        "# Fusion vs PyOcto",
        "",
        f"Machine: {machine(res)}. Command: `.venv/bin/python benchmarks/fusion_vs_pyocto.py`.",
        "",
        table(SYSTEM_HEADER, rows),
        "",
        table(["load", "goal", "target", "value", "verdict"], goal_rows),
        "",
    ]
    for name, row in loads.items():
        t, s, p = row["truceline"], row.get("simulated") or {}, peer(row)
        lat = {k: round(v, 1) for k, v in (t.get("latency_s") or {}).items()}
        speed = (
            f"{p['wall_s'] / max(t['wall_s'], 1e-9):.1f}x faster than PyOcto (same run)" if p else f"PyOcto {NOT_HERE}"
        )
        out.append(
            f"- `{name}`: {num(s.get('detections'), ',')} detections, {num(s.get('detectable_events'), ',')} "
            f"detectable events; fusion stages (s) {t.get('timings_s')}; streaming latency (s) {lat}; {speed}"
        )
    apart = [(n, r["pyocto"]) for n, r in loads.items() if isinstance(r.get("pyocto"), dict) and not peer(r)]
    if apart:
        out += [
            "",
            "## PyOcto from another run (not compared)",
            "",
            "These PyOcto figures are in the results without the script's `same_run` mark: they were not "
            "measured in the run of the truceline figures above, so no comparison or goal uses them.",
            "",
            table(SYSTEM_HEADER, [_system_rows(n, "PyOcto (other run)", p) for n, p in apart]),
        ]
    out += ["", "## The peer", "", tables["peer"], ""]
    return "\n".join(out)


def render(res: dict[str, Any]) -> Figures:
    """The page and the tables ``loads``, ``quality``, ``peer`` and ``summary`` (one paragraph) of a run."""
    loads = res.get("loads") or {}
    tables = {
        "loads": _loads_table(loads),
        "quality": _quality_table(loads),
        "peer": _peer_text(loads),
        "summary": _summary(res) if loads else NOT_MEASURED,
    }
    return Figures(_page(res, tables), tables)
