"""The figures of ``band_attribution.py`` (``results/band_attribution.json``): pure, JSON in, markdown out."""

from __future__ import annotations

from typing import Any

from figures import Figures, machine, num, table

LABEL = {"disagree": "sources disagree most", "agree": "sources agree most", "all": "both stretches"}


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _change_row(what: str, key: str, c: dict[str, Any]) -> list[str]:
    share = c.get("share_by_kind") or {}
    return [
        what,
        LABEL.get(key, key),
        num(c.get("n"), ","),
        f"{num(c.get('attributed_plain'), ',')} → {num(c.get('attributed_band'), ',')}",
        f"**{_pct(c.get('changed_share'))}** ({num(c.get('changed'), ',')})",
        _pct(share.get("attributed_to_unattributed")),
        _pct(share.get("unattributed_to_attributed")),
        _pct(share.get("flipped")),
    ]


CHANGE_HEADER = [
    "records",
    "stretch",
    "n",
    "attributed: fixed margin → band",
    "attribution changed",
    "attributed → unattributed",
    "unattributed → attributed",
    "party flipped",
]


def changes(res: dict[str, Any]) -> str:
    """Events' attribution and incidents' blame, fixed margin against band, per stretch and in all."""
    comp = res.get("compare") or {}
    rows = []
    for what, label in (("events", "events (side)"), ("incidents", "incidents (blame)")):
        c = comp.get(what) or {}
        by = c.get("by_stretch") or {}
        rows += [_change_row(label, k, by[k]) for k in ("disagree", "agree") if k in by]
        if c.get("all"):
            rows.append(_change_row(label, "all", c["all"]))
    return table(CHANGE_HEADER, rows)


def stretches(res: dict[str, Any]) -> str:
    """The two stretches simulated: where, and the band along them and where the simulated events are."""
    at = (res.get("band_at_events") or {}).get("by_stretch") or {}
    rows = []
    for key, s in (res.get("stretches") or {}).items():
        e = at.get(key) or {}
        c = s.get("centre") or {}
        rows.append(
            [
                LABEL.get(key, key),
                f"{num(c.get('lon'), '.4f')},{num(c.get('lat'), '.4f')}",
                num(s.get("pieces"), ","),
                f"{num(s.get('band_median_km'), '.2f')} / {num(s.get('band_p90_km'), '.2f')}",
                num(e.get("n"), ","),
                f"{num(e.get('median_km'), '.2f')} / {num(e.get('p90_km'), '.2f')}",
            ]
        )
    e = (res.get("band_at_events") or {}).get("all") or {}
    rows.append(
        [
            LABEL["all"],
            "",
            "",
            "",
            num(e.get("n"), ","),
            f"{num(e.get('median_km'), '.2f')} / {num(e.get('p90_km'), '.2f')}",
        ]
    )
    header = [
        "stretch",
        "centre lon,lat",
        "band pieces",
        "band median / p90 km",
        "simulated events",
        "band at the events: median / p90 km",
    ]
    return table(header, rows)


def scores(res: dict[str, Any]) -> str:
    """Both runs graded against the simulation's truth (``truceline score``)."""
    rows = []
    for run, label in (("plain", f"fixed {num(res.get('fixed_margin_km'), 'g')} km margin"), ("band", "band")):
        f = (res.get("fusions") or {}).get(run) or {}
        side, inc = f.get("side_of_line") or {}, f.get("incidents") or {}
        rows.append(
            [
                label,
                f"{num(side.get('n_attributed'), ',')} of {num(side.get('n_matched'), ',')}",
                f"{num(side.get('n_wrong_party'), ',')} ({_pct(side.get('wrong_party_rate'))})",
                f"{_pct(side.get('side_correct_beyond_2km'))} of {num(side.get('n_beyond_2km'), ',')}",
                f"{num(inc.get('n_blamed'), ',')} of {num(inc.get('n_linked'), ',')}",
                f"{num(inc.get('n_wrong_blame'), ',')} ({_pct(inc.get('wrong_blame_rate'))})",
            ]
        )
    header = ["run", "events attributed (matched)", "wrong party", "correct side > 2 km from the line",
              "incidents blamed (linked)", "wrong blame"]  # fmt: skip
    return table(header, rows)


def _same(res: dict[str, Any]) -> str:
    comp = res.get("compare") or {}
    parts = []
    for what in ("events", "incidents"):
        c = comp.get(what) or {}
        runs = f"{num(c.get('plain'), ',')} / {num(c.get('band'), ',')}"
        parts.append(f"{num(c.get('in_both'), ',')} {what} in both runs (of {runs})")
    return "Matched by id: " + " and ".join(parts)


def _note(res: dict[str, Any]) -> str:
    src = res.get("band_sources") or {}
    sc = res.get("scenario") or {}
    act = sc.get("activity") or {}
    sim = res.get("simulated") or {}
    sec = res.get("seconds") or {}
    return (
        f"Band: the {src.get('agreed')} line ({src.get('agreed_date')}) against {src.get('other')} "
        f"({src.get('other_date')}), pieces of {num(res.get('band_step_km'), 'g')} km. Stretches: "
        f"{num(res.get('stretch_km'), 'g')} consecutive pieces with the highest and the lowest mean band, at least "
        f"{num(res.get('apart_km'), 'g')} km apart. One simulated day from {sc.get('start')} on both (seed "
        f"{sc.get('seed')}, {num(act.get('rounds_per_day'), 'g')} rounds a day, network and activity as "
        f"`scenarios/steady.yaml`): {num(sim.get('sensors'), ',')} sensors, {num(sim.get('rounds'), ',')} rounds, "
        f"{num(sim.get('truth_events'), ',')} events. Fused twice, the agreement differing only by the band: "
        f"without it, P(side) from the position alone and a fixed {num(res.get('fixed_margin_km'), 'g')} km blame "
        f"margin; with it, the line's error (band/√2) added and the band (at least "
        f"{num(res.get('band_floor_km'), 'g')} km) as the margin. {_same(res)}; a change is one of party or "
        "none. The simulation's truth is drawn on the agreed line "
        "itself (the line has no error here), so the band cannot correct an attribution in this test: it shows what "
        "the band withholds where the sources disagree, and what a margin below the fixed one allows where they "
        "agree. "
        f"Simulation {num(sec.get('simulate'), 'g')} s, fusions "
        f"{num(sec.get('fuse_plain'), 'g')} s and {num(sec.get('fuse_band'), 'g')} s, whole script "
        f"{num(res.get('wall_s'), 'g')} s; {machine(res)}."
    )


def render(res: dict[str, Any]) -> Figures:
    """The page and the ``summary`` table: attribution changes, the stretches' band, both runs graded."""
    summary = f"{changes(res)}\n\n{stretches(res)}\n\n{scores(res)}\n\n{_note(res)}"
    page = f"# Attribution with the band instead of the fixed margin\n\n{summary}\n"
    return Figures(page, {"summary": summary})
