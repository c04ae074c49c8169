"""The bulletin's attribution section: findings by grade and party, by rule family, and the party grades.

Attribution is worded only as graded, with the grade's own evidence; nothing here adds blame.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from truceline.agreement.families import FAMILIES
from truceline.core import Violation
from truceline.core.enums import AttributionLevel
from truceline.report.model import Section, Table
from truceline.report.text import FAMILY_SHORT, LEVEL_LABELS, count_phrase, join_and
from truceline.report.view import LEVELS, View

__all__ = ["attribution_section"]

#: Families that are not about fire (restrictions, interference): their findings attributed at the
#: grade "party" are listed in their own sections, not with the fire findings.
_NOT_FIRE = tuple(f.id for f in FAMILIES if not f.fire)


def attribution_section(view: View) -> Section:
    """Attribution as graded, never more: counts per grade and party, and the evidence of party grades."""
    d = view.data
    sec = Section("attribution", "Attribution")
    sec.paragraphs.append(
        "Attribution is graded and states no more than its evidence: unattributed (the default, and an honest "
        "answer); direction of fire (a bearing or crater analysis); origin area (the located point of origin lies, "
        "with the probability shown, in the area the named party controls: this establishes where the fire came "
        "from, not who fired); party (responsibility established, e.g. a restriction a patrol reports the party "
        "imposed). Every grade above unattributed cites its evidence."
    )
    if not d.violations:
        sec.paragraphs.append("No findings to attribute in the reporting period.")
        return sec
    sec.tables.append(_by_grade(view))
    sec.tables.append(_by_family(view))
    origin = [v for v in d.violations if v.attribution.level is AttributionLevel.ORIGIN_AREA]
    if origin:
        probs = [v.attribution.probability for v in origin if v.attribution.probability is not None]
        per = Counter(v.attribution.party.value if v.attribution.party else "none" for v in origin)
        sec.paragraphs.append(
            f"{count_phrase(len(origin), 'finding')} carry the grade origin area ("
            + join_and([f"{n:,} in the area controlled by {p}" for p, n in sorted(per.items())])
            + (f"; lowest probability {min(probs):.3f}" if probs else "")
            + "). They are not attributions to a party."
        )
    party = [
        v for v in d.violations if v.attribution.level is AttributionLevel.PARTY and not v.rule_id.startswith(_NOT_FIRE)
    ]
    if party:
        sec.tables.append(_party_findings(view, party))
    else:
        sec.paragraphs.append(
            "No finding of fire was attributed at the grade 'party'. Restrictions of movement and interference with "
            "monitoring assets attributed at that grade are listed in their sections, with the reports they rest on."
        )
    return sec


def _by_grade(view: View) -> Table:
    """Findings by attribution grade and the party the grade names."""
    d = view.data
    parties = list(d.agreement.parties)
    rows: list[list[Any]] = []
    for lv in LEVELS:
        sel = [v for v in d.violations if v.attribution.level.value == lv]
        per = Counter(v.attribution.party.value if v.attribution.party else "" for v in sel)
        rows.append([LEVEL_LABELS[lv], *(per[p] for p in parties), per[""], len(sel)])
    return Table(
        "Findings by attribution grade",
        ["Grade", *(f"Party named: {p}" for p in parties), "No party named", "Total"],
        rows,
        total=[
            "Total",
            *(sum(r[1 + i] for r in rows) for i in range(len(parties))),
            sum(r[-2] for r in rows),
            len(d.violations),
        ],
    )


def _by_family(view: View) -> Table:
    """Findings by rule family (ids sorted) and attribution grade."""
    d = view.data
    rows = []
    for f in sorted(set(view.families.tolist())):
        sel = [v for v, fam in zip(d.violations, view.families, strict=True) if fam == f]
        c = Counter(v.attribution.level.value for v in sel)
        rows.append([FAMILY_SHORT.get(f, f), *(c[lv] for lv in LEVELS), len(sel)])
    columns = ["Rule family", *(LEVEL_LABELS[lv] for lv in LEVELS), "Total"]
    return Table("Attribution grade by rule family", columns, rows)


def _party_findings(view: View, party: list[Violation]) -> Table:
    """The fire findings attributed at the grade "party", with their evidence (cut at ``view.max_rows``)."""
    shown = party[: view.max_rows]
    return Table(
        "Fire findings attributed at the grade 'party', with their evidence",
        ["Time", "Rule", "Party", "Evidence", "Status", "Reference"],
        [
            [
                view.t(v.time),
                v.rule_id,
                v.attribution.party.value if v.attribution.party else "-",
                view.evidence(v),
                v.status.value,
                view.ref(v),
            ]
            for v in shown
        ],
        note=view.listing_note(len(shown), len(party)),
        css="small",
    )
