"""The bulletin's withdrawal section: weapons seen inside their withdrawal zone, and firing positions there.

The two sub-rules of the ``withdrawal_zone`` family (:mod:`truceline.adjudicate.withdrawal_zone`):
``withdrawal_zone.sighting`` (a weapon seen) and ``withdrawal_zone.firing`` (a located launch).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from truceline.core import Violation
from truceline.report.model import Section, Table
from truceline.report.text import count_phrase, finding_weapon, join_and, number, weapon_label, weapon_phrase
from truceline.report.view import View

__all__ = ["withdrawal_section"]


def withdrawal_section(view: View) -> Section:
    """Weapons in violation of withdrawal lines: sightings, and firing positions inside withdrawal zones."""
    d = view.data
    sec = Section("withdrawal", "Weapons in violation of withdrawal lines")
    sight = [v for v in d.violations if v.rule_id == "withdrawal_zone.sighting"]
    km = ", ".join(f"{weapon_label(k)} {v:g} km" for k, v in sorted(d.agreement.withdrawal_km.items()))
    sec.paragraphs.append(f"Withdrawal distances of the agreement, each side of the line: {km}.")
    if sight:
        _sightings(view, sec, sight)
    else:
        sec.paragraphs.append("The Mission observed no weapons in violation of the withdrawal lines.")
    fired = [v for v in d.violations if v.rule_id == "withdrawal_zone.firing"]
    if fired:
        _firings(view, sec, fired)
    else:
        sec.paragraphs.append("The Mission located no firing positions inside withdrawal zones.")
    return sec


def _sightings(view: View, sec: Section, sight: list[Violation]) -> None:
    """The weapons seen inside their withdrawal zone: a sentence by weapon and area, and a listing."""
    counts = {s.id: s.count.best for s in view.data.sightings}
    per: Counter[tuple[str, str]] = Counter()
    for v in sight:
        party = v.attribution.party
        where = f"the area controlled by {party.value}" if party else "an area not established"
        per[(v.weapon_class.value if v.weapon_class else "unknown", where)] += (
            sum(counts.get(o, 1) for o in v.observation_ids) or 1
        )
    sec.paragraphs.append(
        "In violation of the respective withdrawal lines, the Mission observed: "
        + join_and([f"{weapon_phrase(n, w)} in {where}" for (w, where), n in sorted(per.items())])
        + "."
    )
    shown = sight[: view.max_rows]
    rows: list[list[Any]] = []
    for v in shown:
        p = v.rule_parameters
        rows.append(
            [
                view.t(v.time),
                finding_weapon(v),
                sum(counts.get(o, 1) for o in v.observation_ids) or 1,
                view.place(v.position.lon_deg, v.position.lat_deg),
                number(p.get("distance_km")),
                number(p.get("withdrawal_km")),
                view.grade(v),
                v.status.value,
                view.ref(v),
            ]
        )
    columns = ["Time", "Weapon", "Count", "Place", "From line (km)", "Limit (km)", "Area (as graded)", "Status",
               "Reference"]  # fmt: skip
    sec.tables.append(
        Table(
            "Weapons seen inside their withdrawal zone",
            columns,
            rows,
            note=view.listing_note(len(shown), len(sight)),
            css="small",
        )
    )


def _firings(view: View, sec: Section, fired: list[Violation]) -> None:
    """The located firing positions inside withdrawal zones, by weapon class and origin area."""
    parties = list(view.data.agreement.parties)
    by_w: dict[str, Counter[str]] = {}
    for v in fired:
        w = v.weapon_class.value if v.weapon_class else "unspecified"
        by_w.setdefault(w, Counter())[v.attribution.party.value if v.attribution.party else ""] += 1
    rows: list[list[Any]] = [
        [weapon_label(w), *(c[p] for p in parties), c[""], sum(c.values())] for w, c in sorted(by_w.items())
    ]
    sec.paragraphs.append(
        f"The Mission located {count_phrase(len(fired), 'firing position')} inside the withdrawal zone of the "
        "weapon's class (launch points; the area is the origin area as graded)."
    )
    sec.tables.append(
        Table(
            "Firing positions inside withdrawal zones, by weapon class",
            ["Weapon class", *(f"Origin area: {p}" for p in parties), "Area not established", "Total"],
            rows,
            total=[
                "Total",
                *(sum(r[1 + i] for r in rows) for i in range(len(parties))),
                sum(r[-2] for r in rows),
                len(fired),
            ],
        )
    )
